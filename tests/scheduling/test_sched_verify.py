"""verify_placement: each kind of violation is caught, reported on the pod that has to move."""

from __future__ import annotations

from typing import Any

from sched_helpers import HOST, ZONE, anti, mknode, mkpod, sel, spread

from kubewise.model import Pod, Taint
from kubewise.scheduling import Violation, verify_placement

NODES = [mknode("a1", "a"), mknode("a2", "a"), mknode("b1", "b"), mknode("c1", "c")]


def keys(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.pod_key, v.node_name) for v in violations]


def web(name: str, **fields: Any) -> Pod:
    return mkpod(name, app="web", **fields)


def test_valid_placement_has_no_violations() -> None:
    rules: dict[str, Any] = {
        "pod_anti_affinity": anti(HOST, sel(app="web")),
        "topology_spread": spread(ZONE, sel(app="web")),
    }
    assignment = {
        "a1": [web("w1", **rules)],
        "b1": [web("w2", **rules)],
        "c1": [web("w3", **rules)],
        "a2": [],
    }
    assert verify_placement(NODES, assignment) == []


def test_node_predicates() -> None:
    nodes = [mknode("t", "a", taints=(Taint("gpu", "", "NoSchedule"),)), mknode("c", "a", unschedulable=True)]
    assignment = {"t": [mkpod("p1")], "c": [mkpod("p2", node_selector={"pool": "x"})]}
    assert verify_placement(nodes, assignment) == [
        Violation("default/p1", "t", "untolerated taint gpu:NoSchedule"),
        Violation("default/p2", "c", "node is cordoned"),
    ]


def test_unknown_node() -> None:
    assert verify_placement(NODES, {"zz": [mkpod("p")]}) == [
        Violation("default/p", "zz", "node is not one of the plan's nodes")
    ]


def test_over_committed_node_names_the_pods_that_do_not_fit() -> None:
    node = mknode("n", cpu=1000, pods=3)
    pods = [mkpod(f"p{i}", cpu=400) for i in range(4)]
    violations = verify_placement([node], {"n": pods})
    assert keys(violations) == [("default/p2", "n"), ("default/p3", "n")]
    assert (
        violations[0].reason == "node over-committed: needs 400m cpu, node has 200m free of 1000m allocatable"
    )


def test_anti_affinity_conflict_costs_one_pod() -> None:
    rules: dict[str, Any] = {"pod_anti_affinity": anti(HOST, sel(app="web"))}
    violations = verify_placement(NODES, {"a1": [web("w1", **rules), web("w2", **rules), web("w3", **rules)]})
    assert keys(violations) == [("default/w2", "a1"), ("default/w3", "a1")]
    assert violations[0].reason.startswith("pod anti-affinity: 1 pod(s) matching app=web")


def test_anti_affinity_on_zone_and_symmetric_direction() -> None:
    db = mkpod("db", app="db", pod_anti_affinity=anti(ZONE, sel(app="web")))
    violations = verify_placement(NODES, {"a1": [db], "a2": [web("w")], "b1": [web("ok")]})
    assert keys(violations) == [("default/w", "a2")]
    assert violations[0].reason.startswith(
        "anti-affinity of 1 pod(s) already in topology.kubernetes.io/zone=a"
    )


def test_pod_affinity_without_a_partner_in_the_domain() -> None:
    cache = mkpod("cache", app="cache", pod_affinity=anti(ZONE, sel(app="db")))
    assignment = {"a1": [mkpod("db", app="db")], "b1": [cache]}
    violations = verify_placement(NODES, assignment)
    assert violations == [
        Violation(
            "default/cache",
            "b1",
            "pod affinity: no other pod matching app=db in topology.kubernetes.io/zone=b",
        )
    ]
    assert verify_placement(NODES, {"a1": [mkpod("db", app="db")], "a2": [cache]}) == []


def test_pod_affinity_to_itself() -> None:
    rules: dict[str, Any] = {"pod_affinity": anti(ZONE, sel(app="grp"))}
    group = [mkpod(f"g{i}", app="grp", **rules) for i in range(4)]
    assert verify_placement(NODES, {"b1": group[:1]}) == []  # a lone first pod is fine
    assert verify_placement(NODES, {"a1": group[:2], "a2": group[2:]}) == []  # all in zone a
    # split 2 + 2: each half supports itself, but no scheduling order builds it
    violations = verify_placement(NODES, {"a1": group[:2], "b1": group[2:]})
    assert keys(violations) == [("default/g2", "b1"), ("default/g3", "b1")]
    assert "starts in one place only (topology.kubernetes.io/zone=a)" in violations[0].reason
    # 1 + 1: neither pod has a partner next to it
    assert len(verify_placement(NODES, {"a1": group[:1], "b1": group[1:2]})) == 2


def test_self_affine_group_may_join_an_outside_pod() -> None:
    rules: dict[str, Any] = {"pod_affinity": anti(ZONE, sel(app="grp"))}
    group = [mkpod(f"g{i}", app="grp", **rules) for i in range(3)]
    outsider = mkpod("plain", app="grp")  # matches the term but has no affinity itself
    assert verify_placement(NODES, {"a1": group[:2], "b1": [outsider, group[2]]}) == []


def test_topology_spread_names_only_the_excess() -> None:
    rules: dict[str, Any] = {"topology_spread": spread(ZONE, sel(app="web"))}
    pods = [web(f"w{i}", **rules) for i in range(5)]
    violations = verify_placement(NODES, {"a1": pods[:2], "a2": pods[2:4], "b1": pods[4:]})
    # zone a has 4, b 1, c 0: maxSkew 1 allows 1 in a -> the last 3 pods there must move
    assert keys(violations) == [("default/w1", "a1"), ("default/w2", "a2"), ("default/w3", "a2")]
    assert violations[0].reason == (
        "topology spread on topology.kubernetes.io/zone: a has 4 pod(s) matching app=web, "
        "0 in the emptiest other domain; maxSkew 1"
    )


def test_topology_spread_min_domains() -> None:
    two_zones = NODES[:3]
    rules: dict[str, Any] = {"topology_spread": spread(ZONE, sel(app="web"), min_domains=3)}
    pods = [web(f"w{i}", **rules) for i in range(3)]
    assert keys(verify_placement(two_zones, {"a1": pods[:2], "b1": pods[2:]})) == [("default/w1", "a1")]
    assert verify_placement(two_zones, {"a1": pods[:1], "b1": pods[1:2]}) == []


def test_topology_spread_node_without_key() -> None:
    rules: dict[str, Any] = {"topology_spread": spread(ZONE, sel(app="web"))}
    bare = mknode("bare", None)
    violations = verify_placement([*NODES, bare], {"bare": [web("w", **rules)]})
    assert keys(violations) == [("default/w", "bare")]
    assert violations[0].reason.startswith("node has no topology.kubernetes.io/zone label")


def test_spread_counts_pods_without_the_constraint_too() -> None:
    rules: dict[str, Any] = {"topology_spread": spread(ZONE, sel(app="web"))}
    plain = [web(f"p{i}") for i in range(3)]
    violations = verify_placement(NODES, {"a1": [*plain, web("w", **rules)], "b1": [web("v", **rules)]})
    assert keys(violations) == [("default/w", "a1")]
