"""LP lower bound on the cost of any valid plan, solved with HiGHS by pricing candidates in.

Called by `optimizer.planner`. Variables: x_c >= 0 nodes of candidate c (fractional) and y_kc >= 0 pods
of class k on candidate c. Every valid plan is a feasible point, so the LP optimum bounds its cost from
below:
    min  sum_c price_c x_c
    s.t. sum_c y_kc = n_k                              every pod runs somewhere
         sum_k (demand_kr / room_cr) y_kc <= x_c       resources, per candidate and resource
         y_kc <= per_node_kc x_c                       no node holds more pods of a class than fit alone
The last family counts whole pods per node; where a node holds many pods of the class it adds almost
nothing over the resource rows and is left out (dropping rows keeps the bound valid), and the others
are added only once the LP's solution breaks them. Zones, topology
spread and pod affinity are relaxed (left out), which keeps the bound valid too.

Most pairs stay zero. The LP starts from each class's few cheapest candidates; after each solve, a
candidate whose node could hold pods worth more than its price at the current dual prices (its
fractional knapsack, `optimizer.knapsack`) brings in the pairs that make it so. When no candidate can,
the duals are feasible for the full LP, so the restricted optimum is the full optimum: the bound is exact.

The LP lets a node be filled to the brim with fractions of pods. Where its nodes hold a few pods, whole
pods fill them worse, and the planner's bound (`whole_pod_rounds`) adds rows that say so: for a node
type, what one node of whole pods can be worth at the LP's pod prices (`_whole_pod_cuts`). The rows
hold for every node of every plan, so the bound stays valid; the knapsacks that certify it keep them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.candidates import CandidateSet, share_matrix
from kubewise.optimizer.highs import INF, LpModel, LpSolution, csc, integer_knapsack_bound
from kubewise.optimizer.knapsack import BlockKnapsack, surrogate_bounds

__all__ = ["LowerBound", "solve_lower_bound"]

# HiGHS meets its optimality tolerances to ~1e-7 relative; shave more than that so the bound stays below.
_SAFETY = 1.0 - 1e-6
CUT_LIMIT = 40  # per-node cut rows only where fewer pods of the class fit on a node
_START_PER_CLASS = 3  # cheapest candidates per class to start from, by each of two measures
_CLOSE_ENOUGH = 1e-3  # stop adding pairs once the proven bound is within 0.1% of the restricted LP
_EXACT_PER_ROUND = 16  # candidates whose knapsack is solved exactly per round, the most promising first
_CARRIED = 4  # candidates whose resource prices are tried on every other candidate
_NEAR = 0.3  # with a candidate that pays, also bring in pairs within 30% of paying at its prices
WHOLE_POD_ROUNDS = 2  # rounds of whole-pod cuts the planner's bound adds (see `_whole_pod_cuts`)
_CUT_PODS = 6.0  # ... on candidates whose LP nodes hold at most this many pods
_CUTS_PER_ROUND = 8  # ... the ones the LP spends most on first
_CUT_SPEND = 0.05  # ... and only those with at least this share of the LP's spend (below, not worth a MIP)
_CUT_NODES = 200  # branch-and-bound nodes per cut
_CUT_ITEMS = 400  # ... and only where at most this many classes fit (HiGHS' root work grows with them)
_CUT_MIN_GAIN = 1e-4  # a cut must cut the LP's point by at least this share of its value

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(slots=True)
class LowerBound:
    value: float
    nodes: FloatArray  # candidates: fractional node counts (the LP's x)
    value_bound: FloatArray  # candidates: at most what one node of it holds at the pods' dual prices
    pod_value: FloatArray  # classes: dual price of one more pod of the class
    pairs: int = 0  # class/candidate pairs the LP needed
    rounds: int = 0
    # the LP's pods per (class, candidate): classes, candidates, fractional pods (y > 0 only)
    assignment: tuple[IntArray, IntArray, FloatArray] = field(
        default_factory=lambda: (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    )


class _BoundLp:
    """The bound LP over the pairs added so far (every candidate has its x column from the start)."""

    def __init__(self, cs: CandidateSet, counts: IntArray, classes: IntArray, prices: FloatArray) -> None:
        self.cs = cs
        n_cand, n_res = len(cs.candidates), len(cs.resources)
        self.n_res = n_res
        self.lp = LpModel()
        self.eq_row = np.full(len(counts), -1, dtype=np.int64)
        self.eq_row[classes] = np.arange(len(classes))
        b = counts[classes].astype(float)
        self.lp.add_rows(b, b)
        self.res_base = len(classes)  # row of (c, r) = res_base + c * n_res + r
        self.lp.add_rows(np.full(n_cand * n_res, -INF), np.zeros(n_cand * n_res))
        self.pool_base = self.res_base + n_cand * n_res  # row of pool i = pool_base + i
        pools, need = _pools(cs, counts, classes)
        self.pool_of = np.zeros((len(pools), n_cand), dtype=bool)
        for i, members in enumerate(pools):
            self.pool_of[i, members] = True
        self.lp.add_rows(need, np.full(len(need), INF))
        self.need = need
        self.share = share_matrix(cs)
        columns = []
        for c in range(n_cand):
            in_pools = self.pool_base + np.nonzero(self.pool_of[:, c])[0]
            rows_c = np.concatenate([self.res_base + c * n_res + np.arange(n_res), in_pools])
            columns.append((rows_c, np.concatenate([-np.ones(n_res), np.ones(len(in_pools))])))
        starts, rows, vals = csc(columns)
        self.lp.add_cols(prices, np.zeros(n_cand), np.full(n_cand, INF), starts, rows, vals)
        self.present = np.zeros(cs.per_node.shape, dtype=bool)
        self.cut = np.zeros(cs.per_node.shape, dtype=bool)
        self.col_of = np.full(cs.per_node.shape, -1, dtype=np.int64)
        self.cuts: dict[int, list[tuple[int, FloatArray, float]]] = {}  # candidate -> (row, a, b)

    def add_pairs(self, ks: IntArray, cands: IntArray) -> None:
        """Columns y_kc for the given pairs (their per-node cuts come later, if the LP breaks them)."""
        new = ~self.present[ks, cands]
        ks, cands = ks[new], cands[new]
        if not len(ks):
            return
        s = self.share[ks, cands, :]  # pairs x resources
        pair_res, res = np.nonzero(s > 0)
        pair = np.concatenate([np.arange(len(ks)), pair_res])
        row = np.concatenate([self.eq_row[ks], self.res_base + cands[pair_res] * self.n_res + res])
        val = np.concatenate([np.ones(len(ks)), s[pair_res, res]])
        for c, cuts in self.cuts.items():  # the new pairs' entries in the cut rows already there
            on_c = np.nonzero(cands == c)[0]
            for cut_row, a, _ in cuts:
                hit = on_c[a[ks[on_c]] > 0]
                pair = np.concatenate([pair, hit])
                row = np.concatenate([row, np.full(len(hit), cut_row, dtype=np.int64)])
                val = np.concatenate([val, a[ks[hit]]])
        order = np.argsort(pair, kind="stable")
        starts = np.searchsorted(pair[order], np.arange(len(ks))).astype(np.int64)
        n = len(ks)
        self.col_of[ks, cands] = self.lp.num_cols + np.arange(n)
        self.lp.add_cols(
            np.zeros(n), np.zeros(n), np.full(n, INF), starts, row[order].astype(np.int64), val[order]
        )
        self.present[ks, cands] = True

    def add_broken_cuts(self, sol: LpSolution, caps: FloatArray) -> bool:
        """Rows y_kc <= per_node_kc x_c for the pairs whose values break them; False if none does."""
        ks, cands = np.nonzero(self.present & ~self.cut & np.isfinite(caps))
        y = sol.col_value[self.col_of[ks, cands]]
        broken = y > caps[ks, cands] * sol.col_value[cands] + 1e-9 * np.maximum(1.0, y)
        ks, cands = ks[broken], cands[broken]
        n = len(ks)
        if not n:
            return False
        cols = np.stack([self.col_of[ks, cands], cands], axis=1).ravel()
        vals = np.stack([np.ones(n), -caps[ks, cands]], axis=1).ravel()
        self.lp.add_rows_csr(np.full(n, -INF), np.zeros(n), 2 * np.arange(n, dtype=np.int64), cols, vals)
        self.cut[ks, cands] = True
        return True

    def add_cut(self, c: int, a: FloatArray, b: float) -> None:
        """The row sum_k a_k y_kc <= b x_c (a >= 0 per class; pairs added later join it)."""
        ks = np.nonzero(self.present[:, c] & (a > 0))[0]
        cols = np.concatenate([self.col_of[ks, c], [c]]).astype(np.int64)
        vals = np.concatenate([a[ks], [-b]])
        self.cuts.setdefault(c, []).append((self.lp.num_rows, a, b))
        self.lp.add_rows_csr(np.array([-INF]), np.zeros(1), np.zeros(1, dtype=np.int64), cols, vals)

    def knapsack_cuts(self) -> dict[int, list[tuple[FloatArray, float]]]:
        """The cuts per candidate in the form one node's knapsack takes them: sum_k a_k y_k <= b."""
        return {c: [(a, b) for _, a, b in cuts] for c, cuts in self.cuts.items()}

    def pool_charges(self, sol: LpSolution) -> tuple[float, FloatArray]:
        """What the pool rows add to the bound, and what they charge each candidate's node for it."""
        sigma = np.maximum(sol.row_dual[self.pool_base : self.pool_base + len(self.need)], 0.0)
        return float(self.need @ sigma), sigma @ self.pool_of.astype(float)

    def pod_values(self, sol: LpSolution) -> FloatArray:
        pi = np.zeros(len(self.eq_row))
        active = self.eq_row >= 0
        pi[active] = sol.row_dual[self.eq_row[active]]
        return pi


