"""Every two-pod node worth its price: the first columns of the pattern LP where nodes hold few pods.

Called by `optimizer.polish`. When nodes hold two or three large pods, which pods share a node decides
the cost, and pricing one knapsack per block per round finds the right pairs slowly: the LP needs
about one pattern per node and each round brings a few dozen. Here every pair of rows that fits a
priced block together (resources, zone, one pod per node, conflicts, hostname spread caps) and is
worth at least `EFFICIENT` of the node's price at the bound LP's pod prices becomes a pattern at once,
the best `LIMIT` by worth per price when there are more. Pricing then goes on from there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.master import Pattern
from kubewise.optimizer.pricing import PatternPricer

__all__ = ["EFFICIENT", "FEW_PODS_PER_NODE", "LIMIT", "pair_patterns"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

EFFICIENT = 0.85  # a pair is kept when its pods are worth this share of the node's price
LIMIT = 150_000  # pair patterns at most (the LP re-solves in time that grows with its columns)
_CHUNK = 256  # rows checked at once against all others (memory: _CHUNK x rows x resources)
_WORK = 200_000_000  # row pairs x blocks at most; beyond that, pricing alone
FEW_PODS_PER_NODE = 3.0  # pairs are tried only where the bound LP's nodes hold about this few pods


def _row_conflicts(pricer: PatternPricer) -> BoolArray:
    """rows x rows: the two rows' pods may not share a node (conflicts, or a spread cap below two)."""
    klass = pricer.rows.klass
    n_cls = len(pricer.cs.per_node)
    conflict = np.zeros((n_cls, n_cls), dtype=bool)
    for k, others in pricer.rules.conflicts.items():
        conflict[k, list(others)] = True
    for g, cap in enumerate(pricer.rules.group_cap):
        if cap < 2:  # two pods of such a group may not share a node (a larger cap always allows two)
            members = [k for k, groups in pricer.rules.groups_of.items() if g in groups]
            conflict[np.ix_(members, members)] = True
    out: BoolArray = conflict[klass][:, klass]
    return out


def _block_pairs(
    pricer: PatternPricer, b: int, value: FloatArray, waiting: IntArray, conflict: BoolArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """The block's efficient pairs (row i <= row j, i == j meaning two pods of one row) and their worth,
    checked `_CHUNK` rows at a time against all the others so that memory stays small."""
    rows = np.nonzero(pricer.fits[:, b] & (waiting > 0) & (value > 0))[0]
    d = pricer.demand[rows]
    klass = pricer.rows.klass[rows]
    two_fit = pricer.per_node[rows, b] >= 2
    enough = pricer.prices[b] * EFFICIENT
    out_i, out_j, out_w = [], [], []
    for lo in range(0, len(rows), _CHUNK):
        part = np.arange(lo, min(lo + _CHUNK, len(rows)))
        worth = value[rows[part]][:, None] + value[rows][None, :]
        ok = (worth >= enough) & (part[:, None] <= np.arange(len(rows))[None, :])
        ok &= ((d[part][:, None, :] + d[None, :, :]) <= pricer.room[b][None, None, :]).all(axis=2)
        ok &= ~conflict[np.ix_(rows[part], rows)]
        same_class = klass[part][:, None] == klass[None, :]
        ok &= ~same_class | (two_fit[part][:, None] & two_fit[None, :])
        diagonal = part[:, None] == np.arange(len(rows))[None, :]
        ok &= ~diagonal | (waiting[rows[part]] >= 2)[:, None]
        i, j = np.nonzero(ok)
        out_i.append(rows[part[i]])
        out_j.append(rows[j])
        out_w.append(worth[i, j])
    if not out_i:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_w)


def pair_patterns(
    pricer: PatternPricer, blocks: Sequence[int], value: FloatArray, waiting: IntArray, pods_per_node: float
) -> list[Pattern]:
    """Two-pod patterns on `blocks` worth at least `EFFICIENT` of their price at `value` (per row);
    none when the bound LP's nodes hold more than a few pods each (`pods_per_node`), where pricing
    alone does well, or when there are too many pairs to try."""
    if pods_per_node > FEW_PODS_PER_NODE or not len(blocks):
        return []
    live = int(((waiting > 0) & (value > 0)).sum())
    if live * live * len(blocks) > _WORK:
        return []  # too large to try every pair: pricing alone finds the patterns, more slowly
    conflict = _row_conflicts(pricer)
    found: list[tuple[int, IntArray, IntArray, FloatArray]] = []
    for b in blocks:
        i, j, worth = _block_pairs(pricer, b, value, waiting, conflict)
        if len(i):
            found.append((b, i, j, worth / pricer.prices[b]))
    if not found:
        return []
    ratio = np.concatenate([f[3] for f in found])
    keep = np.zeros(len(ratio), dtype=bool)
    keep[np.argsort(-ratio, kind="stable")[:LIMIT]] = True
    out: list[Pattern] = []
    at = 0
    for b, i, j, _ in found:
        for a, c, k in zip(i.tolist(), j.tolist(), keep[at : at + len(i)].tolist(), strict=True):
            if k:
                pair = np.array([a], dtype=np.int64) if a == c else np.array([a, c], dtype=np.int64)
                counts = np.array([2], dtype=np.int64) if a == c else np.array([1, 1], dtype=np.int64)
                out.append(Pattern(b, pair, counts))
        at += len(i)
    return out
