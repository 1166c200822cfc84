"""retype and empty_weakest: only ever cheaper, pods never lost."""

from __future__ import annotations

import numpy as np
from opt_helpers import assert_consistent, placed, problem

from builders import catalog, itype, pod
from kubewise.optimizer.consolidate import empty_weakest, retype

CAT = catalog(itype("m.large", 2, 8, 0.10), itype("m.xlarge", 4, 16, 0.20), itype("m.2xlarge", 8, 32, 0.40))


def test_retype_moves_a_part_empty_node_to_the_cheapest_holder() -> None:
    p = problem([pod("w-0", 1000, 2, app="w")], CAT)
    ns = p.node_set()
    node = ns.open(p.cand("m.2xlarge"), np.array([0]))
    ns.place(0, node, np.array([1]))
    assert retype(ns, p.prices) == 1
    assert p.cs.candidates[int(ns.cand[node[0]])].itype.name == "m.large"
    assert_consistent(ns)


def test_empty_weakest_removes_a_node_whose_pods_fit_elsewhere() -> None:
    p = problem([pod(f"w-{i}", 1000, 2, app="w") for i in range(4)], CAT)
    ns = p.node_set()
    a, b = ns.open(p.cand("m.2xlarge"), np.array([0, 0])).tolist()
    ns.place(0, np.array([a, b]), np.array([3, 1]))
    before = ns.price(p.prices)
    assert empty_weakest(ns, p.prices, p.lb.pod_value, tries=5) == 1
    assert ns.price(p.prices) < before
    assert placed(ns)[0] == 4
    assert_consistent(ns)


def test_empty_weakest_takes_everything_back_when_pods_do_not_fit() -> None:
    p = problem([pod(f"w-{i}", 5000, 2, app="w") for i in range(2)], CAT)
    ns = p.node_set()
    ns.place(0, ns.open(p.cand("m.2xlarge"), np.array([0, 0])), np.array([1, 1]))
    free, contents = ns.free.copy(), [dict(c) for c in ns.contents]
    assert empty_weakest(ns, p.prices, p.lb.pod_value, tries=5) == 0
    assert (ns.free == free).all() and ns.contents == contents and len(ns.live) == 2