def _pools(cs: CandidateSet, counts: IntArray, classes: IntArray) -> tuple[list[IntArray], FloatArray]:
    """Sets of candidates some pods can only run on (one per distinct set of candidates a class fits),
    and the whole nodes each set needs at least: every pod that fits only there must be on one of them,
    and none of them has more room than the largest. The LP alone would buy a third of a node of a pool
    that three small pods need; a plan buys a whole one."""
    fits = cs.fits[classes]
    distinct: dict[bytes, int] = {}
    for i, row in enumerate(fits):
        distinct.setdefault(row.tobytes(), i)
    demand = cs.demand[classes] * counts[classes][:, None]
    pools, need = [], []
    for i in distinct.values():
        pool = fits[i]
        inside = ~(fits & ~pool[None, :]).any(axis=1)  # classes that fit nowhere else
        largest = np.maximum(cs.room[pool].max(axis=0), 1)
        nodes = float(np.ceil((demand[inside].sum(axis=0) / largest).max() - 1e-9))
        pools.append(np.nonzero(pool)[0].astype(np.int64))
        need.append(max(1.0, nodes))
    return pools, np.array(need, dtype=float)


def _start_pairs(
    share: FloatArray, cs: CandidateSet, fits: BoolArray, prices: FloatArray
) -> tuple[IntArray, IntArray]:
    """Each class's cheapest candidates per pod: by whole pods per node, and by its largest share."""
    chosen = np.zeros(fits.shape, dtype=bool)
    with np.errstate(divide="ignore"):
        for cost in (prices[None, :] / np.maximum(cs.per_node, 1), prices[None, :] * share.max(axis=2)):
            ranked = np.argsort(np.where(fits, cost, np.inf), axis=1, kind="stable")[:, :_START_PER_CLASS]
            rows = np.repeat(np.arange(fits.shape[0]), ranked.shape[1])
            chosen[rows, ranked.ravel()] = True
    ks, cands = np.nonzero(chosen & fits)
    return ks.astype(np.int64), cands.astype(np.int64)


