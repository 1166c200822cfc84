"""ClusterState: topology spread (DoNotSchedule), after the upstream podtopologyspread filter tests."""

from __future__ import annotations

from sched_helpers import HOST, ZONE, mknode, mkpod, sel, spread

from kubewise.model import LabelSelector, Pod, Taint, TopologySpreadConstraint
from kubewise.scheduling import ClusterState


def three_zones(per_zone: int = 1) -> ClusterState:
    nodes = [mknode(f"{z}{i}", z) for z in "abc" for i in range(per_zone)]
    return ClusterState(nodes)


def web(name: str, max_skew: int = 1, key: str = ZONE, **kw: object) -> Pod:
    return mkpod(name, app="web", topology_spread=spread(key, sel(app="web"), max_skew, **kw))


def fits(state: ClusterState, pod: Pod) -> list[str]:
    return [n.name for n in state.nodes if state.can_place(pod, n.name) is None]


def test_max_skew_1_across_three_zones() -> None:
    state = three_zones()
    assert fits(state, web("w0")) == ["a0", "b0", "c0"]
    state.place(web("w0"), "a0")
    assert fits(state, web("w1")) == ["b0", "c0"]
    assert state.can_place(web("w1"), "a0") == (
        "topology spread on topology.kubernetes.io/zone: a has 1 pod(s) matching app=web, global minimum 0; "
        "placing here gives skew 2 > maxSkew 1"
    )
    state.place(web("w1"), "b0")
    assert fits(state, web("w2")) == ["c0"]
    state.place(web("w2"), "c0")
    assert fits(state, web("w3")) == ["a0", "b0", "c0"]


def test_max_skew_2_and_pods_that_do_not_match_themselves() -> None:
    state = three_zones()
    state.place(web("w0"), "a0")
    assert state.can_place(web("w1", 2), "a0") is None
    state.place(web("w1"), "a0")
    assert state.can_place(web("w2", 2), "a0") is not None
    # a pod whose labels do not match the selector adds nothing to the domain it lands in
    outsider = mkpod("o", app="api", topology_spread=spread(ZONE, sel(app="web"), 2))
    assert state.can_place(outsider, "a0") is None


def test_only_pods_of_the_same_namespace_and_selector_count() -> None:
    state = three_zones()
    state.place(mkpod("x", app="web", namespace="other"), "a0")
    state.place(mkpod("y", app="api"), "a0")
    assert fits(state, web("w")) == ["a0", "b0", "c0"]


def test_min_domains_above_the_number_of_domains_makes_the_minimum_zero() -> None:
    state = ClusterState([mknode("a0", "a"), mknode("b0", "b")])
    for i, node in enumerate(["a0", "b0"]):
        state.place(web(f"w{i}", min_domains=3), node)
    assert fits(state, web("w2", min_domains=3)) == []  # min is 0: 1 + 1 - 0 > 1 everywhere
    assert fits(state, web("w2", min_domains=2)) == ["a0", "b0"]  # two domains: min is 1


def test_node_taints_policy() -> None:
    nodes = [
        mknode("a0", "a"),
        mknode("b0", "b"),
        mknode("c0", "c", taints=(Taint("gpu", "", "NoSchedule"),)),
    ]
    for policy, expected in (("Ignore", []), ("Honor", ["a0", "b0"])):
        state = ClusterState(nodes)
        state.place(web("w0", node_taints_policy=policy), "a0")
        state.place(web("w1", node_taints_policy=policy), "b0")
        # Ignore: tainted zone c counts as an empty domain, so min stays 0; Honor: c is not eligible
        assert fits(state, web("w2", node_taints_policy=policy)) == expected, policy


def test_node_affinity_policy() -> None:
    nodes = [
        mknode("a0", "a", labels={"pool": "x"}),
        mknode("b0", "b", labels={"pool": "x"}),
        mknode("c0", "c"),
    ]
    for policy, expected in (("Honor", ["a0", "b0"]), ("Ignore", [])):
        state = ClusterState(nodes)
        pods = [web(f"w{i}", node_affinity_policy=policy) for i in range(3)]
        pods = [
            mkpod(p.name, app="web", node_selector={"pool": "x"}, topology_spread=p.topology_spread)
            for p in pods
        ]
        state.place(pods[0], "a0")
        state.place(pods[1], "b0")
        assert fits(state, pods[2]) == expected, policy


