"""Whole nodes from the bound LP: round its node counts down, deal its pods onto them, re-plan the rest.

Called by `optimizer.planner`. The bound LP (`optimizer.lower_bound`) says how many nodes of each
candidate (fractional) and which pods on them. Round after round:
1. each candidate gets the whole part of its LP node count (in later rounds, counts from one half up
   are rounded up, and when every count is below one the largest becomes one node), spread over the
   zones its pinned pods need;
2. the pods the LP gave that candidate are dealt onto those nodes (`optimizer.dealing.deal`), or,
   where a node holds a handful, filled into them node by node (`dealing.fill_one_by_one`);
3. pods that did not get a node are fitted into room left on any node (`dealing.fit_tightly`);
4. what still waits is planned again by the LP, now only for those pods.
The LP is re-solved on fewer pods each round, so later rounds are cheap. Work is bounded by a count of
rounds, never by the clock, so that the same input gives the same plan; after the last round, each
pod still waiting gets a node of the cheapest candidate for its row alone (always possible).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.dealing import chunks, deal, fill_one_by_one, fit_tightly
from kubewise.optimizer.demand import ANY_ZONE
from kubewise.optimizer.lower_bound import LowerBound
from kubewise.optimizer.nodeset import NodeSet

__all__ = ["MAX_ROUNDS", "build_nodes"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
MAX_ROUNDS = 12
FILL_CHUNK_PODS = 1200  # pods filled from one part of a batch at most: each step scans its rows
FEW_PODS_PER_NODE = 16  # batches averaging more pods per node than this are dealt, others filled
_ROUND_UP_FROM = 0.5  # in later rounds: the LP's node counts from x.5 are rounded up


def _bags(ns: NodeSet, lb: LowerBound, waiting: IntArray) -> dict[int, dict[int, int]]:
    """The LP's pods per candidate, in whole pods per demand row: {candidate: {row: pods}}."""
    ks, cands, y = lb.assignment
    rows_of: dict[int, list[int]] = {}
    for r in np.nonzero(waiting > 0)[0].tolist():
        rows_of.setdefault(int(ns.rows.klass[r]), []).append(r)
    bags: dict[int, dict[int, int]] = {}
    order = np.lexsort((cands, ks))
    ks, cands, y = ks[order], cands[order], y[order]
    starts = np.searchsorted(ks, np.unique(ks))
    for s, e in zip(starts.tolist(), [*starts[1:].tolist(), len(ks)], strict=True):
        k = int(ks[s])
        rows = rows_of.get(k)
        if not rows:
            continue
        total = int(sum(int(waiting[r]) for r in rows))
        share = y[s:e] / max(float(y[s:e].sum()), 1e-12) * total
        whole = np.floor(share).astype(np.int64)
        short = total - int(whole.sum())  # largest remainders get the pods rounding left over
        whole[np.lexsort((np.arange(e - s), -(share - whole)))[:short]] += 1
        queue = [[r, int(waiting[r])] for r in rows]
        for c, n in zip(cands[s:e].tolist(), whole.tolist(), strict=True):
            bag = bags.setdefault(c, {})
            while n > 0 and queue:
                take = min(n, queue[0][1])
                bag[queue[0][0]] = bag.get(queue[0][0], 0) + take
                queue[0][1] -= take
                n -= take
                if not queue[0][1]:
                    queue.pop(0)
    return bags


def _node_zones(ns: NodeSet, bag: dict[int, int], cand: int, count: int) -> IntArray:
    """Zones for `count` new nodes: in proportion to the pods pinned to each zone, the rest spread."""
    n_zones = len(ns.cs.zones)
    room = np.maximum(ns.cs.room[cand], 1)
    weight = np.zeros(n_zones)
    free = 0.0
    for row, n in bag.items():
        size = float((ns.demand[row] / room).max()) * n
        z = int(ns.rows.zone[row])
        if z == ANY_ZONE:
            free += size
        else:
            weight[z] += size
    weight += free / n_zones
    if weight.sum() <= 0:
        weight[:] = 1.0
    share = weight / weight.sum() * count
    whole = np.floor(share).astype(np.int64)
    whole[np.lexsort((np.arange(n_zones), -(share - whole)))[: count - int(whole.sum())]] += 1
    return np.repeat(np.arange(n_zones, dtype=np.int64), whole)


