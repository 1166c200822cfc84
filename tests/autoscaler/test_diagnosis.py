"""Diagnosis: each policy problem reproduced on a small cluster, found with its check id; a healthy one
yields none."""

from __future__ import annotations

import dataclasses

from builders import daemonset_pod, node, pod, small_catalog
from kubewise.autoscaler import AutoscalerPolicy, scale_up
from kubewise.autoscaler.diagnosis import Problem, RecentAction, Rightsizing, diagnose
from kubewise.model import LabelSelector, Pod, PodDisruptionBudget, Snapshot
from kubewise.optimizer import Constraints

ALL_ON = AutoscalerPolicy(
    enabled=True,
    unschedulable_pods=True,
    node_downscaler=True,
    empty_nodes=True,
    empty_delay_seconds=300,
    spot=True,
    spot_diversity=True,
    spot_diversity_price_increase_limit_percent=25,
    spot_backups=True,
    evictor=True,
)
NOW = 1_000_000.0


def _on(p: Pod, name: str) -> Pod:
    return dataclasses.replace(p, node_name=name, phase="Running")


def _healthy() -> Snapshot:
    """Two nodes, each running a replica of web and of api: nothing pending, nothing empty."""
    nodes = (node("n1", "m.xlarge", 4000, 16), node("n2", "m.xlarge", 4000, 16))
    pods = [_on(pod(f"{app}-{i}", 1500, 4, app=app), f"n{i + 1}") for app in ("web", "api") for i in range(2)]
    pods += [_on(daemonset_pod(f"agent-{i}"), f"n{i + 1}") for i in range(2)]
    return Snapshot(nodes, tuple(pods))


def _checks(problems: tuple[Problem, ...]) -> list[str]:
    return [p.check for p in problems]


def _one(problems: tuple[Problem, ...], check: str) -> Problem:
    found = [p for p in problems if p.check == check]
    assert len(found) == 1, _checks(problems)
    return found[0]


def test_a_healthy_cluster_with_everything_on_has_no_problem() -> None:
    assert diagnose(_healthy(), small_catalog(), ALL_ON, NOW) == ()


def _with_pending(snapshot: Snapshot, *pending: Pod) -> Snapshot:
    return dataclasses.replace(snapshot, pods=snapshot.pods + pending)


def test_pending_pods_with_unschedulable_pods_off() -> None:
    snap = _with_pending(_healthy(), pod("big-0", 3000, 4, app="big"), pod("big-1", 3000, 4, app="big"))
    off = dataclasses.replace(ALL_ON, unschedulable_pods=False)
    problem = _one(diagnose(snap, small_catalog(), off, NOW), "policy.unschedulable-pods-disabled")
    assert problem.severity == "error" and "unschedulablePods.enabled" in problem.cause
    assert problem.evidence == ("default/big-0", "default/big-1")
    all_off = diagnose(snap, small_catalog(), AutoscalerPolicy(), NOW)
    assert "`enabled`" in _one(all_off, "policy.unschedulable-pods-disabled").cause
    assert "policy.unschedulable-pods-disabled" not in _checks(diagnose(snap, small_catalog(), ALL_ON, NOW))


def test_pods_that_fit_an_existing_node_are_not_a_problem() -> None:
    snap = _with_pending(_healthy(), pod("small", 200, 1, app="small"))
    assert diagnose(snap, small_catalog(), dataclasses.replace(ALL_ON, unschedulable_pods=False), NOW) == ()


def test_max_cores_reached_says_by_how_many_cores() -> None:
    pending = [pod(f"big-{i}", 3000, 4, app="big") for i in range(3)]
    snap = _with_pending(_healthy(), *pending)
    limited = dataclasses.replace(ALL_ON, spot=False, cluster_limits=True, min_cores=1, max_cores=10)
    problem = _one(diagnose(snap, small_catalog(), limited, NOW), "policy.cluster-limit-reached")
    # what scale-up plans for the same pods with no limit: the cores the limit is compared with
    probe = scale_up(snap, small_catalog(), Constraints(), dataclasses.replace(limited, cluster_limits=False))
    needed = sum(a.count * a.vcpu for a in probe.actions)
    assert needed > 0
    assert f"need {8 + needed - 10} core(s) more" in problem.title
    assert f"raise clusterLimits.cpu.maxCores to at least {8 + needed}" in problem.fix
    roomy = dataclasses.replace(limited, max_cores=8 + needed)
    assert "policy.cluster-limit-reached" not in _checks(diagnose(snap, small_catalog(), roomy, NOW))


