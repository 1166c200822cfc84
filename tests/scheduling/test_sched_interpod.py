"""ClusterState: resources and required inter-pod (anti-)affinity, after upstream interpodaffinity tests."""

from __future__ import annotations

import pytest
from sched_helpers import HOST, ZONE, anti, mknode, mkpod, sel

from kubewise.model import LabelSelector, PodAffinityTerm
from kubewise.scheduling import ClusterState


def zones_state(**kw: object) -> ClusterState:
    """n1, n2 in zone a; n3 in zone b; bare has no zone label."""
    nodes = [mknode("n1", "a"), mknode("n2", "a"), mknode("n3", "b"), mknode("bare", None)]
    return ClusterState(nodes, **kw)  # type: ignore[arg-type]


def test_resources_are_checked_against_free_room() -> None:
    state = ClusterState([mknode("n1", cpu=1000, pods=2)])
    assert state.can_place(mkpod("a", cpu=600), "n1") is None
    state.place(mkpod("a", cpu=600), "n1")
    assert (
        state.can_place(mkpod("b", cpu=600), "n1")
        == "needs 600m cpu, node has 400m free of 1000m allocatable"
    )
    state.place(mkpod("b", cpu=100), "n1")
    assert state.can_place(mkpod("c", cpu=1), "n1") == "node already runs 2 of its 2 allowed pods"
    assert state.free("n1")["cpu"] == 300
    assert state.free("n1")["pods"] == 0


def test_remove_gives_room_back_and_unknown_pod_raises() -> None:
    state = ClusterState([mknode("n1", cpu=1000)])
    pod = mkpod("a", cpu=1000)
    state.place(pod, "n1")
    assert state.can_place(mkpod("b", cpu=1000), "n1") is not None
    state.remove(pod, "n1")
    assert state.can_place(mkpod("b", cpu=1000), "n1") is None
    assert state.pods_on("n1") == ()
    with pytest.raises(ValueError, match="not on node"):
        state.remove(pod, "n1")


def test_anti_affinity_on_hostname() -> None:
    state = zones_state()
    web = mkpod("w1", app="web", pod_anti_affinity=anti(HOST, sel(app="web")))
    state.place(web, "n1")
    incoming = mkpod("w2", app="web", pod_anti_affinity=anti(HOST, sel(app="web")))
    assert state.can_place(incoming, "n1") == (
        "pod anti-affinity: 1 pod(s) matching app=web already in kubernetes.io/hostname=n1"
    )
    assert state.can_place(incoming, "n2") is None


def test_anti_affinity_on_zone() -> None:
    state = zones_state()
    state.place(mkpod("w1", app="web"), "n1")
    incoming = mkpod("w2", app="web", pod_anti_affinity=anti(ZONE, sel(app="web")))
    assert state.can_place(incoming, "n2") == (
        "pod anti-affinity: 1 pod(s) matching app=web already in topology.kubernetes.io/zone=a"
    )
    assert state.can_place(incoming, "n3") is None
    assert state.can_place(incoming, "bare") is None  # no zone label: in no domain, no conflict


def test_existing_pods_anti_affinity_is_symmetric() -> None:
    state = zones_state()
    state.place(mkpod("db", app="db", pod_anti_affinity=anti(ZONE, sel(app="web"))), "n1")
    plain = mkpod("w", app="web")
    assert state.can_place(plain, "n2") == (
        "anti-affinity of 1 pod(s) already in topology.kubernetes.io/zone=a rejects pods matching app=web"
    )
    assert state.can_place(plain, "n3") is None
    assert state.can_place(mkpod("other", app="api"), "n2") is None


def test_existing_anti_affinity_on_a_node_without_the_key_blocks_nothing() -> None:
    state = zones_state()
    state.place(mkpod("db", app="db", pod_anti_affinity=anti(ZONE, sel(app="web"))), "bare")
    assert state.can_place(mkpod("w", app="web"), "n1") is None


def test_anti_affinity_counts_drop_after_remove() -> None:
    state = zones_state()
    first = mkpod("w1", app="web")
    state.place(first, "n1")
    incoming = mkpod("w2", app="web", pod_anti_affinity=anti(HOST, sel(app="web")))
    assert state.can_place(incoming, "n1") is not None
    state.remove(first, "n1")
    assert state.can_place(incoming, "n1") is None


