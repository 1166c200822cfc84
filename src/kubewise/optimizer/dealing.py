"""Putting waiting pods on nodes: dealt evenly over a fresh batch, or fitted tightly into what is left.

Called by `optimizer.rounding` and `optimizer.consolidate`. Two placements, both row by row with the
largest pods first and NumPy over the nodes:
- `deal` spreads a batch of pods (what the LP gave one candidate) over that candidate's new nodes like
  cards: each round gives one pod to each node that has the most room left below its share of the
  batch, so every node ends up with about the batch's average mix, which is what the LP priced;
- `fit_tightly` puts pods where they leave the least room (best fit), keeping large holes for large
  pods; it is how leftovers find room on nodes that already exist.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.nodeset import NodeSet

__all__ = ["by_size", "chunks", "deal", "fill_one_by_one", "fit_tightly"]

IntArray = npt.NDArray[np.int64]
CHUNK_NODES = 256  # nodes a batch is dealt over at once: larger batches are cut into even parts


def by_size(ns: NodeSet, rows: IntArray, cand: int | None = None) -> IntArray:
    """Rows ordered by their pods' largest share of a node (of `cand`, else of the largest candidate)."""
    room = ns.cs.room[cand] if cand is not None else ns.cs.room.max(axis=0)
    share = (ns.demand[rows] / np.maximum(room, 1)[None, :]).max(axis=1)
    out: IntArray = rows[np.lexsort((rows, -share))]
    return out


