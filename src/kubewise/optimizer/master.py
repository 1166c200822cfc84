"""The node-pattern LP: how many nodes of each known pattern cover every demand row most cheaply.

Called by `optimizer.column_generation`. A pattern is one node's contents: a pricing block (candidate
and zone) and whole pods per demand row. The LP is
    min sum_p price_p z_p   s.t.  sum_p count_pr z_p >= remaining_r  for every row r,  z >= 0,
re-solved warm as patterns arrive (`optimizer.pricing`) and as rounding fixes nodes (rows' right-hand
sides shrink). Its duals price one more pod of each row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.highs import INF, LpModel

__all__ = ["Pattern", "PatternLp"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Pattern:
    """One node: pricing block `block`, `counts[i]` pods of demand row `rows[i]`."""

    block: int
    rows: IntArray
    counts: IntArray

    def key(self) -> tuple[int, bytes, bytes]:
        return (self.block, self.rows.tobytes(), self.counts.tobytes())


class PatternLp:
    """The master LP with its patterns; `solve` returns (cost, pattern values, row duals)."""

    def __init__(self, demand: IntArray) -> None:
        self.lp = LpModel()
        self.n_rows = len(demand)
        self.lp.add_rows(demand.astype(float), np.full(self.n_rows, INF))
        self.patterns: list[Pattern] = []
        self.price: list[float] = []
        self._seen: set[tuple[int, bytes, bytes]] = set()
        self.last_reduced_cost: FloatArray = np.zeros(0)

    def add(self, patterns: list[Pattern], prices: list[float]) -> int:
        """Add the patterns not already present; returns how many were new."""
        fresh = [(p, c) for p, c in zip(patterns, prices, strict=True) if p.key() not in self._seen]
        if not fresh:
            return 0
        starts = np.cumsum([0] + [len(p.rows) for p, _ in fresh[:-1]]).astype(np.int64)
        rows = np.concatenate([p.rows for p, _ in fresh])
        vals = np.concatenate([p.counts for p, _ in fresh]).astype(float)
        n = len(fresh)
        cost = np.array([c for _, c in fresh])
        self.lp.add_cols(cost, np.zeros(n), np.full(n, INF), starts, rows, vals)
        self.lp.prefer_primal(True)
        for p, c in fresh:
            self._seen.add(p.key())
            self.patterns.append(p)
            self.price.append(c)
        return n

    def prune(self, keep_at_most: int, reduced_cost: FloatArray, value: FloatArray) -> None:
        """Drop the patterns least likely to be used (largest reduced cost, unused) beyond `keep_at_most`.

        The LP re-solves in time that grows with its columns; most generated patterns are never used
        again once better ones exist. Dropped patterns may be generated again later if they pay."""
        n = len(self.patterns)
        if n <= keep_at_most:
            return
        used = value > 1e-9
        order = np.lexsort((np.arange(n), reduced_cost, ~used))  # used first, then cheapest reduced cost
        drop = np.sort(order[keep_at_most:])
        drop = drop[~used[drop]]
        if not len(drop):
            return
        self.lp.delete_cols(drop)
        gone = set(drop.tolist())
        for j in drop.tolist():
            self._seen.discard(self.patterns[j].key())
        self.patterns = [p for j, p in enumerate(self.patterns) if j not in gone]
        self.price = [c for j, c in enumerate(self.price) if j not in gone]

    def set_demand(self, demand: IntArray) -> None:
        self.lp.prefer_primal(False)
        self.lp.set_row_bounds(
            np.arange(self.n_rows, dtype=np.int64), demand.astype(float), np.full(self.n_rows, INF)
        )

    def solve(self) -> tuple[float, FloatArray, FloatArray]:
        sol = self.lp.solve()
        self.last_reduced_cost = sol.col_dual
        return sol.objective, sol.col_value, np.maximum(sol.row_dual, 0.0)