def _node_counts(lb: LowerBound, first: bool) -> IntArray:
    x = lb.nodes
    whole = np.floor(x + 1e-6)
    if not first:
        whole = np.where(x - whole >= _ROUND_UP_FROM, whole + 1, whole)
    if not whole.any() and len(x):
        whole[int(np.argmax(x))] = 1
    out: IntArray = whole.astype(np.int64)
    return out


def _alone(ns: NodeSet, waiting: IntArray, prices: FloatArray) -> None:
    """Every waiting pod onto nodes holding only its row, of the cheapest candidate per pod."""
    for row in np.nonzero(waiting > 0)[0].tolist():
        k = int(ns.rows.klass[row])
        while waiting[row] > 0:
            z = int(ns.rows.zone[row])
            zones = range(len(ns.cs.zones)) if z == ANY_ZONE else (z,)
            best: tuple[float, int, int] | None = None
            for zone in zones:
                ok = ns.usable[k, :, zone]
                per = np.minimum(ns.cs.per_node[k], waiting[row])
                cost = np.where(ok & (per > 0), prices / np.maximum(per, 1), np.inf)
                c = int(np.argmin(cost))
                if np.isfinite(cost[c]) and (best is None or cost[c] < best[0]):
                    best = (float(cost[c]), c, zone)
            if best is None:
                return  # the planner only sends rows some candidate runs
            node = ns.open(best[1], np.array([best[2]], dtype=np.int64))
            n = int(min(ns.room_for(row, node)[0], waiting[row]))
            if n <= 0:
                return
            ns.place(row, node, np.array([n], dtype=np.int64))
            waiting[row] -= n


def _place_batch(ns: NodeSet, bag: dict[int, int], nodes: IntArray, waiting: IntArray) -> None:
    """Deal a batch whose nodes hold many pods; fill nodes one by one where they hold few (which pods
    share a node matters there). Large batches go in even parts."""
    if sum(bag.values()) > FEW_PODS_PER_NODE * len(nodes):
        deal(ns, bag, nodes, waiting)
        return
    size = max(1, FILL_CHUNK_PODS * len(nodes) // max(1, sum(bag.values())))
    for part, chunk in chunks(ns, bag, nodes, int(ns.cand[nodes[0]]), size):
        fill_one_by_one(ns, part, chunk, waiting)


def _per_class(ns: NodeSet, waiting: IntArray) -> IntArray:
    out: IntArray = np.bincount(ns.rows.klass, weights=waiting, minlength=len(ns.cs.demand)).astype(np.int64)
    return out


def build_nodes(
    ns: NodeSet,
    first: LowerBound | None,
    resolve: Callable[[IntArray], LowerBound],
    prices: FloatArray,
    waiting: IntArray | None = None,
) -> IntArray:
    """Add nodes to `ns` for the `waiting` pods per row (default: every pod of its rows);
    `first` is the bound LP for them (None: solved here) and `resolve(class_counts)` re-solves it for
    the pods still waiting. Returns the pods per row that nothing could take (normally none)."""
    waiting = ns.rows.count.copy() if waiting is None else waiting
    if not waiting.any():
        return waiting
    lb = first if first is not None else resolve(_per_class(ns, waiting))
    for round_ in range(MAX_ROUNDS):
        bags = _bags(ns, lb, waiting)
        counts = _node_counts(lb, round_ == 0)
        for cand in sorted(bags, key=lambda c: (-lb.nodes[c] * prices[c], c)):
            if counts[cand] <= 0:
                continue
            nodes = ns.open(cand, _node_zones(ns, bags[cand], cand, int(counts[cand])))
            _place_batch(ns, bags[cand], nodes, waiting)
            for i in nodes.tolist():
                if not ns.contents[i]:
                    ns.close(i)
        fit_tightly(ns, waiting)
        if not waiting.any():
            return waiting
        lb = resolve(_per_class(ns, waiting))
    _alone(ns, waiting, prices)
    return waiting