def test_nodes_without_the_key_are_rejected_and_not_counted() -> None:
    state = ClusterState([mknode("a0", "a"), mknode("b0", "b"), mknode("bare", None)])
    state.place(mkpod("x", app="web"), "bare")  # not counted: bare has no zone
    assert state.can_place(web("w"), "bare") == (
        "node has no topology.kubernetes.io/zone label, required by topology spread constraint (app=web)"
    )
    assert fits(state, web("w")) == ["a0", "b0"]


def test_a_node_must_carry_every_constraint_key_to_be_counted() -> None:
    both = (*spread(ZONE, sel(app="web")), *spread("rack", sel(app="web"), 5))
    state = ClusterState(
        [
            mknode("a0", "a", labels={"rack": "r1"}),
            mknode("a1", "a"),
            mknode("b0", "b", labels={"rack": "r2"}),
        ]
    )
    state.place(mkpod("x", app="web"), "a1")  # a1 lacks "rack": its pod counts for no constraint
    pod = mkpod("w", app="web", topology_spread=both)
    assert state.can_place(pod, "a0") is None
    assert state.can_place(pod, "a1") is not None  # lacks the rack label


def test_match_label_keys_split_revisions() -> None:
    state = three_zones()
    old = {"app": "web", "pod-template-hash": "old"}
    for node in ("a0", "a0", "b0"):
        state.place(mkpod("o", labels=old), node)
    constraint = spread(ZONE, sel(app="web"), match_label_keys=("pod-template-hash",))
    new = mkpod("n", labels={"app": "web", "pod-template-hash": "new"}, topology_spread=constraint)
    assert fits(state, new) == ["a0", "b0", "c0"]  # old revision does not count
    plain = mkpod(
        "n", labels={"app": "web", "pod-template-hash": "new"}, topology_spread=spread(ZONE, sel(app="web"))
    )
    assert fits(state, plain) == ["c0"]


def test_empty_selector_never_blocks_but_needs_the_key() -> None:
    state = ClusterState([mknode("a0", "a"), mknode("b0", "b"), mknode("bare", None)])
    for i in range(3):
        state.place(mkpod(f"x{i}", app="web"), "a0")
    pod = mkpod("w", app="web", topology_spread=spread(ZONE, LabelSelector()))
    assert fits(state, pod) == ["a0", "b0"]


def test_hostname_spread() -> None:
    state = three_zones(per_zone=2)
    for i, node in enumerate(["a0", "a1", "b0", "b1", "c0"]):
        state.place(web(f"w{i}", key=HOST), node)
    assert fits(state, web("w5", key=HOST)) == ["c1"]


def test_nodes_added_and_removed_change_domains() -> None:
    state = ClusterState([mknode("a0", "a"), mknode("b0", "b")])
    state.place(web("w0"), "a0")
    state.place(web("w1"), "b0")
    assert fits(state, web("w2")) == ["a0", "b0"]
    state.add_node(mknode("c0", "c"))  # a new empty zone: the minimum drops to 0
    assert fits(state, web("w2")) == ["c0"]
    state.remove_node("c0")
    assert fits(state, web("w2")) == ["a0", "b0"]
    state.remove_node("b0")  # its pod goes with it; zone b disappears
    assert fits(state, web("w2")) == ["a0"]


def test_schedule_anyway_is_ignored() -> None:
    state = three_zones()
    soft = (TopologySpreadConstraint(1, ZONE, "ScheduleAnyway", sel(app="web")),)
    for i in range(3):
        state.place(mkpod(f"w{i}", app="web"), "a0")
    assert fits(state, mkpod("w", app="web", topology_spread=soft)) == ["a0", "b0", "c0"]
