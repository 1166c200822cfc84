"""Properties over random clusters: what the autoscaler asks for never breaks a rule.

- every pending pod is accounted for once: room on an existing node, a place on a new node, or a reason;
- the placement it implies passes `scheduling.verify_placement` (existing and new nodes together);
- new nodes stay inside the node template constraints and, under cluster limits, within maxCores;
- the downscaler never removes a node that runs anything but DaemonSet or static pods;
- the evictor spends no PodDisruptionBudget beyond what it allows, moves nothing that must stay, and
  what it drains fits on the nodes that stay;
- back to spot moves at most one fallback node, onto available spot types costing no more, within
  the budgets, and what it drains fits.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import daemonset_pod, hostname_anti_affinity, node, pod, small_catalog, zone_spread
from kubewise.autoscaler import (
    SPOT_FALLBACK_LABEL,
    Action,
    AddNodes,
    AutoscalerPolicy,
    DeleteNode,
    DrainNode,
    consolidate,
    empty_nodes,
    restore_spot,
    scale_up,
)
from kubewise.autoscaler.downscaler import is_empty
from kubewise.autoscaler.evictor import disruptions_left
from kubewise.model import LabelSelector, Pod, PodDisruptionBudget, Snapshot
from kubewise.optimizer import Constraints, NodeTemplate, PlannedNode, planned_node_object
from kubewise.scheduling import ClusterState, verify_placement

ZONES = ("us-east-1a", "us-east-1b")


@st.composite
def clusters(draw: st.DrawFn) -> Snapshot:
    n_nodes = draw(st.integers(0, 4))
    nodes = [
        node(f"n{i}", "m.xlarge", 4000, 16, zone=ZONES[i % 2], unschedulable=draw(st.booleans()) and i > 0)
        for i in range(n_nodes)
    ]
    pods: list[Pod] = []
    for i, n in enumerate(nodes):
        if draw(st.booleans()):
            pods.append(
                dataclasses.replace(daemonset_pod("agent", 100, 0.125), name=f"agent-{i}", node_name=n.name)
            )
        for j in range(draw(st.integers(0, 2))):
            pods.append(pod(f"bound-{i}-{j}", draw(st.integers(100, 1500)), 1.0, node_name=n.name))
    for app in range(draw(st.integers(1, 3))):
        rule = draw(st.sampled_from(["none", "anti", "spread"]))
        cpu = draw(st.integers(100, 6000))
        mem = draw(st.sampled_from([0.25, 1.0, 4.0, 12.0]))
        extra: dict[str, object] = {}
        if rule == "anti":
            extra["pod_anti_affinity"] = hostname_anti_affinity(f"app{app}")
        elif rule == "spread":
            extra["topology_spread"] = zone_spread(f"app{app}")
        for r in range(draw(st.integers(1, 5))):
            pods.append(pod(f"app{app}-{r}", cpu, mem, app=f"app{app}", **extra))
    return Snapshot(tuple(nodes), tuple(pods))


policies = st.builds(
    AutoscalerPolicy,
    enabled=st.just(True),
    unschedulable_pods=st.just(True),
    cluster_limits=st.booleans(),
    min_cores=st.just(0),
    max_cores=st.integers(4, 40),
    spot=st.booleans(),
)
constraints = st.sampled_from(
    [
        Constraints(zones=ZONES),
        Constraints(zones=ZONES, families=frozenset({"m"})),
        Constraints(zones=ZONES, max_vcpu=4),
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(), policies, constraints)
def test_scale_up_never_breaks_a_rule_or_a_limit(
    snap: Snapshot, policy: AutoscalerPolicy, cons: Constraints
) -> None:
    result = scale_up(snap, small_catalog(), cons, policy)
    pending = sorted(p.key for p in snap.pods if not p.node_name and not p.is_daemonset)
    given_place = [k for k, _ in result.placement]
    reported = [u.pod for u in result.unplaceable]
    assert sorted(given_place + reported) == pending  # each pending pod once
    assert sorted(p for a in result.actions for p in a.pods) == sorted(
        k for k, n in result.placement if n.startswith("kubewise-new-")
    )
    # The scheduler places pods that fit existing nodes before the new nodes exist, and the rest once
    # they do: the first placement must hold on the existing nodes, the second on all of them.
    by_key = {p.key: p for p in snap.pods}
    before: dict[str, list[Pod]] = {n.name: [] for n in snap.nodes}
    for p in snap.pods:
        if p.node_name:
            before[p.node_name].append(p)
    for key, name in result.placement:
        if key in result.fits_existing:
            before[name].append(by_key[key])
    moved = set(result.fits_existing)  # what was there already (e.g. on a cordoned node) is not ours
    assert [v for v in verify_placement(snap.nodes, before) if v.pod_key in moved] == []
    after = before | {n.name: [] for n in result.new_nodes}
    for key, name in result.placement:
        if key not in result.fits_existing:
            after[name].append(by_key[key])
    new_pods = {k for k, _ in result.placement if k not in result.fits_existing}
    broken = [v for v in verify_placement((*snap.nodes, *result.new_nodes), after) if v.pod_key in new_pods]
    assert broken == []
    catalog = {t.name: t for t in small_catalog()}
    for action in result.actions:
        itype = catalog[action.instance_type]
        assert cons.families is None or itype.family in cons.families
        assert cons.max_vcpu is None or itype.vcpu <= cons.max_vcpu
        assert action.capacity_type == ("spot" if policy.spot else "on-demand")
    if policy.cluster_limits:
        before = sum(n.capacity["cpu"] // 1000 for n in snap.nodes)
        added = sum(a.count * a.vcpu for a in result.actions)
        assert added == 0 or before + added <= policy.max_cores


@settings(max_examples=80, deadline=None)
@given(
    clusters(),
    st.floats(0, 1000),
    st.dictionaries(st.sampled_from(["n0", "n1", "n2", "n3"]), st.floats(0, 1000)),
)
def test_downscaler_never_removes_a_node_with_workload_pods(
    snap: Snapshot, now: float, since: dict[str, float]
) -> None:
    policy = AutoscalerPolicy(enabled=True, node_downscaler=True, empty_nodes=True, empty_delay_seconds=100)
    result = empty_nodes(snap, policy, now + 1000, since)
    empty = is_empty(snap)
    busy = {p.node_name for p in snap.pods if p.node_name and not p.is_daemonset}
    for action in result.actions:
        assert empty[action.node] and action.node not in busy
        if isinstance(action, DeleteNode):
            assert now + 1000 - result.empty_since[action.node] >= 100


@st.composite
def running_clusters(draw: st.DrawFn) -> Snapshot:
    nodes = [node(f"n{i}", "m.xlarge", 4000, 16, zone=ZONES[i % 2]) for i in range(draw(st.integers(2, 5)))]
    pods: list[Pod] = []
    for app in range(draw(st.integers(1, 4))):
        owner = draw(st.sampled_from(["web", "bare"]))
        for r in range(draw(st.integers(1, 4))):
            at = draw(st.sampled_from(nodes)).name
            fields: dict[str, object] = {"node_name": at, "phase": "Running"}
            fields["has_local_storage"] = draw(st.booleans()) and r == 0
            if owner == "bare":
                fields |= {"owner_kind": "", "owner_name": "", "labels": {"app": f"a{app}"}}
            pods.append(pod(f"a{app}-{r}", draw(st.integers(100, 2500)), 1.0, app=f"a{app}", **fields))
    pdbs = tuple(
        PodDisruptionBudget("default", f"a{app}", LabelSelector((("app", f"a{app}"),)), min_available=m)
        for app, m in draw(st.dictionaries(st.integers(0, 3), st.integers(0, 3))).items()
    )
    return Snapshot(tuple(nodes), tuple(pods), pdbs)


@settings(max_examples=80, deadline=None)
@given(running_clusters(), st.booleans(), st.integers(1, 3))
def test_the_evictor_never_breaks_a_pdb_or_moves_what_must_stay(
    snap: Snapshot, aggressive: bool, per_cycle: int
) -> None:
    policy = AutoscalerPolicy(
        enabled=True, evictor=True, aggressive_mode=aggressive, evictor_nodes_per_cycle=per_cycle
    )
    result = consolidate(snap, small_catalog(), policy)
    drained = [k for a in result.actions if isinstance(a, DrainNode) for k in a.pods]
    assert len({a.node for a in result.actions if isinstance(a, DeleteNode)}) <= per_cycle
    by_key = {p.key: p for p in snap.pods}
    for pdb in snap.pdbs:
        assert sum(1 for k in drained if pdb.covers(by_key[k])) <= disruptions_left(pdb, snap.pods)
    if not aggressive:
        replicas = Counter((p.owner_kind, p.owner_name) for p in snap.pods)
        for key in drained:
            p = by_key[key]
            assert p.owner_kind and not p.has_local_storage and replicas[(p.owner_kind, p.owner_name)] > 1
    _assert_drained_pods_fit(snap, result.actions, drained)
    gone = {a.node for a in result.actions if isinstance(a, DeleteNode)}
    types = {t.name: t for t in small_catalog()}
    new_cost = sum(a.count * a.hourly_price for a in result.actions if isinstance(a, AddNodes))
    saved = sum(types[n.instance_type].on_demand_price for n in snap.nodes if n.name in gone)
    assert new_cost <= saved * 0.8 + 1e-9  # a replacement saves at least evictor_min_saving_percent


def _assert_drained_pods_fit(snap: Snapshot, actions: Sequence[Action], drained: list[str]) -> None:
    """What the drained nodes ran fits on the nodes that stay and the new ones asked for (checked
    here independently, first fit)."""
    by_key = {p.key: p for p in snap.pods}
    gone = {a.node for a in actions if isinstance(a, DeleteNode)}
    assert all(by_key[k].node_name in gone for k in drained)
    types = {t.name: t for t in small_catalog()}
    new = [
        planned_node_object(
            PlannedNode(
                types[a.instance_type], a.capacity_type, a.zone, NodeTemplate(a.template, a.labels, a.taints)
            ),
            f"new-{i}-{j}",
        )
        for i, a in enumerate(actions)
        if isinstance(a, AddNodes)
        for j in range(a.count)
    ]
    stay = [n for n in snap.nodes if n.name not in gone] + new
    state = ClusterState(stay)
    for n in stay:
        for p in snap.pods:
            if p.node_name == n.name:
                state.place(p, n.name)
    for key in sorted(drained, key=lambda k: (-by_key[k].requests["cpu"], k)):
        target = next((n.name for n in stay if state.can_place(by_key[key], n.name) is None), None)
        assert target is not None
        state.place(by_key[key], target)


@settings(max_examples=60, deadline=None)
@given(running_clusters(), st.booleans(), st.sets(st.sampled_from([t.name for t in small_catalog()])))
def test_back_to_spot_moves_one_fallback_node_onto_spot_within_budgets(
    snap: Snapshot, aggressive: bool, still_short: set[str]
) -> None:
    # the even nodes were started on-demand for want of spot; some spot types are still short
    fallback = tuple(
        dataclasses.replace(n, labels={**n.labels, SPOT_FALLBACK_LABEL: "true"}) if i % 2 == 0 else n
        for i, n in enumerate(snap.nodes)
    )
    snap = dataclasses.replace(snap, nodes=fallback)
    policy = AutoscalerPolicy(enabled=True, spot=True, spot_backups=True, aggressive_mode=aggressive)
    unavailable = frozenset((t, "spot") for t in still_short)
    result = restore_spot(snap, small_catalog(), Constraints(zones=ZONES), policy, unavailable)
    gone = {a.node for a in result.actions if isinstance(a, DeleteNode)}
    assert len(gone) <= 1 and all(n.labels.get(SPOT_FALLBACK_LABEL) for n in snap.nodes if n.name in gone)
    added = [a for a in result.actions if isinstance(a, AddNodes)]
    assert all(a.capacity_type == "spot" and (a.instance_type, "spot") not in unavailable for a in added)
    types = {t.name: t for t in small_catalog()}
    saved = sum(types[n.instance_type].on_demand_price for n in snap.nodes if n.name in gone)
    assert sum(a.count * a.hourly_price for a in added) <= saved + 1e-9
    drained = [k for a in result.actions if isinstance(a, DrainNode) for k in a.pods]
    by_key = {p.key: p for p in snap.pods}
    for pdb in snap.pdbs:
        assert sum(1 for k in drained if pdb.covers(by_key[k])) <= disruptions_left(pdb, snap.pods)
    _assert_drained_pods_fit(snap, result.actions, drained)
