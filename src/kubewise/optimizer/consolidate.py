"""Making a finished node set cheaper: retype every node, then empty the least useful ones.

Called by `optimizer.planner` after `optimizer.rounding`. Two moves, each only ever lowering the cost:
- `retype`: a node becomes the cheapest candidate that runs all its pods in its zone (rounding leaves
  part-empty nodes, and any candidate may take them, not only those the LP used);
- `empty_weakest`: nodes whose pods are worth least for their price (by the bound LP's value of a pod
  of each class) are emptied into room left on the other nodes; a node is removed only if all of its
  pods found a place, otherwise every move is taken back.
A bounded number of nodes is tried, in a fixed order, so the same input gives the same plan.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.dealing import fit_tightly
from kubewise.optimizer.nodeset import NodeSet

__all__ = ["empty_weakest", "retype"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _cheapest_holder(ns: NodeSet, node: int, prices: FloatArray) -> int:
    per_class: dict[int, int] = {}
    for row, n in ns.contents[node].items():
        k = int(ns.rows.klass[row])
        per_class[k] = per_class.get(k, 0) + n
    ks = np.array(sorted(per_class), dtype=np.int64)
    counts = np.array([per_class[k] for k in ks.tolist()], dtype=np.int64)
    used = ns.used(node)
    zone = int(ns.zone[node])
    cs = ns.cs
    ok = (cs.room >= used).all(axis=1) & ns.usable[ks, :, zone].all(axis=0)
    ok &= (cs.per_node[ks] >= counts[:, None]).all(axis=0)
    ok &= prices < prices[ns.cand[node]] - 1e-12
    options = np.nonzero(ok)[0]
    if not len(options):
        return int(ns.cand[node])
    return int(options[np.lexsort((options, prices[options]))[0]])


def retype(ns: NodeSet, prices: FloatArray) -> int:
    """Every live node on its cheapest holder (identical nodes decided once); returns how many moved."""
    decided: dict[tuple[int, int, tuple[tuple[int, int], ...]], int] = {}
    moved = 0
    for node in ns.live.tolist():
        key = (int(ns.cand[node]), int(ns.zone[node]), tuple(sorted(ns.contents[node].items())))
        if key not in decided:
            decided[key] = _cheapest_holder(ns, node, prices)
        if decided[key] != ns.cand[node]:
            ns.retype(node, decided[key])
            moved += 1
    return moved


def _worth(ns: NodeSet, node: int, pod_value: FloatArray) -> float:
    return float(sum(pod_value[ns.rows.klass[r]] * n for r, n in ns.contents[node].items()))


def empty_weakest(ns: NodeSet, prices: FloatArray, pod_value: FloatArray, tries: int) -> int:
    """Try to empty up to `tries` nodes, least worth per price first; returns how many were removed."""
    live = ns.live
    if len(live) < 2:
        return 0
    ratio = np.array([_worth(ns, i, pod_value) for i in live.tolist()]) / prices[ns.cand[live]]
    order = live[np.lexsort((live, ratio))][:tries]
    removed = 0
    waiting = np.zeros(len(ns.rows), dtype=np.int64)
    for node in order.tolist():
        if not ns.alive[node]:
            continue
        held = ns.close(node)
        for row, n in held.items():
            waiting[row] = n
        ns.start_journal()
        fit_tightly(ns, waiting)
        if waiting.any():
            ns.undo_journal()
            waiting[:] = 0
            ns.reopen(node, held)
        else:
            ns.journal = None
            removed += 1
    return removed
