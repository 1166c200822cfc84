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

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.highs import INF, LpModel

__all__ = ["BlockKnapsack", "surrogate_bounds"]

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
    enough: FloatArray | None = None,
) -> FloatArray:
    """Upper bounds on each listed candidate's knapsack.

    `weights`: directions x len(cands) x resources, non-negative. For each direction the resources are
    merged into one (sum_r w_r share_r <= sum_r w_r), a relaxation whose fractional knapsack is solved
    greedily by value per unit of the merged resource; the smallest over directions is returned.
    (At the knapsack LP's own dual prices the merged bound equals the LP optimum.) With `enough`, a
    candidate whose best value per unit of merged resource is already at most `enough` gets that as
    its bound (a node holds one unit) and skips the greedy, which sorts and is the costly part.
    """
    n_dir = weights.shape[0]
    n = len(cands)
    if not n:
        return np.zeros(0)
    ok = fits[:, cands] & (value > 0)[:, None]
    s_all = share[:, cands, :]
    sizes = []
    best = np.full(n, np.inf)
    for d in range(n_dir):
        w = weights[d]  # cands x resources
        size = (s_all * w[None, :, :]).sum(axis=2) / np.maximum(w.sum(axis=1), 1e-300)[None, :]
        sizes.append(size)
        with np.errstate(divide="ignore", invalid="ignore"):
            density = np.where(
                ok, np.where(size > 0, value[:, None] / np.where(size > 0, size, 1.0), np.inf), 0.0
            )
        best = np.minimum(best, density.max(axis=0, initial=0.0))
    rest = np.arange(n) if enough is None else np.nonzero(best > enough)[0]
    if not len(rest):
        return best
    cap = np.where(ok[:, rest], caps[:, cands[rest]], 0.0)
    for d in range(n_dir):
        total = _fractional(sizes[d][:, rest], value, cap, ok[:, rest])
        best[rest] = np.minimum(best[rest], total)
    return best


def _fractional(size: FloatArray, value: FloatArray, cap: FloatArray, ok: BoolArray) -> FloatArray:
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
        total: FloatArray = np.nan_to_num(gained, nan=0.0, posinf=np.inf).sum(axis=0)
    return total


class BlockKnapsack:
    """Every listed candidate's knapsack LP in one HiGHS model; re-solved warm for new values."""

    def __init__(
        self,
        share: FloatArray,
        caps: FloatArray,
        fits: BoolArray,
        cands: IntArray,
        cuts: Mapping[int, Sequence[tuple[FloatArray, float]]] | None = None,
    ) -> None:
        """`cuts`: per candidate, rows sum_k a_k y_k <= b (a per class) that every node of it obeys."""
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
        for p, c in enumerate(self.cands.tolist()):
            for a, b in (cuts or {}).get(c, ()):
                cols = np.nonzero((self.pos == p) & (a[self.k] > 0))[0]
                self.lp.add_rows_csr(
                    np.array([-INF]), np.array([b]), np.zeros(1, dtype=np.int64), cols, a[self.k[cols]]
                )

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
        prices = np.abs(sol.row_dual[: len(self.cands) * self.n_res]).reshape(len(self.cands), self.n_res)
        return worth.astype(np.float64), y, prices.astype(np.float64)