def _whole_pod_cuts(
    model: _BoundLp, sol: LpSolution, pi: FloatArray, cs: CandidateSet, counts: IntArray, prices: FloatArray
) -> int:
    """Cuts from whole pods, on the candidates whose LP nodes hold a few pods; returns how many.

    The LP fills each node to the brim with fractions of pods; a node of whole pods is worth less at
    the same pod prices. For candidate c, b = an upper bound on what one node of whole pods is worth
    at the prices a = max(pi, 0) (HiGHS' branch and bound on that knapsack, stopped after a few
    nodes: its proven bound is enough). Every node of every plan obeys sum_k a_k pods_k <= b, so all
    nodes of c together obey sum_k a_k y_kc <= b x_c: a valid row, added where the LP breaks it."""
    n_cand = len(cs.candidates)
    x = sol.col_value[:n_cand]
    ks, cands = np.nonzero(model.present)
    y = sol.col_value[model.col_of[ks, cands]]
    value = np.maximum(pi, 0.0)
    pods = np.bincount(cands, weights=y, minlength=n_cand)
    worth = np.bincount(cands, weights=value[ks] * y, minlength=n_cand)
    spend = x * prices
    few = np.nonzero((spend >= _CUT_SPEND * spend.sum()) & (pods <= _CUT_PODS * x))[0]
    added = 0
    for c in few[np.argsort(-spend[few], kind="stable")][:_CUTS_PER_ROUND].tolist():
        items = np.nonzero(cs.fits[:, c] & (value > 0) & (counts > 0))[0]
        if len(items) > _CUT_ITEMS:
            continue
        upper = np.minimum(cs.per_node[items, c], counts[items]).astype(float)
        weight = cs.demand[items].astype(float)
        b = integer_knapsack_bound(value[items], weight, cs.room[c].astype(float), upper, _CUT_NODES)
        if b is None:
            continue
        b = b * (1.0 + 1e-7) + 1e-12  # HiGHS' tolerances: keep the row on the safe side
        if worth[c] > b * x[c] * (1.0 + _CUT_MIN_GAIN):
            a = np.zeros(len(pi))
            a[items] = value[items]
            model.add_cut(c, a, b)
            added += 1
    return added