def test_a_pod_outside_the_template_architecture_is_too_narrow_and_a_type_would_fit() -> None:
    arm = pod("arm-job", 1000, 2, app="arm", node_selector={"kubernetes.io/arch": "arm64"})
    problem = _one(
        diagnose(_with_pending(_healthy(), arm), small_catalog(), ALL_ON, NOW),
        "policy.node-template-too-narrow",
    )
    assert problem.evidence == ("default/arm-job",)
    assert "no allowed instance type" in problem.cause  # the scheduling module's reason
    assert "mg.xlarge (arm64" in problem.cause and "too narrow" in problem.cause


def test_a_pod_no_catalog_type_runs_is_reported_with_the_reason() -> None:
    huge = pod("huge", 64000, 8, app="huge")
    problem = _one(
        diagnose(_with_pending(_healthy(), huge), small_catalog(), ALL_ON, NOW),
        "policy.node-template-too-narrow",
    )
    assert "cpu" in problem.cause and "would run it either" in problem.cause
    assert "lower the pods' requests" in problem.fix


def _pdb_cluster(min_available: int) -> Snapshot:
    nodes = tuple(node(f"n{i}", "m.xlarge", 4000, 16) for i in (1, 2, 3))
    pods = (
        _on(pod("web-0", 500, 1, app="web"), "n1"),
        _on(pod("web-1", 500, 1, app="web"), "n3"),
        _on(pod("api-0", 500, 1, app="api"), "n1"),
        _on(pod("api-1", 500, 1, app="api"), "n2"),
    )
    pdb = PodDisruptionBudget(
        "default", "web-pdb", LabelSelector((("app", "web"),)), min_available=min_available
    )
    return Snapshot(nodes, pods, (pdb,))


def test_a_pdb_without_disruptions_blocks_removing_nodes_whose_pods_fit_elsewhere() -> None:
    problems = diagnose(_pdb_cluster(2), small_catalog(), ALL_ON, NOW)
    problem = _one(problems, "policy.pdb-blocks-scale-down")
    # n1 and n3 each hold a web pod and their pods fit on the others; n2 holds no web pod
    assert problem.evidence == ("pdb: default/web-pdb", "node: n1", "node: n3")
    assert "default/web-pdb allows 0 disruption(s)" in problem.cause and "keeps 2 node(s)" in problem.title
    assert "policy.pdb-blocks-scale-down" not in _checks(
        diagnose(_pdb_cluster(1), small_catalog(), ALL_ON, NOW)
    )
    no_evictor = dataclasses.replace(ALL_ON, evictor=False)
    assert "policy.pdb-blocks-scale-down" not in _checks(
        diagnose(_pdb_cluster(2), small_catalog(), no_evictor, NOW)
    )


def test_a_pdb_on_a_node_whose_pods_fit_nowhere_else_is_not_the_blocker() -> None:
    snap = _pdb_cluster(2)
    big = _on(pod("web-1", 3800, 1, app="web"), "n3")  # no other node has 3.8 cores free
    snap = dataclasses.replace(snap, pods=tuple(big if p.name == "web-1" else p for p in snap.pods))
    problem = _one(diagnose(snap, small_catalog(), ALL_ON, NOW), "policy.pdb-blocks-scale-down")
    assert problem.evidence == ("pdb: default/web-pdb", "node: n1")


def test_empty_nodes_kept_by_the_switch_or_a_long_delay() -> None:
    snap = _healthy()
    snap = dataclasses.replace(
        snap,
        nodes=(*snap.nodes, node("idle", "m.xlarge", 4000, 16)),
        pods=(*snap.pods, _on(daemonset_pod("agent-x"), "idle")),
    )
    off = dataclasses.replace(ALL_ON, node_downscaler=False)
    problem = _one(
        diagnose(snap, small_catalog(), off, NOW, empty_since={"idle": NOW - 900}), "policy.empty-nodes-kept"
    )
    assert "nodeDownscaler.enabled" in problem.cause and problem.evidence == ("idle: empty for 900s",)
    slow = dataclasses.replace(ALL_ON, empty_delay_seconds=7200)
    assert "7200s" in _one(diagnose(snap, small_catalog(), slow, NOW), "policy.empty-nodes-kept").cause
    assert "policy.empty-nodes-kept" not in _checks(diagnose(snap, small_catalog(), ALL_ON, NOW))


