"""What one node of a candidate is worth at given pod prices: fractional knapsacks, bounded and exact.

Called by `optimizer.lower_bound` (is some candidate left out of the bound LP worth adding?) and by
`optimizer.pricing` (which node contents to try next). The knapsack of candidate c is
    max sum_k value_k y_k  s.t.  sum_k share_kcr y_k <= 1 for every resource r,  0 <= y_k <= cap_kc,
over the classes that fit c, where share is demand / room. Its LP optimum is computed exactly by HiGHS
(all candidates in one block-diagonal model); `surrogate_bounds` is a cheap, vectorised bound (the
resources merged into one with weights, greedy by value per unit) that rules most candidates out
without an LP.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.highs import INF, LpModel

__all__ = ["BlockKnapsack", "candidate_values", "integer_knapsack", "surrogate_bounds"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def surrogate_bounds(
    share: FloatArray,
    value: FloatArray,
    caps: FloatArray,
    fits: BoolArray,
    cands: IntArray,
    weights: FloatArray,
) -> tuple[FloatArray, BoolArray]:
    """Upper bounds on each listed candidate's knapsack, and the classes the best bound's solution uses.

    `weights`: directions x len(cands) x resources, non-negative. For each direction the resources are
    merged into one (sum_r w_r share_r <= sum_r w_r), a relaxation whose fractional knapsack is solved
    greedily by value per unit of the merged resource; the smallest over directions is returned.
    (At the knapsack LP's own dual prices the merged bound equals the LP optimum.)
    """
    n_dir = weights.shape[0]
    n = len(cands)
    if not n:
        return np.zeros(0), np.zeros((share.shape[0], 0), dtype=bool)
    ok = fits[:, cands] & (value > 0)[:, None]
    cap = np.where(ok, caps[:, cands], 0.0)
    s_all = share[:, cands, :]
    best = np.full(n, np.inf)
    support = np.zeros(ok.shape, dtype=bool)
    cols = np.arange(n)
    for d in range(n_dir):
        w = weights[d]  # cands x resources
        size = (s_all * w[None, :, :]).sum(axis=2) / np.maximum(w.sum(axis=1), 1e-300)[None, :]
        total, used = _fractional(size, value, cap, ok)
        better = total < best
        best = np.where(better, total, best)
        support[:, better[cols]] = used[:, better]
    return best, support


def _fractional(
    size: FloatArray, value: FloatArray, cap: FloatArray, ok: BoolArray
) -> tuple[FloatArray, BoolArray]:
    """Fractional knapsacks of capacity 1, one per column: items by value per size, capped counts."""
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(
            ok, np.where(size > 0, value[:, None] / np.where(size > 0, size, 1.0), np.inf), -np.inf
        )
        order = np.argsort(-density, axis=0, kind="stable")
        s_o = np.take_along_axis(size, order, axis=0)
        cap_o = np.take_along_axis(cap, order, axis=0)
        ok_o = np.take_along_axis(ok, order, axis=0)
        v_o = np.where(ok_o, value[order], 0.0)
        use = np.where(s_o > 0, s_o * cap_o, 0.0)  # capacity the whole cap takes
        cum = np.cumsum(use, axis=0)
        before = np.vstack([np.zeros((1, cum.shape[1])), cum[:-1]])  # taken by the items before
        whole = ok_o & (cum <= 1.0)
        part = ok_o & (before < 1.0) & (cum > 1.0)
        gained = np.where(whole, v_o * cap_o, 0.0) + np.where(
            part, v_o * (1.0 - before) / np.where(s_o > 0, s_o, 1.0), 0.0
        )
        total = np.nan_to_num(gained, nan=0.0, posinf=np.inf).sum(axis=0)
    used = np.zeros(ok.shape, dtype=bool)
    np.put_along_axis(used, order, whole | part, axis=0)
    return total, used


class BlockKnapsack:
    """Every listed candidate's knapsack LP in one HiGHS model; re-solved warm for new values."""

    def __init__(self, share: FloatArray, caps: FloatArray, fits: BoolArray, cands: IntArray) -> None:
        self.cands = np.asarray(cands, dtype=np.int64)
        n_res = share.shape[2]
        ks, pos = np.nonzero(fits[:, self.cands])  # pairs (class, position in cands)
        self.k, self.pos = ks.astype(np.int64), pos.astype(np.int64)
        n = len(self.k)
        s = share[self.k, self.cands[self.pos], :]  # pairs x resources
        var, res = np.nonzero(s > 0)
        starts = np.searchsorted(var, np.arange(n)).astype(np.int64)
        self.lp = LpModel(maximize=True)
        self.lp.add_rows(np.full(len(self.cands) * n_res, -INF), np.ones(len(self.cands) * n_res))
        cap = caps[self.k, self.cands[self.pos]]
        self.lp.add_cols(
            np.zeros(n), np.zeros(n), np.where(np.isfinite(cap), cap, INF), starts,
            (self.pos[var] * n_res + res).astype(np.int64), s[var, res],
        )  # fmt: skip
        self.n_res = n_res

    def set_caps(self, caps: FloatArray) -> None:
        """New per-pair caps (e.g. pods still waiting), same layout as the constructor's."""
        n = len(self.k)
        if n:
            cap = caps[self.k, self.cands[self.pos]]
            self.lp.set_col_bounds(
                np.arange(n, dtype=np.int64), np.zeros(n), np.where(np.isfinite(cap), cap, INF)
            )

    def solve(self, value: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(LP value per candidate, pairs' fractional y, resource prices per candidate x resource)."""
        n = len(self.k)
        if not n:
            return np.zeros(len(self.cands)), np.zeros(0), np.zeros((len(self.cands), self.n_res))
        self.lp.set_costs(np.arange(n, dtype=np.int64), np.maximum(value[self.k], 0.0))
        sol = self.lp.solve()
        y = sol.col_value
        worth = np.bincount(self.pos, weights=np.maximum(value[self.k], 0.0) * y, minlength=len(self.cands))
        prices = np.abs(sol.row_dual).reshape(len(self.cands), self.n_res)
        return worth.astype(np.float64), y, prices.astype(np.float64)


def candidate_values(
    share: FloatArray, value: FloatArray, caps: FloatArray, fits: BoolArray, cands: IntArray
) -> FloatArray:
    """Exact LP value of one node of each candidate in `cands` (only classes with value > 0 count)."""
    worth, _, _ = BlockKnapsack(share, caps, fits & (value > 0)[:, None], cands).solve(value)
    return worth


def integer_knapsack(
    share: FloatArray, value: FloatArray, cap: FloatArray, node_limit: int = 200
) -> IntArray | None:
    """Whole items maximising value with every resource share summing to at most 1 (HiGHS MIP).

    `share`: items x resources, `value`, `cap`: per item. For the blocks where rounding the LP
    optimum finds nothing worth its price although the LP says something is.
    """
    n, n_res = share.shape
    lp = LpModel(maximize=True)
    lp.add_rows(np.full(n_res, -INF), np.ones(n_res))
    item, res = np.nonzero(share > 0)
    starts = np.searchsorted(item, np.arange(n)).astype(np.int64)
    lp.add_cols(value, np.zeros(n), cap, starts, res.astype(np.int64), share[item, res])
    lp.set_integer(np.arange(n, dtype=np.int64), node_limit)
    found = lp.solve_mip()
    if found is None:
        return None
    out: IntArray = np.round(found[0]).astype(np.int64)
    return out
