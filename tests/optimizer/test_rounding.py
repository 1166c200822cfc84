"""build_nodes: whole nodes for every pod, guided by the bound LP."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from opt_helpers import assert_consistent, placed, problem

from builders import catalog, hostname_anti_affinity, itype, pod, small_catalog
from kubewise.optimizer.rounding import build_nodes


def test_every_pod_gets_a_node_and_nodes_stay_within_room() -> None:
    pods = [pod(f"a-{i}", 300 + 100 * (i % 5), 0.5 + (i % 3), app=f"a{i % 4}") for i in range(60)]
    p = problem(pods, small_catalog())
    ns = p.node_set()
    left = build_nodes(ns, p.lb, p.resolve, p.prices)
    assert not left.any()
    assert (placed(ns) == p.rows.count).all()
    assert_consistent(ns)
    assert ns.price(p.prices) >= p.lb.value - 1e-9


def test_identical_pods_use_the_lp_node_count() -> None:
    cat = catalog(itype("m.xlarge", 4, 16, 0.20), itype("m.2xlarge", 8, 32, 0.40))
    p = problem([pod(f"w-{i}", 900, 1, app="w") for i in range(40)], cat)
    ns = p.node_set()
    build_nodes(ns, p.lb, p.resolve, p.prices)
    assert ns.price(p.prices) <= p.lb.value * 1.15  # whole nodes of the one shape the LP priced


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(100, 3000), st.integers(1, 8), st.booleans()), min_size=1, max_size=30))
def test_random_workloads_are_fully_placed(shapes: list[tuple[int, int, bool]]) -> None:
    pods = [
        pod(
            f"p{i}",
            cpu,
            mem / 2,
            app=f"a{i % 3}",
            pod_anti_affinity=hostname_anti_affinity(f"a{i % 3}") if anti else (),
        )
        for i, (cpu, mem, anti) in enumerate(shapes)
    ]
    p = problem(pods, small_catalog())
    ns = p.node_set()
    assert not build_nodes(ns, p.lb, p.resolve, p.prices).any()
    assert (placed(ns) == p.rows.count).all()
    assert_consistent(ns)
