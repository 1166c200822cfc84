"""plan_snapshot: every pod placed once or explained, rules held, cost consistent, bound below cost."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from builders import (
    catalog,
    daemonset_pod,
    hostname_anti_affinity,
    itype,
    node,
    pod,
    small_catalog,
    zone_spread,
)
from kubewise.model import (
    CAPACITY_ON_DEMAND,
    CAPACITY_SPOT,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Snapshot,
    Taint,
    Toleration,
)
from kubewise.optimizer import Constraints, Plan, plan_snapshot
from kubewise.scheduling import verify_placement

ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


def _placed(plan: Plan) -> Counter[str]:
    return Counter(p.key for n in plan.nodes for p in n.pods)


def _assert_consistent(plan: Plan, snapshot: Snapshot) -> None:
    movable = [p for p in snapshot.active_pods if not p.is_daemonset and not p.is_mirror]
    placed = _placed(plan)
    unsched = Counter(u.pod.key for u in plan.unschedulable)
    assert placed + unsched == Counter(p.key for p in movable), "every movable pod exactly once"
    assert plan.hourly_cost == pytest.approx(sum(n.instance_type.price(n.capacity_type) for n in plan.nodes))
    assert plan.lower_bound <= plan.hourly_cost + 1e-9
    nodes = []
    placement = {}
    for n in plan.nodes:
        nodes.append(_as_node(n))
        placement[n.name] = [*plan.daemonset_pods_per_node[n.name], *n.pods]
    assert verify_placement(nodes, placement, {}) == []


def _as_node(planned):  # the planned node as the scheduler would see it
    from kubewise.catalog.allocatable import node_allocatable
    from kubewise.model import Node
    from kubewise.optimizer.node_labels import new_node_labels

    labels = new_node_labels(planned.instance_type, planned.capacity_type) | dict(planned.template.labels)
    labels |= {"kubernetes.io/hostname": planned.name, "topology.kubernetes.io/zone": planned.zone}
    alloc = node_allocatable(planned.instance_type)
    return Node(planned.name, alloc, alloc, labels, planned.template.taints, zone=planned.zone)


def test_identical_pods_fill_whole_cheap_nodes() -> None:
    snap = Snapshot(pods=tuple(pod(f"web-{i}", 500, 1, app="web") for i in range(40)))
    plan = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    _assert_consistent(plan, snap)
    assert not plan.unschedulable
    # 40 x 0.5 cpu = 20 cpu; c-family gives 8 cpu per $0.34 -> about 3 nodes' worth of cpu
    assert plan.gap <= 0.10
    assert plan.hourly_cost < 1.2


def test_daemonsets_take_room_on_every_new_node() -> None:
    pods = [pod(f"w-{i}", 1500, 1, app="w") for i in range(4)]
    ds = daemonset_pod("agent", cpu_m=400)
    snap = Snapshot(pods=(*pods, ds))
    plan = plan_snapshot(
        snap, catalog(itype("m.large", 2, 8, 0.1), itype("m.xlarge", 4, 16, 0.2)), Constraints(zones=ZONES)
    )
    _assert_consistent(plan, snap)
    for n in plan.nodes:
        assert [p.name for p in plan.daemonset_pods_per_node[n.name]] == ["agent"]
        assert sum(p.requests["cpu"] for p in n.pods) + 400 <= n.instance_type.vcpu * 1000


def test_hostname_anti_affinity_one_per_node() -> None:
    pods = tuple(
        pod(f"db-{i}", 250, 0.5, app="db", pod_anti_affinity=hostname_anti_affinity("db")) for i in range(5)
    )
    snap = Snapshot(pods=pods)
    plan = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    _assert_consistent(plan, snap)
    assert all(sum(p.labels.get("app") == "db" for p in n.pods) <= 1 for n in plan.nodes)
    assert len(plan.nodes) == 5
    assert plan.gap <= 1e-5  # five of the cheapest node is also what the bound says (up to its safety margin)


def test_zone_spread_balances_zones() -> None:
    pods = tuple(pod(f"api-{i}", 500, 1, app="api", topology_spread=zone_spread("api")) for i in range(7))
    snap = Snapshot(pods=pods)
    plan = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    _assert_consistent(plan, snap)
    per_zone = Counter(n.zone for n in plan.nodes for p in n.pods)
    assert sorted(per_zone.values()) == [2, 2, 3]


def test_too_big_pod_is_reported_with_reason() -> None:
    snap = Snapshot(pods=(pod("huge", 64000, 8, app="huge"), pod("ok", 500, 1, app="ok")))
    plan = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    _assert_consistent(plan, snap)
    [u] = plan.unschedulable
    assert u.pod.name == "huge"
    assert "cpu" in u.reason and "m.4xlarge" in u.reason


def test_pod_pinned_to_an_existing_node_cannot_move() -> None:
    pinned = NodeSelectorTerm((), (NodeSelectorRequirement("metadata.name", "In", ("old-node",)),))
    snap = Snapshot(pods=(pod("pinned", 100, 0.1, node_affinity=(pinned,)),))
    plan = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    _assert_consistent(plan, snap)
    assert [u.pod.name for u in plan.unschedulable] == ["pinned"]


def test_arch_selector_uses_arm_type() -> None:
    arm = {"kubernetes.io/arch": "arm64"}
    snap = Snapshot(pods=tuple(pod(f"a-{i}", 1000, 2, app="a", node_selector=arm) for i in range(3)))
    plan = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    _assert_consistent(plan, snap)
    assert {n.instance_type.arch for n in plan.nodes} == {"arm64"}


def test_gpu_pods_get_gpu_nodes_and_others_do_not() -> None:
    pods = (pod("train", 2000, 8, app="train", gpu=1), *(pod(f"w-{i}", 500, 1, app="w") for i in range(4)))
    snap = Snapshot(pods=pods)
    plan = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    _assert_consistent(plan, snap)
    gpu_nodes = [n for n in plan.nodes if n.instance_type.gpu]
    assert [p.name for n in gpu_nodes for p in n.pods if p.name == "train"] == ["train"]


def test_spot_plan_is_cheaper_and_keeps_on_demand_only_pods_on_demand() -> None:
    od_only = {"karpenter.sh/capacity-type": "on-demand"}
    pods = (
        *(pod(f"w-{i}", 500, 1, app="w") for i in range(8)),
        pod("pay", 500, 1, app="pay", node_selector=od_only),
    )
    snap = Snapshot(pods=pods)
    od = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    spot = plan_snapshot(
        snap,
        small_catalog(),
        Constraints(zones=ZONES, capacity_types=(CAPACITY_SPOT, CAPACITY_ON_DEMAND)),
        name="spot",
    )
    _assert_consistent(spot, snap)
    assert spot.hourly_cost < od.hourly_cost
    [pay_node] = [n for n in spot.nodes if any(p.name == "pay" for p in n.pods)]
    assert pay_node.capacity_type == CAPACITY_ON_DEMAND


def test_pool_taints_and_labels_become_templates() -> None:
    pool = {"workload": "batch"}
    current = (
        node("batch-1", "m.xlarge", 3900, 14, labels=pool, taints=(Taint("dedicated", "batch"),)),
        node("gen-1", "m.xlarge", 3900, 14),
    )
    tol = (Toleration("dedicated", "Equal", "batch", "NoSchedule"),)
    pods = (
        pod("job", 1000, 2, app="job", node_selector=pool, tolerations=tol, node_name="batch-1"),
        pod("web", 1000, 2, app="web", node_name="gen-1"),
    )
    snap = Snapshot(nodes=current, pods=pods)
    plan = plan_snapshot(snap, small_catalog(), Constraints())
    _assert_consistent(plan, snap)
    by_pod = {p.name: n for n in plan.nodes for p in n.pods}
    assert dict(by_pod["job"].template.labels) == pool
    assert by_pod["job"].template.taints == (Taint("dedicated", "batch"),)
    assert by_pod["web"].template.taints == ()
    assert {n.zone for n in plan.nodes} == {"us-east-1a"}  # zones come from the current nodes


def test_terminal_and_static_pods_are_not_planned() -> None:
    snap = Snapshot(
        pods=(
            pod("done", 500, 1, phase="Succeeded"),
            pod("kube-apiserver", 250, 0.5, owner_kind="Node"),
            pod("web", 500, 1, app="web"),
        )
    )
    plan = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    assert _placed(plan) == Counter({"default/web": 1})


def test_constraints_limit_families_and_empty_result_explains() -> None:
    snap = Snapshot(pods=(pod("w", 500, 1),))
    plan = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES, families=frozenset({"c"})))
    assert {n.instance_type.family for n in plan.nodes} == {"c"}
    none = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES, families=frozenset({"nope"})))
    assert [u.reason for u in none.unschedulable] == [
        "no instance type in the catalog matches the plan's constraints"
    ]


def test_plan_is_deterministic() -> None:
    pods = tuple(pod(f"p-{i}", 100 + 37 * (i % 11), 0.25 + (i % 7) / 4, app=f"a{i % 5}") for i in range(60))
    snap = Snapshot(pods=pods)
    a = plan_snapshot(snap, small_catalog(), Constraints(zones=ZONES))
    b = plan_snapshot(dataclasses.replace(snap), small_catalog(), Constraints(zones=ZONES))
    assert [(n.name, n.instance_type.name, sorted(p.key for p in n.pods)) for n in a.nodes] == [
        (n.name, n.instance_type.name, sorted(p.key for p in n.pods)) for n in b.nodes
    ]


def test_architecture_defaults_to_the_current_nodes() -> None:
    current = (node("n1", "m.xlarge", 3900, 14),)
    snap = Snapshot(nodes=current, pods=(pod("web", 3000, 2, app="web", node_name="n1"),))
    plan = plan_snapshot(snap, small_catalog(), Constraints())
    assert {n.instance_type.arch for n in plan.nodes} == {"amd64"}  # the cheaper arm type is not assumed
    arm_ok = plan_snapshot(snap, small_catalog(), Constraints(arch=frozenset({"amd64", "arm64"})))
    assert {n.instance_type.arch for n in arm_ok.nodes} == {"arm64"}
