"""Scale-up: pending pods -> existing room first, then the cheapest fitting new nodes, within limits."""

from __future__ import annotations

import dataclasses

from builders import daemonset_pod, hostname_anti_affinity, node, pod, small_catalog
from kubewise.autoscaler import AddNodes, AutoscalerPolicy, plan_cycle, scale_up
from kubewise.model import Snapshot
from kubewise.optimizer import Constraints

ON = AutoscalerPolicy(enabled=True, unschedulable_pods=True)


def _cluster(*pending: object, nodes: tuple[object, ...] = (), bound: tuple[object, ...] = ()) -> Snapshot:
    return Snapshot(tuple(nodes), tuple(bound) + tuple(pending))  # type: ignore[arg-type]


def test_pods_that_fit_an_existing_node_need_no_new_node() -> None:
    existing = node("n1", "m.xlarge", 4000, 16)
    result = scale_up(_cluster(pod("a", 1000, 2), nodes=(existing,)), small_catalog(), Constraints(), ON)
    assert result.actions == () and result.fits_existing == ("default/a",)


def test_pending_pods_get_the_cheapest_fitting_nodes_with_a_reason() -> None:
    existing = node("n1", "m.large", 2000, 8)
    busy = pod("busy", 1900, 6, node_name="n1")
    pending = [pod(f"web-{i}", 1000, 3, app="web") for i in range(6)]
    result = scale_up(
        _cluster(*pending, nodes=(existing,), bound=(busy,)), small_catalog(), Constraints(), ON
    )
    assert result.unplaceable == ()
    placed = sorted(p for a in result.actions for p in a.pods)
    assert placed == sorted(p.key for p in pending)
    cost = sum(a.count * a.hourly_price for a in result.actions)
    # 6 x (1 vCPU, 3 GiB): after the kubelet's reserve an m.xlarge holds 3 ($0.20 each, so $0.40) and an
    # m.2xlarge all 6 ($0.40); c.xlarge (8 GiB) holds 2 (3 nodes, $0.51). Nothing cheaper runs them.
    assert abs(cost - 0.40) < 1e-9
    assert all(a.capacity_type == "on-demand" and "cheapest" in a.reason for a in result.actions)


def test_spot_policy_plans_spot_nodes() -> None:
    existing = node("n1", "m.large", 2000, 8, labels={"eks.amazonaws.com/nodegroup": "ng"})
    spot = dataclasses.replace(ON, spot=True)
    result = scale_up(_cluster(pod("a", 3000, 4), nodes=(existing,)), small_catalog(), Constraints(), spot)
    assert result.actions and all(a.capacity_type == "spot" for a in result.actions)


def test_a_pod_no_type_can_run_is_reported_not_retried() -> None:
    huge = pod("huge", 64000, 8)
    result = scale_up(
        _cluster(huge, nodes=(node("n1", "m.large", 2000, 8),)), small_catalog(), Constraints(), ON
    )
    assert result.actions == ()
    (why,) = result.unplaceable
    assert why.pod == "default/huge" and "cpu" in why.reason


def test_max_cores_stops_scale_up_and_says_so() -> None:
    existing = node("n1", "m.xlarge", 4000, 16)
    busy = pod("busy", 3900, 15, node_name="n1")
    pending = [
        pod(f"w-{i}", 1500, 5, app="w", pod_anti_affinity=hostname_anti_affinity("w")) for i in range(4)
    ]
    limited = dataclasses.replace(ON, cluster_limits=True, min_cores=1, max_cores=8)
    result = scale_up(
        _cluster(*pending, nodes=(existing,), bound=(busy,)), small_catalog(), Constraints(), limited
    )
    new_cores = sum(a.count * a.vcpu for a in result.actions)
    assert 4 + new_cores <= 8
    assert result.unplaceable and all("maxCores=8 reached" in u.reason for u in result.unplaceable)
    assert len(result.unplaceable) + sum(len(a.pods) for a in result.actions) == 4