def _exact_pairs(
    share: FloatArray, pi: FloatArray, knap: BlockKnapsack, prices: FloatArray, tol: float
) -> tuple[FloatArray, IntArray, IntArray, FloatArray]:
    """Each candidate's exact knapsack value, the pairs of those beating their price (those it fills,
    and those worth more than their resources at its prices), and every candidate's resource prices."""
    worth, y, res_price = knap.solve(pi)
    bad = (worth > prices[knap.cands] + tol)[knap.pos]
    gain = pi[knap.k] - (share[knap.k, knap.cands[knap.pos], :] * res_price[knap.pos]).sum(axis=1)
    take = bad & ((y > 1e-9) | (gain > -_NEAR * pi[knap.k]))
    return worth, knap.k[take], knap.cands[knap.pos[take]], res_price


def _directions(
    cs: CandidateSet, lp_prices: FloatArray, known: FloatArray, nodes: FloatArray, prices: FloatArray
) -> FloatArray:
    """Resource weightings to merge a candidate's resources by: all alike, the bound LP's own resource
    prices for it, the last exact knapsack's prices, and the prices per unit
    of resource (not of node) that the LP pays on the candidates it uses most, carried over to this
    candidate's room -- at an optimum, nodes compete at similar prices per core and per GiB."""
    n_cand, n_res = lp_prices.shape
    even = np.ones((n_cand, n_res))
    lp = np.where(lp_prices.sum(axis=1, keepdims=True) > 0, lp_prices, even)
    room = np.maximum(cs.room, 1).astype(float)
    spend = nodes * prices
    carried = []
    for c in np.argsort(-spend, kind="stable")[:_CARRIED].tolist():
        if spend[c] <= 0 or lp_prices[c].sum() <= 0:
            break
        per_unit = lp_prices[c] / room[c]  # price of one core, one byte, one pod slot, ... on c
        carried.append(np.maximum(per_unit[None, :] * room, 1e-300))
    return np.stack([even, lp, known, *carried])


