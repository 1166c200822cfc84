"""Dealing pods over fresh nodes evenly, and fitting leftovers where they fit most tightly."""

from __future__ import annotations

import numpy as np
from opt_helpers import assert_consistent, placed, problem

from builders import catalog, itype, pod
from kubewise.optimizer.dealing import deal, fit_tightly

CAT = catalog(itype("m.2xlarge", 8, 32, 0.40))


def test_deal_spreads_a_batch_evenly_and_keeps_what_does_not_fit_waiting() -> None:
    p = problem([pod(f"w-{i}", 1000, 2, app="w") for i in range(30)], CAT)
    ns = p.node_set()
    nodes = ns.open(0, np.zeros(4, dtype=np.int64))
    waiting = p.rows.count.copy()
    deal(ns, {0: 30}, nodes, waiting)
    per_node = [ns.contents[i].get(0, 0) for i in nodes.tolist()]
    fits = int(p.cs.room[0][p.cs.resources.index("cpu")] // 1000)
    assert max(per_node) - min(per_node) <= 1  # dealt like cards
    assert max(per_node) <= fits and sum(per_node) == min(30, 4 * fits)
    assert int(waiting[0]) == 30 - sum(per_node)
    assert_consistent(ns)


def test_fit_tightly_fills_the_fullest_node_first() -> None:
    pods = [pod(f"big-{i}", 6000, 2, app="big") for i in range(1)] + [
        pod(f"s-{i}", 1000, 1, app="s") for i in range(2)
    ]
    p = problem(pods, CAT)
    big = next(r for r in range(len(p.rows)) if p.rows.pods[r][0].name.startswith("big"))
    small = 1 - big
    ns = p.node_set()
    full, _ = ns.open(0, np.zeros(2, dtype=np.int64)).tolist()
    ns.place(big, np.array([full]), np.array([1]))
    waiting = np.zeros(len(p.rows), dtype=np.int64)
    waiting[small] = 2
    fit_tightly(ns, waiting)
    assert ns.contents[full].get(small, 0) >= 1  # the part-full node is topped up before the empty one
    assert placed(ns)[small] == 2 and not waiting.any()
    assert_consistent(ns)
