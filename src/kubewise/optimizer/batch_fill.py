"""Greedy node fills for many blocks at once: each walks its own row order, all in one numpy loop.

Called by `optimizer.pricing`. A fill starts from some pods already on the node and, row by row in the
given order, adds as many pods of the row as its cap and the room left allow. Fills are independent, so
one loop over order positions serves a whole batch (numpy over the batch); it stops early once no node
of the batch has room for the smallest pod.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["FillBatch", "batch_fill", "top_rows"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_BIG = np.int64(1) << np.int64(60)


@dataclass(slots=True)
class FillBatch:
    """B fills over at most P rows each: `order[i, j]` is fill i's j-th row (-1 = none)."""

    room: IntArray  # B x resources: the empty node's room
    order: IntArray  # B x P
    start: IntArray  # B x P: pods of the row already on the node
    cap: IntArray  # B x P: most pods of the row the node may hold


def top_rows(pos: IntArray, rows: IntArray, score: FloatArray, n_blocks: int, width: int) -> IntArray:
    """n_blocks x width: each block's rows (from the pairs `pos`, `rows`) by decreasing score, -1 padded."""
    out = np.full((n_blocks, width), -1, dtype=np.int64)
    if not len(pos):
        return out
    order = np.lexsort((rows, -score, pos))
    pos_o, rows_o = pos[order], rows[order]
    first = np.searchsorted(pos_o, np.arange(n_blocks))
    rank = np.arange(len(pos_o)) - first[pos_o]
    keep = rank < width
    out[pos_o[keep], rank[keep]] = rows_o[keep]
    return out


def batch_fill(batch: FillBatch, demand: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Counts per (fill, position), and which fills were valid (their start fit the node)."""
    order = batch.order
    slot_ok = order >= 0
    safe = np.where(slot_ok, order, 0)
    need = demand[safe]  # B x P x resources
    count = np.where(slot_ok, np.minimum(batch.start, batch.cap), 0)
    room = batch.room - np.einsum("bp,bpr->br", count, need)
    valid = (room >= 0).all(axis=1)
    smallest = np.where(slot_ok[:, :, None], need, _BIG).min(axis=1)  # B x resources
    for j in range(order.shape[1]):
        if j % 8 == 0 and not ((room >= smallest).all(axis=1) & valid).any():
            break
        d = need[:, j, :]
        fit = np.where(d > 0, room // np.maximum(d, 1), _BIG).min(axis=1)
        add = np.minimum(fit, batch.cap[:, j] - count[:, j])
        add = np.where(slot_ok[:, j] & valid, np.maximum(add, 0), 0)
        count[:, j] += add
        room -= add[:, None] * d
    return count, valid