def _merged(cs: CandidateSet, counts: IntArray) -> tuple[CandidateSet, IntArray, IntArray]:
    """The classes with pods, those with the same requests and the same candidates and zones merged
    into one (unless a class is limited to one pod per node by its own anti-affinity). The merged LP is
    smaller and, if anything, stronger: a node holds at most `per_node` pods of one shape whatever class
    they belong to, so the merged per-node row is valid for every plan. Returns the merged set, its
    counts, and each class's merged index (-1 for classes without pods)."""
    ok = cs.zone_ok & (cs.per_node > 0)[:, :, None]
    seen: dict[tuple[object, ...], int] = {}
    group = np.full(len(counts), -1, dtype=np.int64)
    for k in np.nonzero(counts > 0)[0].tolist():
        key = ("alone", k) if cs.one_per_node[k] else (cs.demand[k].tobytes(), ok[k].tobytes())
        group[k] = seen.setdefault(key, len(seen))
    members = np.nonzero(group >= 0)[0]
    first = np.zeros(len(seen), dtype=np.int64)
    first[group[members[::-1]]] = members[::-1]  # one member of each group
    merged = CandidateSet(
        cs.candidates,
        cs.resources,
        cs.room,
        cs.demand[first],
        cs.zone_ok[first],
        cs.per_node[first],
        cs.zones,
        cs.one_per_node[first],
    )
    merged_counts = np.bincount(group[members], weights=counts[members], minlength=len(seen))
    return merged, merged_counts.astype(np.int64), group


def solve_lower_bound(cs: CandidateSet, counts: Sequence[int], whole_pod_rounds: int = 0) -> LowerBound:
    """The bound for `counts[k]` pods of each class k that fits at least one candidate, with up to
    `whole_pod_rounds` rounds of whole-pod cuts (`_whole_pod_cuts`) once the plain LP is solved."""
    counts_arr = np.asarray(counts, dtype=np.int64)
    merged, merged_counts, group = _merged(cs, counts_arr)
    prices = np.array([c.price for c in cs.candidates], dtype=float)
    lb = _solve(merged, merged_counts, prices, whole_pod_rounds)
    ks, cands, y = lb.assignment
    # the merged class's pods go back to its members in proportion to their counts
    members = np.argsort(group, kind="stable")
    members = members[group[members] >= 0]
    starts = np.searchsorted(group[members], ks)
    ends = np.searchsorted(group[members], ks, side="right")
    out_k, out_c, out_y = [], [], []
    for s, e, c, v, g in zip(
        starts.tolist(), ends.tolist(), cands.tolist(), y.tolist(), ks.tolist(), strict=True
    ):
        ids = members[s:e]
        out_k.append(ids)
        out_c.append(np.full(len(ids), c, dtype=np.int64))
        out_y.append(v * counts_arr[ids] / max(int(merged_counts[g]), 1))
    k_all = np.concatenate(out_k).astype(np.int64) if out_k else np.zeros(0, dtype=np.int64)
    c_all = np.concatenate(out_c).astype(np.int64) if out_c else np.zeros(0, dtype=np.int64)
    y_all = np.concatenate(out_y).astype(np.float64) if out_y else np.zeros(0)
    keep = y_all > 1e-12
    lb.pod_value = (
        np.where(group >= 0, lb.pod_value[np.maximum(group, 0)], 0.0)
        if len(lb.pod_value)
        else np.zeros(len(counts_arr))
    )
    lb.assignment = (k_all[keep], c_all[keep], y_all[keep])
    return lb