def chunks(
    ns: NodeSet, bag: Mapping[int, int], nodes: IntArray, cand: int, size: int = 0
) -> list[tuple[dict[int, int], IntArray]]:
    """A large batch cut into independent batches of about `size` (default `CHUNK_NODES`) nodes, each
    with an even share of every row (pods dealt to chunks in size order), so that the work stays linear
    in the pods."""
    n_chunks = -(-len(nodes) // (size or CHUNK_NODES))
    if n_chunks <= 1:
        return [(dict(bag), nodes)]
    parts: list[dict[int, int]] = [{} for _ in range(n_chunks)]
    turn = 0
    for row in by_size(ns, np.array(sorted(bag), dtype=np.int64), cand).tolist():
        n = bag[row]
        base, extra = divmod(n, n_chunks)
        for i in range(n_chunks):
            count = base + (1 if (i - turn) % n_chunks < extra else 0)
            if count:
                parts[i][row] = count
        turn = (turn + extra) % n_chunks
    return [(parts[i], nodes[i::n_chunks]) for i in range(n_chunks)]


def deal(ns: NodeSet, bag: Mapping[int, int], nodes: IntArray, waiting: IntArray) -> None:
    """Deal `bag` ({row: pods}) over `nodes` (all of one candidate); placed pods leave `waiting`."""
    if not len(nodes) or not bag:
        return
    cand = int(ns.cand[nodes[0]])
    for part, chunk in chunks(ns, bag, nodes, cand):
        _deal(ns, part, chunk, waiting, cand)


def _deal(ns: NodeSet, bag: Mapping[int, int], nodes: IntArray, waiting: IntArray, cand: int) -> None:
    rows = by_size(ns, np.array(sorted(bag), dtype=np.int64), cand)
    total = sum(ns.demand[r] * n for r, n in bag.items())
    target = np.minimum(ns.cs.room[cand], -(-total // len(nodes)))  # each node's share of the batch
    reserve = ns.cs.room[cand] - target
    for row in rows.tolist():
        left = min(bag[row], int(waiting[row]))
        while left > 0:
            room = ns.room_for(row, nodes)
            open_ = np.nonzero(room > 0)[0]
            if not len(open_):
                break
            score = ns.slack_after(row, nodes[open_], reserve)
            chosen = open_[np.lexsort((open_, -score))[:left]]
            ns.place(row, nodes[chosen], np.ones(len(chosen), dtype=np.int64))
            waiting[row] -= len(chosen)
            left -= len(chosen)


def _tightest(ns: NodeSet, row: int, count: int, pool: IntArray) -> int:
    """Place up to `count` pods of `row` on `pool` where they leave the least room; returns how many."""
    room = ns.room_for(row, pool)
    open_ = np.nonzero(room > 0)[0]
    if not len(open_) or count <= 0:
        return 0
    score = ns.slack_after(row, pool[open_])
    order = open_[np.lexsort((open_, score))]
    take = np.minimum(room[order], count)
    before = np.cumsum(take) - take
    take = np.clip(count - before, 0, take)
    ns.place(row, pool[order], take)
    return int(take.sum())


def fill_one_by_one(ns: NodeSet, bag: Mapping[int, int], nodes: IntArray, waiting: IntArray) -> None:
    """Fill `nodes` one at a time from `bag`: each next pod is the one that leaves the node's free room
    closest to empty (the L2 norm of what is left, in shares of the node), so pods that complement
    each other end up together."""
    if not len(nodes) or not bag:
        return
    cand = int(ns.cand[nodes[0]])
    rows = np.array(sorted(bag), dtype=np.int64)
    left = np.minimum(np.array([bag[r] for r in rows.tolist()], dtype=np.int64), waiting[rows])
    room = np.maximum(ns.cs.room[cand], 1).astype(float)
    share = ns.demand[rows] / room[None, :]
    demand = ns.demand[rows]
    klass = ns.rows.klass[rows]
    simple = not ns.rules.groups_of  # per-node rules reduce to "this row is blocked here"
    for node in nodes.tolist():
        # what does not change while this node fills: zone, candidate, rows blocked by its first pods
        blocked = ns.room_on(node, rows) == 0
        live = np.nonzero((left > 0) & ~blocked)[0]
        while len(live):
            free_units = ns.free[node]
            if simple:
                d = demand[live]
                with np.errstate(divide="ignore"):
                    fit = np.where(d > 0, free_units[None, :] // np.maximum(d, 1), left[live, None]).min(
                        axis=1
                    )
                can = np.minimum(fit, left[live])
            else:
                can = np.minimum(ns.room_on(node, rows[live]), left[live])
            open_ = np.nonzero(can > 0)[0]
            if not len(open_):
                break
            free = free_units / room
            s = share[live[open_]]
            rest = ((free[None, :] - s) ** 2).sum(axis=1)
            j = int(np.argmin(rest))  # rows are in index order: ties go to the lowest
            i = int(live[open_[j]])
            # as many of that pod as still bring the free room closer to empty (at least one)
            best = float(free @ s[j]) / max(float(s[j] @ s[j]), 1e-12)
            count = int(min(can[open_[j]], max(1, np.floor(best))))
            k = int(klass[i])
            if ns.cs.one_per_node[k]:
                count = 1
            ns.place(int(rows[i]), np.array([node], dtype=np.int64), np.array([count], dtype=np.int64))
            left[i] -= count
            waiting[rows[i]] -= count
            gone = left[live] <= 0
            if ns.cs.one_per_node[k] or k in ns.rules.conflicts:
                others = set(ns.rules.conflicts.get(k, ())) | ({k} if ns.cs.one_per_node[k] else set())
                gone |= np.isin(klass[live], np.fromiter(others, dtype=np.int64))
            live = live[~gone]


def fit_tightly(ns: NodeSet, waiting: IntArray, nodes: IntArray | None = None) -> None:
    """Place waiting pods on existing nodes (all live ones by default) where they fit most tightly."""
    rows = np.nonzero(waiting > 0)[0].astype(np.int64)
    if not len(rows):
        return
    for row in by_size(ns, rows).tolist():
        pool = ns.live if nodes is None else nodes
        if not len(pool):
            return
        waiting[row] -= _tightest(ns, row, int(waiting[row]), pool)