@pytest.mark.parametrize(
    ("term_kw", "conflict"),
    [
        ({}, False),  # no namespaces, no selector: the pod's own namespace only
        ({"namespaces": ("other",)}, True),
        ({"namespaces": ("third",)}, False),
        ({"namespace_selector": LabelSelector()}, True),  # empty selector: all namespaces
        ({"namespace_selector": sel(team="x")}, True),  # matches namespace labels of "other"
        ({"namespace_selector": sel(team="y")}, False),
        ({"namespaces": ("third",), "namespace_selector": sel(team="x")}, True),  # ORed
    ],
)
def test_anti_affinity_namespaces(term_kw: dict[str, object], conflict: bool) -> None:
    state = zones_state(namespace_labels={"other": {"team": "x"}})
    state.place(mkpod("w1", app="web", namespace="other"), "n1")
    incoming = mkpod("w2", app="web", pod_anti_affinity=anti(HOST, sel(app="web"), **term_kw))
    assert (state.can_place(incoming, "n1") is not None) is conflict
    # the same term held by the existing pod, judged against the incoming pod's namespace
    state2 = zones_state(namespace_labels={"other": {"team": "x"}})
    state2.place(mkpod("w1", app="web", pod_anti_affinity=anti(HOST, sel(app="web"), **term_kw)), "n1")
    assert (state2.can_place(mkpod("w2", app="web", namespace="other"), "n1") is not None) is conflict


def test_pod_affinity_needs_a_matching_pod_in_the_domain() -> None:
    state = zones_state()
    cache = mkpod("c", app="cache", pod_affinity=anti(ZONE, sel(app="db")))
    assert (
        state.can_place(cache, "n1")
        == "pod affinity: no pod matching app=db in topology.kubernetes.io/zone=a"
    )
    state.place(mkpod("db", app="db"), "n2")
    assert state.can_place(cache, "n1") is None
    assert state.can_place(cache, "n3") is not None
    assert (
        state.can_place(cache, "bare")
        == "node has no topology.kubernetes.io/zone label, required by pod affinity"
    )


def test_pod_affinity_first_pod_of_a_self_affine_group() -> None:
    state = zones_state()
    group = [mkpod(f"g{i}", app="grp", pod_affinity=anti(ZONE, sel(app="grp"))) for i in range(3)]
    assert state.can_place(group[0], "n3") is None  # nobody matches yet and the pod matches itself
    assert state.can_place(group[0], "bare") is not None  # but the node must carry the key
    state.place(group[0], "n3")
    assert state.can_place(group[1], "n1") is not None  # the group now lives in zone b
    assert state.can_place(group[1], "n3") is None


def test_pod_affinity_counts_pods_matching_all_terms() -> None:
    # upstream counts an existing pod for an affinity term only if it matches ALL the pod's terms
    state = zones_state()
    terms = (PodAffinityTerm(sel(app="db"), ZONE), PodAffinityTerm(sel(tier="cache"), HOST))
    state.place(mkpod("x", labels={"app": "db", "tier": "cache"}), "n1")
    state.place(mkpod("y", labels={"tier": "cache"}), "n2")
    incoming = mkpod("p", pod_affinity=terms)
    assert state.can_place(incoming, "n1") is None
    assert state.can_place(incoming, "n2") is not None  # y matches the hostname term only


def test_pod_affinity_in_another_namespace() -> None:
    state = zones_state()
    state.place(mkpod("db", app="db", namespace="data"), "n1")
    own_ns = mkpod("c", app="cache", pod_affinity=anti(ZONE, sel(app="db")))
    listed = mkpod("c", app="cache", pod_affinity=anti(ZONE, sel(app="db"), namespaces=("data",)))
    assert state.can_place(own_ns, "n2") is not None
    assert state.can_place(listed, "n2") is None


def test_many_identical_pods_share_profiles() -> None:
    state = ClusterState([mknode(f"n{i}", "abc"[i % 3], pods=110) for i in range(9)])
    for i in range(9):
        pod = mkpod(f"w{i}", app="web", pod_anti_affinity=anti(HOST, sel(app="web")))
        free = [n.name for n in state.nodes if state.can_place(pod, n.name) is None]
        assert len(free) == 9 - i
        state.place(pod, free[0])
    assert all(len(state.pods_on(n.name)) == 1 for n in state.nodes)


def test_add_and_remove_node() -> None:
    state = ClusterState()
    state.add_node(mknode("n1"))
    with pytest.raises(ValueError, match="already"):
        state.add_node(mknode("n1"))
    state.place(mkpod("a", app="web"), "n1")
    state.remove_node("n1")
    assert "n1" not in state
    state.add_node(mknode("n1"))
    incoming = mkpod("b", app="web", pod_anti_affinity=anti(HOST, sel(app="web")))
    assert state.can_place(incoming, "n1") is None
    assert state.node("n1").name == "n1"
