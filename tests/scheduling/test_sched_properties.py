"""Property tests: ClusterState agrees with a naive transcription of the filters; verify is sound.

1. For random clusters and placements, `can_place` accepts exactly what `sched_reference` accepts,
   before and after removals (the indexes never drift from a full scan).
2. Pods placed only where `can_place` says yes form a placement `verify_placement` finds no fault with.
3. When `verify_placement` reports nothing, every pod passes the naive filters as if scheduled last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sched_helpers import HOST, ZONE, mknode, mkpod, sel
from sched_reference import naive_can_place

from kubewise.model import (
    LabelSelector,
    Node,
    Pod,
    PodAffinityTerm,
    Taint,
    Toleration,
    TopologySpreadConstraint,
)
from kubewise.scheduling import ClusterState, verify_placement

APPS = ("web", "db", "api")
NAMESPACES = ("default", "other")
NS_LABELS = {"other": {"team": "x"}, "default": {"team": "y"}}


@st.composite
def nodes_st(draw: st.DrawFn) -> list[Node]:
    count = draw(st.integers(2, 6))
    out = []
    for i in range(count):
        zone = draw(st.sampled_from(["a", "b", "c", None]))
        taints = (Taint("dedicated", "gpu", "NoSchedule"),) if draw(st.integers(0, 5)) == 0 else ()
        pool = draw(st.sampled_from(["x", "y"]))
        out.append(
            mknode(
                f"n{i}",
                zone,
                cpu=draw(st.sampled_from([1000, 2000])),
                pods=draw(st.integers(2, 6)),
                labels={"pool": pool},
                taints=taints,
            )
        )
    return out


@st.composite
def term_st(draw: st.DrawFn, app: str | None = None) -> PodAffinityTerm:
    target = app or draw(st.sampled_from(APPS))
    kind = draw(st.integers(0, 3))
    kw: dict[str, object] = {}
    if kind == 1:
        kw["namespaces"] = (draw(st.sampled_from(NAMESPACES)),)
    elif kind == 2:
        kw["namespace_selector"] = draw(st.sampled_from([LabelSelector(), sel(team="x")]))
    return PodAffinityTerm(sel(app=target), draw(st.sampled_from([HOST, ZONE])), **kw)  # type: ignore[arg-type]


@st.composite
def spread_st(draw: st.DrawFn, app: str) -> TopologySpreadConstraint:
    selector = draw(st.sampled_from([sel(app=app), sel(app=app), LabelSelector()]))
    return TopologySpreadConstraint(
        draw(st.integers(1, 2)), draw(st.sampled_from([ZONE, HOST])), "DoNotSchedule", selector,
        min_domains=draw(st.sampled_from([None, 2, 4])),
        node_affinity_policy=draw(st.sampled_from(["Honor", "Ignore"])),
        node_taints_policy=draw(st.sampled_from(["Honor", "Ignore"])),
    )  # fmt: skip


@st.composite
def spec_st(draw: st.DrawFn, app: str) -> dict[str, Any]:
    """The scheduling constraints shared by every pod of one app (like a Deployment's template)."""
    spec: dict[str, Any] = {"namespace": draw(st.sampled_from(NAMESPACES))}
    if draw(st.booleans()):
        spec["pod_anti_affinity"] = (draw(term_st()),)
    if draw(st.integers(0, 3)) == 0:
        spec["pod_affinity"] = (draw(term_st(draw(st.sampled_from([app, *APPS])))),)
    if draw(st.booleans()):
        spec["topology_spread"] = (draw(spread_st(app)),)
    if draw(st.integers(0, 3)) == 0:
        spec["node_selector"] = {"pool": draw(st.sampled_from(["x", "y"]))}
    if draw(st.integers(0, 3)) == 0:
        spec["tolerations"] = (Toleration("dedicated", "Exists"),)
    return spec


@st.composite
def pods_st(draw: st.DrawFn, size: int = 12) -> list[Pod]:
    specs = {app: draw(spec_st(app)) for app in APPS}
    apps = draw(st.lists(st.sampled_from(APPS), min_size=1, max_size=size))
    cpus = draw(st.lists(st.sampled_from([100, 300, 600]), min_size=len(apps), max_size=len(apps)))
    return [
        mkpod(f"{app}-{i}", app=app, cpu=cpu, **specs[app])
        for i, (app, cpu) in enumerate(zip(apps, cpus, strict=True))
    ]


def _assert_agrees(
    state: ClusterState, nodes: Sequence[Node], placement: dict[str, list[Pod]], pod: Pod
) -> None:
    for node in nodes:
        got = state.can_place(pod, node.name)
        want = naive_can_place(pod, node, nodes, placement, NS_LABELS)
        assert (got is None) == want, (node.name, got, placement, pod)


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(nodes_st(), pods_st(), st.data())
def test_can_place_matches_naive_filters(nodes: list[Node], pods: list[Pod], data: st.DataObject) -> None:
    state = ClusterState(nodes, NS_LABELS)
    placement: dict[str, list[Pod]] = {n.name: [] for n in nodes}
    for pod in pods[:-1]:  # an arbitrary (possibly invalid) placement
        name = data.draw(st.sampled_from([n.name for n in nodes]))
        state.place(pod, name)
        placement[name].append(pod)
    _assert_agrees(state, nodes, placement, pods[-1])
    if len(pods) > 1:  # removals keep every index exact
        victim = data.draw(st.sampled_from(pods[:-1]))
        where = next(n for n, ps in placement.items() if any(p is victim for p in ps))
        state.remove(victim, where)
        placement[where] = [p for p in placement[where] if p is not victim]
        _assert_agrees(state, nodes, placement, pods[-1])


@SETTINGS
@given(nodes_st(), pods_st(size=20), st.randoms(use_true_random=False))
def test_pods_placed_by_can_place_verify_clean(nodes: list[Node], pods: list[Pod], rnd: object) -> None:
    state = ClusterState(nodes, NS_LABELS)
    assignment: dict[str, list[Pod]] = {n.name: [] for n in nodes}
    for pod in pods:
        order = [n.name for n in nodes]
        rnd.shuffle(order)  # type: ignore[attr-defined]
        target = next((name for name in order if state.can_place(pod, name) is None), None)
        if target is not None:
            state.place(pod, target)
            assignment[target].append(pod)
    shuffled = dict(sorted(assignment.items(), key=lambda kv: rnd.random()))  # type: ignore[attr-defined]
    assert verify_placement(nodes, shuffled, NS_LABELS) == []


@SETTINGS
@given(nodes_st(), pods_st(), st.data())
def test_clean_verdict_means_every_pod_passes_as_if_last(
    nodes: list[Node], pods: list[Pod], data: st.DataObject
) -> None:
    assignment: dict[str, list[Pod]] = {n.name: [] for n in nodes}
    for pod in pods:
        assignment[data.draw(st.sampled_from([n.name for n in nodes]))].append(pod)
    if verify_placement(nodes, assignment, NS_LABELS):
        return
    for node in nodes:
        for pod in assignment[node.name]:
            others = {n: [p for p in ps if p is not pod] for n, ps in assignment.items()}
            assert naive_can_place(pod, node, nodes, others, NS_LABELS), (pod.key, node.name)


@SETTINGS
@given(nodes_st(), pods_st(), st.data())
def test_removing_reported_pods_converges(nodes: list[Node], pods: list[Pod], data: st.DataObject) -> None:
    assignment: dict[str, list[Pod]] = {n.name: [] for n in nodes}
    for pod in pods:
        assignment[data.draw(st.sampled_from([n.name for n in nodes]))].append(pod)
    for _ in range(len(pods) + 1):
        violations = verify_placement(nodes, assignment, NS_LABELS)
        if not violations:
            return
        bad = {(v.node_name, v.pod_key) for v in violations}
        assignment = {n: [p for p in ps if (n, p.key) not in bad] for n, ps in assignment.items()}
    raise AssertionError("verify_placement kept reporting after every reported pod was removed")