def test_spot_fallbacks_with_diversity_off_or_a_low_limit() -> None:
    recent = (RecentAction("add-nodes", "done", "on-demand", spot_fallback=True, pods=("default/web-9",)),)
    for tight in (
        dataclasses.replace(ALL_ON, spot_diversity=False),
        dataclasses.replace(ALL_ON, spot_diversity_price_increase_limit_percent=10),
    ):
        problem = _one(
            diagnose(_healthy(), small_catalog(), tight, NOW, recent=recent),
            "policy.spot-diversity-too-tight",
        )
        assert "20-30" in problem.fix and "on-demand fallbacks: 1" in problem.evidence
    failed = (RecentAction("add-nodes", "failed", "spot", message="InsufficientInstanceCapacity"),)
    no_div = dataclasses.replace(ALL_ON, spot_diversity=False)
    assert "policy.spot-diversity-too-tight" in _checks(
        diagnose(_healthy(), small_catalog(), no_div, NOW, recent=failed)
    )
    short = frozenset({("m.xlarge", "spot")})
    assert "policy.spot-diversity-too-tight" in _checks(
        diagnose(_healthy(), small_catalog(), no_div, NOW, unavailable=short)
    )
    assert diagnose(_healthy(), small_catalog(), ALL_ON, NOW, recent=recent) == ()  # diversity 25 %
    assert diagnose(_healthy(), small_catalog(), no_div, NOW) == ()  # no shortage seen: nothing to say


def test_aggressive_evictor_evicting_single_replica_pods() -> None:
    snap = _with_pending(_healthy(), _on(pod("db-0", 500, 1, app="db"), "n1"))  # one replica
    drained = (RecentAction("drain-node", "done", pods=("default/db-0", "default/web-0")),)
    aggressive = dataclasses.replace(ALL_ON, aggressive_mode=True, evictor_interval_seconds=60)
    problem = _one(
        diagnose(snap, small_catalog(), aggressive, NOW, recent=drained), "policy.evictor-aggressive"
    )
    assert problem.evidence == ("default/db-0",) and "evicted 1 pod(s)" in problem.title
    assert "aggressiveMode: false" in problem.fix and "now 60s" in problem.fix
    gone = _healthy()  # db-0 evicted and made again under another name: known by its workload
    redo = dataclasses.replace(gone, pods=(*gone.pods, _on(pod("db-7f9c-x1", 500, 1, app="db"), "n2")))
    recent = (RecentAction("drain-node", "done", pods=("default/db-7f9c-a2",)),)
    assert _one(
        diagnose(redo, small_catalog(), aggressive, NOW, recent=recent), "policy.evictor-aggressive"
    ).evidence == ("default/db-7f9c-a2",)
    assert diagnose(snap, small_catalog(), ALL_ON, NOW, recent=drained) == ()  # aggressive mode off
    assert diagnose(_healthy(), small_catalog(), aggressive, NOW) == ()  # every workload has 2 replicas


def test_rightsizing_without_opt_in_or_enough_data() -> None:
    wrong = Rightsizing(misannotated=(("Deployment default/web", "True"),))
    problem = _one(
        diagnose(_healthy(), small_catalog(), ALL_ON, NOW, rightsizing=wrong),
        "policy.rightsizing-not-opted-in",
    )
    assert problem.evidence == ("Deployment default/web: 'True'",)
    young = Rightsizing(opted_in=("Deployment default/web",), data_since=NOW - 3 * 3600)
    problem = _one(
        diagnose(_healthy(), small_catalog(), ALL_ON, NOW, rightsizing=young),
        "policy.rightsizing-insufficient-data",
    )
    assert "has 3.0 h" in problem.title and "wait 21.0 h" in problem.fix
    never = Rightsizing(opted_in=("Namespace shop",))
    assert (
        "has 0.0 h"
        in _one(
            diagnose(_healthy(), small_catalog(), ALL_ON, NOW, rightsizing=never),
            "policy.rightsizing-insufficient-data",
        ).title
    )
    old = Rightsizing(opted_in=("Deployment default/web",), data_since=NOW - 25 * 3600)
    assert diagnose(_healthy(), small_catalog(), ALL_ON, NOW, rightsizing=old) == ()
    assert diagnose(_healthy(), small_catalog(), ALL_ON, NOW, rightsizing=Rightsizing()) == ()  # not wanted


def test_problems_are_ordered_errors_first_and_serialise() -> None:
    snap = _with_pending(_healthy(), pod("big", 3000, 4, app="big"))
    snap = dataclasses.replace(snap, nodes=(*snap.nodes, node("idle", "m.large", 2000, 8)))
    switched_off = dataclasses.replace(ALL_ON, unschedulable_pods=False, node_downscaler=False)
    problems = diagnose(snap, small_catalog(), switched_off, NOW)
    assert _checks(problems) == ["policy.unschedulable-pods-disabled", "policy.empty-nodes-kept"]
    # with automation off altogether, kubewise only reports: kept nodes are not a problem, pending pods are
    assert _checks(diagnose(snap, small_catalog(), AutoscalerPolicy(), NOW)) == [
        "policy.unschedulable-pods-disabled"
    ]
    doc = problems[0].to_json()
    assert (
        set(doc) == {"check", "severity", "title", "cause", "fix", "evidence"} and doc["severity"] == "error"
    )
