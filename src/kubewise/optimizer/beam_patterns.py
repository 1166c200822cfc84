"""Node patterns by beam search: whole-pod combinations where nodes hold a handful of large pods.

Called by `optimizer.polish`. When a node holds three to six large pods, rounding a block's knapsack
LP (`optimizer.pricing`) misses most of the combinations that pay: which pods share a node decides
the cost, and the LP's fractional node is no guide to them. Here the blocks whose knapsack LP says a
node could pay most per price are searched pod by pod: partial nodes (rows in non-decreasing order,
so each combination is reached once) grow by one pod at a time, and after each step the `width` most
promising are kept -- half by the duals they carry, half by those duals per share of the node they
fill -- so that both big and well-packed nodes survive. The partial nodes worth most, and more than
their price, are patterns. Only for plain rules (no per-node conflicts or spread caps,
`NodeRules.trivial`): resources, zone and pods per node are all it checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.master import Pattern
from kubewise.optimizer.pricing import PatternPricer

__all__ = ["beam_patterns", "block_beam"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_LP_SLACK = 1e-6
MAX_PODS = 12  # pods per pattern at most: the search is meant for nodes of a few large pods


def _room_worth(free: IntArray, per_unit: FloatArray) -> FloatArray:
    """The most free room can add, per resource; unbounded where some pod needs none of it."""
    out: FloatArray = np.where(
        np.isinf(per_unit)[None, :], np.inf, free * np.where(np.isinf(per_unit), 0.0, per_unit)[None, :]
    )
    return out


def block_beam(
    demand: IntArray, value: FloatArray, cap: IntArray, room: IntArray, price: float, width: int, keep: int
) -> list[tuple[IntArray, IntArray]]:
    """(items, counts), items being indices into `value`, of the `keep` nodes worth most (more than
    `price`) that the search meets, best first. `cap[i]`: most pods of item i per node. A state
    that could not pay even if its free room were filled at the best value per unit of each
    resource is dropped, so with `width` and `keep` at least the number of states the search is
    exhaustive. Blocks where no resource stops a node at `MAX_PODS` pods are outside what it is
    for: none."""
    n = len(value)
    order = np.argsort(-value, kind="stable")
    d, v, c = demand[order], value[order], cap[order]
    first = np.nonzero((d <= room).all(axis=1) & (c > 0))[0]
    # resources that may bind: one pod per step, so those with room for MAX_PODS of the largest pod
    # never do (the pod count, usually)
    binding = [r for r in range(d.shape[1]) if room[r] < MAX_PODS * int(d[:, r].max(initial=0))]
    # the most a node's free room can still add, resource by resource: room x best value per unit
    per_unit = np.where(d > 0, v[:, None] / np.maximum(d, 1), np.inf).max(axis=0, initial=0.0)
    if not binding or float(_room_worth(room[None, binding], per_unit[binding]).min()) <= price * (1 + 1e-9):
        return []  # no resource limits the node to a few pods, or even the best pods could not pay
    items = first[:, None]  # states x depth: item positions, non-decreasing
    last, run = first.copy(), np.ones(len(first), dtype=np.int64)
    worth = v[first].copy()
    left = room[None, :] - d[first]
    scale = np.maximum(room, 1).astype(float)
    found: list[tuple[FloatArray, IntArray]] = []  # per depth: the paying states' worth and items
    positions = np.arange(n)
    for depth in range(MAX_PODS):
        paying = worth > price * (1.0 + 1e-9)
        if paying.any():
            found.append((worth[paying], items[paying]))
        if depth == MAX_PODS - 1 or not len(worth):
            break
        # a later item, or one more pod of the last one while its cap allows
        grow = (positions[None, :] > last[:, None]) | (
            (positions[None, :] == last[:, None]) & (run < c[last])[:, None]
        )
        for r in binding:
            grow &= d[None, :, r] <= left[:, r][:, None]
        s, j = np.nonzero(grow)
        if not len(s):
            break
        w = worth[s] + v[j]
        after = left[s] - d[j]
        hope = w + np.min(_room_worth(after[:, binding], per_unit[binding]), axis=1)
        alive = hope > price * (1.0 + 1e-9)
        s, j, w, after = s[alive], j[alive], w[alive], after[alive]
        if len(s) > width:
            filled = ((room[None, :] - after) / scale[None, :]).max(axis=1)
            half = width // 2
            kept = np.union1d(
                np.argpartition(-w, half)[:half],
                np.argpartition(-w / np.maximum(filled, 1e-9), half)[:half],
            )
            s, j, w, after = s[kept], j[kept], w[kept], after[kept]
        items = np.concatenate([items[s], j[:, None]], axis=1)
        run = np.where(j == last[s], run[s] + 1, 1)
        last, left, worth = j, after, w
    return _best_found(found, order, keep)


def _best_found(
    found: list[tuple[FloatArray, IntArray]], order: IntArray, keep: int
) -> list[tuple[IntArray, IntArray]]:
    """The `keep` paying states worth most, as (items, counts); the first found wins a tie."""
    if not found:
        return []
    worth = np.concatenate([w for w, _ in found])
    at = np.concatenate([np.full(len(w), d) for d, (w, _) in enumerate(found)])
    idx = np.concatenate([np.arange(len(w)) for w, _ in found])
    best = np.lexsort((np.arange(len(worth)), -worth))[:keep]
    out = []
    for i in best.tolist():
        pods = Counter(order[found[at[i]][1][idx[i]]].tolist())  # a dozen pods at most: plain Python
        rows = sorted(pods)
        out.append((np.array(rows, dtype=np.int64), np.array([pods[r] for r in rows], dtype=np.int64)))
    return out


def beam_patterns(
    pricer: PatternPricer,
    blocks: Sequence[int],
    duals: FloatArray,
    waiting: IntArray,
    width: int,
    rows_per_block: int,
    per_block: int,
    max_blocks: int,
) -> list[Pattern]:
    """Patterns on `blocks` that beat their price at `duals`, by `block_beam` over each block's
    `rows_per_block` rows worth most per share of its node, pods limited to those `waiting`; at most
    `per_block` per block, those worth most. Of the blocks whose knapsack LP pays, the `max_blocks`
    it says are worth most per price are searched (the others may pay at the next duals). None
    unless the rules are plain."""
    if not pricer.rules.trivial:
        return []
    out: list[Pattern] = []
    # HiGHS solves the LP to ~1e-7: a block within that of paying is searched all the same
    paying, worth = pricer.may_pay(np.asarray(blocks, dtype=np.int64), duals, waiting, -_LP_SLACK)
    paying = paying[np.argsort(-worth / pricer.prices[paying], kind="stable")[:max_blocks]]
    for b in paying.tolist():
        rows = np.nonzero(pricer.fits[:, b] & (waiting > 0) & (duals > 0))[0]
        if not len(rows):
            continue
        if len(rows) > rows_per_block:  # by duals per largest share and per summed share of the node
            share = pricer.demand[rows] / np.maximum(pricer.room[b], 1)[None, :]
            half = rows_per_block // 2
            rows = np.union1d(
                rows[np.argsort(-duals[rows] / np.maximum(share.max(axis=1), 1e-12), kind="stable")[:half]],
                rows[np.argsort(-duals[rows] / np.maximum(share.sum(axis=1), 1e-12), kind="stable")[:half]],
            )
        cap = np.minimum(pricer.per_node[rows, b], waiting[rows])
        for items, counts in block_beam(
            pricer.demand[rows], duals[rows], cap, pricer.room[b], float(pricer.prices[b]), width, per_block
        ):
            out.append(Pattern(int(b), rows[items], counts))
    return out