def _solve(cs: CandidateSet, counts: IntArray, prices: FloatArray, whole_pod_rounds: int) -> LowerBound:
    n_cls, n_cand = cs.per_node.shape
    counts_arr = np.asarray(counts, dtype=np.int64)
    fits = cs.fits & (counts_arr > 0)[:, None] if n_cand else np.zeros((n_cls, 0), dtype=bool)
    classes = np.nonzero(fits.any(axis=1))[0].astype(np.int64)
    if not len(classes):
        return LowerBound(0.0, np.zeros(n_cand), np.zeros(n_cand), np.zeros(n_cls))
    model = _BoundLp(cs, counts_arr, classes, prices)
    share, n_res = model.share, model.n_res
    caps = np.where(cs.per_node < CUT_LIMIT, cs.per_node, np.inf).astype(float)
    model.add_pairs(*_start_pairs(share, cs, fits, prices))
    tol = 1e-9 * max(1.0, float(prices.max()))
    every = np.arange(n_cand, dtype=np.int64)
    known = np.ones((n_cand, n_res))
    best = 0.0
    rounds = 0
    plain: LowerBound | None = None
    while True:
        rounds += 1
        sol = model.lp.solve()
        pi = model.pod_values(sol)
        rows = sol.row_dual[model.res_base : model.res_base + n_cand * n_res].reshape(n_cand, n_res)
        upper = surrogate_bounds(
            share,
            pi,
            caps,
            fits,
            every,
            _directions(cs, -rows, known, sol.col_value[:n_cand], prices),
            np.maximum(prices - model.pool_charges(sol)[1], 0.0) * (1 + 1e-9) + tol,
        )
        from_pools, charge = model.pool_charges(sol)
        budget = prices - charge  # what a node of each candidate may be worth in pods, pools paid
        bad = upper > budget + tol
        new = np.zeros(fits.shape, dtype=bool)
        unasked = 0
        if bad.any():  # the cheap bounds cannot rule these out: ask the exact knapsack (worst first)
            ask = every[bad][
                np.argsort(-((upper[bad] + charge[bad]) / prices[bad]), kind="stable")[:_EXACT_PER_ROUND]
            ]
            knap = BlockKnapsack(share, caps, fits & (pi > 0)[:, None], ask, model.knapsack_cuts())
            worth, ks, cands, res_price = _exact_pairs(share, pi, knap, budget, tol)
            known[ask] = np.maximum(res_price, 1e-12)
            upper[ask] = np.minimum(upper[ask], worth)
            new[ks, cands] = ~model.present[ks, cands]
            unasked = int(bad.sum()) - len(ask)
        # Farley: the duals scaled down until no candidate's node is worth more than its price (its pods
        # plus its share of the pools) are feasible for the full LP, so their objective is a valid bound
        # whatever is still missing
        scale = max(1.0, float(np.max((upper + charge) / prices)))
        best = max(best, (float(counts_arr @ pi) + from_pools) / scale)
        broken = model.add_broken_cuts(sol, caps)
        # done when nothing is left to add, or what is left could lift the bound by a negligible amount;
        # then whole-pod cuts, if any round is left and one cuts, lift the LP itself
        done = not broken and (
            (not new.any() and not unasked) or best >= sol.objective * (1.0 - _CLOSE_ENOUGH)
        )
        if done and plain is None:
            plain = _plain_result(model, sol, pi, upper, rounds)
        cut = done and whole_pod_rounds > 0 and _whole_pod_cuts(model, sol, pi, cs, counts_arr, prices) > 0
        if done and not cut:
            break
        whole_pod_rounds -= int(cut)
        # new columns keep the basis primal feasible, new rows dual feasible: resume with the matching
        # simplex (the first solve, from nothing, is fastest with the dual one)
        model.lp.prefer_primal(bool(new.any()) and not cut)
        model.add_pairs(*(a.astype(np.int64) for a in np.nonzero(new)))
    assert plain is not None  # the loop only ends once done
    plain.value = max(0.0, best * _SAFETY)
    plain.rounds = rounds
    return plain


def _plain_result(
    model: _BoundLp, sol: LpSolution, pi: FloatArray, upper: FloatArray, rounds: int
) -> LowerBound:
    """The LP's solution before any whole-pod cut: what the planner rounds and prices pods by. (The cut
    LP moves pods to node types where whole pods fit no better, and rounding that does worse: on
    `skewed` 1.022 -> 1.039.) Its value is set by the caller, cuts included."""
    ks, cands = np.nonzero(model.present)
    y = sol.col_value[model.col_of[ks, cands]]
    used = y > 1e-9
    return LowerBound(
        value=0.0,
        nodes=sol.col_value[: len(model.cs.candidates)].copy(),
        value_bound=upper.copy(),
        pod_value=pi.copy(),
        pairs=int(model.present.sum()),
        rounds=rounds,
        assignment=(ks[used].astype(np.int64), cands[used].astype(np.int64), y[used]),
    )