def test_node_template_constraints_bound_the_types() -> None:
    existing = node("n1", "m.large", 2000, 8)
    narrow = Constraints(families=frozenset({"c"}))
    result = scale_up(
        _cluster(pod("a", 1000, 2), pod("b", 3000, 2), nodes=(existing,)), small_catalog(), narrow, ON
    )
    assert result.actions and all(a.instance_type.startswith("c.") for a in result.actions)


def test_new_nodes_carry_the_daemonsets_and_respect_anti_affinity() -> None:
    existing = node("n1", "m.xlarge", 4000, 16)
    ds = dataclasses.replace(daemonset_pod("agent", 500, 1), node_name="n1")
    anti = hostname_anti_affinity("db")
    bound = (ds, pod("db-0", 500, 1, app="db", pod_anti_affinity=anti, node_name="n1"))
    pending = [pod(f"db-{i}", 500, 1, app="db", pod_anti_affinity=anti) for i in (1, 2)]
    result = scale_up(_cluster(*pending, nodes=(existing,), bound=bound), small_catalog(), Constraints(), ON)
    assert sum(a.count for a in result.actions) == 2  # one replica per node, none on n1
    assert all(len(a.pods) == a.count for a in result.actions)


def test_the_cycle_does_nothing_while_automation_is_off() -> None:
    snap = _cluster(pod("a", 3000, 4), nodes=(node("n1", "m.large", 2000, 8),))
    assert plan_cycle(snap, small_catalog(), Constraints(), AutoscalerPolicy(), now=0.0).actions == ()
    off = dataclasses.replace(ON, unschedulable_pods=False)
    assert plan_cycle(snap, small_catalog(), Constraints(), off, now=0.0).actions == ()
    on = plan_cycle(snap, small_catalog(), Constraints(), ON, now=0.0)
    assert any(isinstance(a, AddNodes) for a in on.actions)


def test_pods_whose_nodes_are_starting_get_no_second_node() -> None:
    existing = node("n1", "m.large", 2000, 8)
    busy = pod("busy", 1900, 6, node_name="n1")
    asked = pod("web-abc12", 1000, 3, app="web")
    result = scale_up(
        _cluster(asked, nodes=(existing,), bound=(busy,)),
        small_catalog(),
        Constraints(),
        ON,
        in_flight=frozenset({"default/web-abc12"}),
    )
    assert result.actions == () and result.waiting_for_nodes == ("default/web-abc12",)


def test_a_pod_made_again_under_a_new_name_is_covered_by_the_node_asked_for_its_predecessor() -> None:
    # the evictor asked for a node for web-7d9f8c-aaaaa, then drained it: its ReplicaSet made
    # web-7d9f8c-bbbbb. That one waits for the same node; a second new pod of the workload does not.
    existing = node("n1", "m.large", 2000, 8)
    busy = pod("busy", 1900, 6, node_name="n1")
    again = pod("web-7d9f8c-bbbbb", 1000, 3, app="web")
    extra = pod("web-7d9f8c-ccccc", 1000, 3, app="web")
    result = scale_up(
        _cluster(again, extra, nodes=(existing,), bound=(busy,)),
        small_catalog(),
        Constraints(),
        ON,
        in_flight=frozenset({"default/web-7d9f8c-aaaaa"}),
    )
    assert result.waiting_for_nodes == ("default/web-7d9f8c-bbbbb",)
    assert [p for a in result.actions for p in a.pods] == ["default/web-7d9f8c-ccccc"]


def test_an_in_flight_pod_that_still_exists_covers_only_itself() -> None:
    existing = node("n1", "m.large", 2000, 8)
    busy = pod("busy", 1900, 6, node_name="n1")
    running = pod("web-7d9f8c-aaaaa", 100, 1, app="web", node_name="n1")
    new = pod("web-7d9f8c-bbbbb", 1000, 3, app="web")
    result = scale_up(
        _cluster(new, nodes=(existing,), bound=(busy, running)),
        small_catalog(),
        Constraints(),
        ON,
        in_flight=frozenset({"default/web-7d9f8c-aaaaa"}),
    )
    assert result.waiting_for_nodes == ()
    assert [p for a in result.actions for p in a.pods] == ["default/web-7d9f8c-bbbbb"]
