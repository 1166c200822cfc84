"""New node patterns worth adding to the pattern LP: knapsack LPs per block, rounded to whole pods.

Called by `optimizer.column_generation` each round with the pattern LP's duals (what one more pod of
each demand row is worth). A block is a candidate, or a candidate in one zone when rows are pinned to
zones. Every block's knapsack LP is solved at once (`optimizer.knapsack.BlockKnapsack`); each block whose
LP says a node could be worth more than it costs is rounded to whole pods three ways (the LP rounded
down then filled greedily by value per unit of the block's priced resources; the same fill from empty;
rounded down then filled by value per unit of the pod's largest share), and the best rounding is
followed by more nodes filled from the pods it left -- complementary patterns, which the LP needs many
of when every row has only a few pods. Fills run batched (`optimizer.batch_fill`), or one by one where
per-node rules apply (`optimizer.rule_fill`). Patterns that beat their price are returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.batch_fill import FillBatch, batch_fill, top_rows
from kubewise.optimizer.candidates import CandidateSet
from kubewise.optimizer.demand import ANY_ZONE, DemandRows
from kubewise.optimizer.knapsack import BlockKnapsack, surrogate_bounds
from kubewise.optimizer.lower_bound import LowerBound
from kubewise.optimizer.master import Pattern
from kubewise.optimizer.node_rules import NodeRules
from kubewise.optimizer.rule_fill import fill_with_rules

__all__ = ["Blocks", "PatternPricer", "first_candidates", "make_blocks"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_FOLLOWERS = 8  # complementary patterns generated after each block's best one
_WIDTH = 96  # rows a fill considers per block, by value per unit of room
_ACTIVATE_PER_ROUND = 12  # idle blocks started per activation, the most promising first
_PRICED_CANDIDATES = 20  # beyond the bound LP's own, the candidates most worth a node at its prices


@dataclass(frozen=True, slots=True)
class Blocks:
    cand: IntArray  # block -> candidate
    zone: IntArray  # block -> zone index, or ANY_ZONE


def make_blocks(cands: Sequence[int], rows: DemandRows, n_zones: int) -> Blocks:
    """Blocks for the candidates: one per candidate, or one per candidate and zone when zones matter."""
    cand = np.array(sorted(cands), dtype=np.int64)
    if not rows.zoned:
        return Blocks(cand, np.full(len(cand), ANY_ZONE, dtype=np.int64))
    return Blocks(np.repeat(cand, n_zones), np.tile(np.arange(n_zones, dtype=np.int64), len(cand)))


def first_candidates(cs: CandidateSet, lb: LowerBound, rows: DemandRows) -> list[int]:
    """Candidates to price from the start: the bound LP's, the next best by its duals, and each row's
    cheapest per pod alone."""
    prices = np.array([c.price for c in cs.candidates], dtype=float)
    chosen = set(np.nonzero(lb.nodes > 1e-9)[0].tolist())
    ratio = lb.value_bound / prices
    chosen.update(np.argsort(-ratio, kind="stable")[:_PRICED_CANDIDATES].tolist())
    usable = cs.zone_ok & (cs.per_node > 0)[:, :, None]
    with np.errstate(divide="ignore"):
        per_pod = prices[None, :] / np.maximum(cs.per_node, 1)
    for k, z in zip(rows.klass.tolist(), rows.zone.tolist(), strict=True):
        ok = usable[k].any(axis=1) if z == ANY_ZONE else usable[k, :, z]
        if not rows.zoned and z == ANY_ZONE:
            ok = usable[k].all(axis=1)
        chosen.add(int(np.argmin(np.where(ok, per_pod[k], np.inf))))
    return sorted(chosen)


def row_block_fits(cs: CandidateSet, rows: DemandRows, blocks: Blocks) -> BoolArray:
    """rows x blocks: the row's pods may run on a node of the block (candidate fit, zone allowed)."""
    usable = cs.zone_ok & (cs.per_node > 0)[:, :, None]  # classes x candidates x zones
    k = rows.klass[:, None]
    c = blocks.cand[None, :]
    any_zone = blocks.zone == ANY_ZONE
    zone_idx = np.where(any_zone, 0, blocks.zone)[None, :]
    in_zone = np.where(any_zone[None, :], usable[k, c].all(axis=2), usable[k, c, zone_idx])
    same = (rows.zone[:, None] == ANY_ZONE) | (rows.zone[:, None] == blocks.zone[None, :])
    out: BoolArray = in_zone & same
    return out


@dataclass(slots=True)
class _Round:
    """One pricing round's view of the profitable blocks."""

    blocks: IntArray  # the profitable blocks
    by_value: IntArray  # blocks x width: rows by value per unit of the block's priced resources
    by_share: IntArray  # blocks x width: rows by value per unit of their largest share
    floor: IntArray  # rows x blocks: the knapsack LP's pods, rounded down


class PatternPricer:
    """Prices blocks against row duals and rounds their knapsack LPs into whole-pod patterns."""

    def __init__(
        self, cs: CandidateSet, rows: DemandRows, rules: NodeRules, blocks: Blocks, active: Sequence[int]
    ) -> None:
        """`blocks` are every block pricing may use; `active` the ones priced from the start."""
        self.cs, self.rows, self.rules, self.blocks = cs, rows, rules, blocks
        self.prices = np.array([cs.candidates[c].price for c in blocks.cand], dtype=float)
        self.fits = row_block_fits(cs, rows, blocks)
        self.share = cs.demand[rows.klass][:, None, :] / np.maximum(cs.room[blocks.cand], 1)[None, :, :]
        self.per_node = cs.per_node[rows.klass][:, blocks.cand]  # rows x blocks
        self.demand = cs.demand[rows.klass]  # rows x resources
        self.room = cs.room[blocks.cand]  # blocks x resources
        self.active = np.zeros(len(blocks.cand), dtype=bool)
        self.active[list(active)] = True
        self.waiting = rows.count.copy()
        self.knapsack = self._knapsack()

    def _knapsack(self) -> BlockKnapsack:
        return BlockKnapsack(self.share, self.caps(self.waiting), self.fits, np.nonzero(self.active)[0])

    def caps(self, waiting: IntArray) -> FloatArray:
        out: FloatArray = np.minimum(self.per_node, waiting[:, None]).astype(float)
        return out

    def set_waiting(self, waiting: IntArray) -> None:
        self.waiting = waiting.copy()
        self.knapsack.set_caps(self.caps(waiting))

    def activate(self, duals: FloatArray, waiting: IntArray, tol: float) -> int:
        """Start pricing the blocks whose node could be worth more than its price at `duals` (by the
        cheap merged-resource bounds of `optimizer.knapsack`); returns how many were added."""
        idle = np.nonzero(~self.active)[0].astype(np.int64)
        maybe, worth = self.may_pay(idle, duals, waiting, 1e-6, tol)
        if not len(maybe):
            return 0
        ratio = worth / self.prices[maybe]
        chosen = maybe[np.argsort(-ratio, kind="stable")[:_ACTIVATE_PER_ROUND]]
        self.active[chosen] = True
        self.knapsack = self._knapsack()
        return len(chosen)

    def may_pay(
        self, blocks: IntArray, duals: FloatArray, waiting: IntArray, margin: float, tol: float = 0.0
    ) -> tuple[IntArray, FloatArray]:
        """The blocks whose knapsack LP at `duals` beats price x (1 + margin), and its value there: the
        cheap merged-resource bounds of `optimizer.knapsack` (+ `tol`) rule most out, HiGHS the rest.
        No whole-pod node of the others is worth its price."""
        if not len(blocks):
            return blocks, np.zeros(0)
        n_res = self.share.shape[2]
        weights = np.stack([*(np.broadcast_to(np.eye(n_res)[r], (len(blocks), n_res)) for r in range(n_res)),
                            np.ones((len(blocks), n_res))])  # fmt: skip
        values, caps = np.where(waiting > 0, duals, 0.0), self.caps(waiting)
        upper = surrogate_bounds(self.share, values, caps, self.fits, blocks, weights, self.prices[blocks])
        maybe = blocks[upper > self.prices[blocks] * (1.0 + margin) + tol]
        if not len(maybe):
            return maybe, np.zeros(0)
        worth, _, _ = BlockKnapsack(self.share, caps, self.fits & (values > 0)[:, None], maybe).solve(values)
        keep = worth > self.prices[maybe] * (1.0 + margin)
        return maybe[keep], worth[keep]

    def _solve_knapsacks(self, values: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(worth per block, 0 if idle; the pairs' y; resource prices per block)."""
        worth_active, y, res_active = self.knapsack.solve(values)
        worth = np.zeros(len(self.prices))
        res_price = np.zeros((len(self.prices), self.share.shape[2]))
        worth[self.knapsack.cands] = worth_active
        res_price[self.knapsack.cands] = res_active
        return worth, y, res_price

    def price(self, duals: FloatArray, waiting: IntArray, tol: float) -> list[Pattern]:
        """Patterns with negative reduced cost (price minus the duals of the pods they carry)."""
        worth, y, res_price = self._solve_knapsacks(np.where(waiting > 0, duals, 0.0))
        profitable = np.nonzero(worth > self.prices + tol)[0]
        if not len(profitable):
            return []
        rnd = self._round_view(profitable, y, res_price, duals, waiting)
        zero = np.zeros((len(profitable), _WIDTH), dtype=np.int64)
        starts = [(rnd.by_value, self._aligned(rnd, rnd.by_value)), (rnd.by_value, zero),
                  (rnd.by_share, self._aligned(rnd, rnd.by_share))]  # fmt: skip
        tries = [self._fill(rnd.blocks, order, start, waiting[:, None]) for order, start in starts]
        out: list[Pattern] = []
        best: list[Pattern | None] = [None] * len(profitable)
        for found in tries:
            for i, p in enumerate(found):
                if p is not None and self._gain(p, duals) > tol:
                    out.append(p)
                    if best[i] is None or self._gain(p, duals) > self._gain(best[i], duals):  # type: ignore[arg-type]
                        best[i] = p
        return out + self._followers(rnd, best, duals, waiting, tol)

    def _gain(self, p: Pattern, duals: FloatArray) -> float:
        return float(duals[p.rows] @ p.counts) - float(self.prices[p.block])

    def _round_view(
        self, profitable: IntArray, y: FloatArray, res_price: FloatArray, duals: FloatArray, waiting: IntArray
    ) -> _Round:
        kn = self.knapsack
        local = np.full(len(self.prices), -1, dtype=np.int64)
        local[profitable] = np.arange(len(profitable))
        pair_block = kn.cands[kn.pos]
        sel = (local[pair_block] >= 0) & (duals[kn.k] > 0) & (waiting[kn.k] > 0)
        rows, pos, frac = kn.k[sel], local[pair_block[sel]], y[sel]
        blocks = profitable[pos]
        weight = res_price[blocks]
        weight = np.maximum(weight, 1e-9 * np.maximum(weight.max(axis=1, keepdims=True), 1e-12))
        sized = (self.share[rows, blocks, :] * weight).sum(axis=1)
        by_value = top_rows(pos, rows, duals[rows] / np.maximum(sized, 1e-15), len(profitable), _WIDTH)
        largest = self.share[rows, blocks, :].max(axis=1)
        by_share = top_rows(pos, rows, duals[rows] / np.maximum(largest, 1e-15), len(profitable), _WIDTH)
        floor = np.zeros((len(self.rows), len(profitable)), dtype=np.int64)
        floor[rows, pos] = np.floor(frac + 1e-9).astype(np.int64)
        return _Round(profitable, by_value, by_share, floor)

    @staticmethod
    def _aligned(rnd: _Round, order: IntArray) -> IntArray:
        out: IntArray = np.where(
            order >= 0, rnd.floor[np.maximum(order, 0), np.arange(len(rnd.blocks))[:, None]], 0
        )
        return out

    def _fill(
        self, blocks: IntArray, order: IntArray, start: IntArray, left: IntArray
    ) -> list[Pattern | None]:
        """One fill per block; `left[r, i]` pods of row r are still available to block i's fill."""
        row = np.maximum(order, 0)
        column = np.arange(len(blocks))[:, None] % left.shape[1]  # one shared column, or one per fill
        cap = np.where(order >= 0, np.minimum(self.per_node[row, blocks[:, None]], left[row, column]), 0)
        if self.rules.trivial:
            counts, valid = batch_fill(FillBatch(self.room[blocks], order, start, cap), self.demand)
        else:
            counts, valid = self._fill_one_by_one(blocks, order, start, cap)
        out: list[Pattern | None] = []
        for i, b in enumerate(blocks.tolist()):
            keep = (counts[i] > 0) & (order[i] >= 0)
            if not valid[i] or not keep.any():
                out.append(None)
                continue
            rows, n = order[i][keep], counts[i][keep]
            srt = np.argsort(rows, kind="stable")
            out.append(Pattern(int(b), rows[srt].astype(np.int64), n[srt].astype(np.int64)))
        return out

    def _fill_one_by_one(
        self, blocks: IntArray, order: IntArray, start: IntArray, cap: IntArray
    ) -> tuple[IntArray, BoolArray]:
        counts = np.zeros_like(order)
        valid = np.zeros(len(blocks), dtype=bool)
        for i, b in enumerate(blocks.tolist()):
            slots = np.nonzero(order[i] >= 0)[0]
            rows = order[i][slots]
            got = fill_with_rules(
                self.rules, self.room[b], self.rows.klass[rows], self.demand[rows], cap[i][slots],
                start[i][slots], np.arange(len(rows)), len(self.cs.per_node),
            )  # fmt: skip
            if got is not None:
                counts[i][slots] = got
                valid[i] = True
        return counts, valid

    def _followers(
        self, rnd: _Round, best: list[Pattern | None], duals: FloatArray, waiting: IntArray, tol: float
    ) -> list[Pattern]:
        """More nodes of each block filled from the pods its previous ones left."""
        out: list[Pattern] = []
        left = np.repeat(waiting[:, None], len(rnd.blocks), axis=1)
        active = [i for i, p in enumerate(best) if p is not None]
        last = list(best)
        for _ in range(_FOLLOWERS):
            for i in active:
                p = last[i]
                assert p is not None
                left[p.rows, i] -= p.counts
            if not active:
                break
            idx = np.array(active, dtype=np.int64)
            zero = np.zeros((len(idx), _WIDTH), dtype=np.int64)
            found = self._fill(rnd.blocks[idx], rnd.by_value[idx], zero, left[:, idx])
            active_next = []
            for i, p in zip(active, found, strict=True):
                if p is not None and self._gain(p, duals) > tol:
                    out.append(p)
                    last[i] = p
                    active_next.append(i)
            active = active_next
        return out

    def seed(
        self, assignment: tuple[IntArray, IntArray, FloatArray], nodes: FloatArray, waiting: IntArray
    ) -> list[Pattern]:
        """Patterns shaped like the bound LP's average node of each candidate it uses: its fractional
        pods per class rounded down, then topped up first with the classes it wanted more of."""
        ks, cands, y = assignment
        used = [b for b, c in enumerate(self.blocks.cand.tolist()) if nodes[c] > 1e-6]
        if not used:
            return []
        blocks = np.array(used, dtype=np.int64)
        avg = np.zeros((len(self.cs.per_node), len(self.cs.candidates)))
        np.add.at(avg, (ks, cands), y)
        avg /= np.maximum(nodes, 1e-12)[None, :]
        per_class = np.maximum(np.bincount(self.rows.klass, weights=waiting, minlength=len(avg)), 1)
        want = (
            avg[self.rows.klass][:, self.blocks.cand[blocks]]
            * (waiting / per_class[self.rows.klass])[:, None]
        )
        want = np.where(self.fits[:, blocks] & (waiting > 0)[:, None], want, 0.0)
        rows_i, pos = np.nonzero(want > 0)
        floor = np.floor(want + 1e-9).astype(np.int64)
        order = top_rows(
            pos.astype(np.int64),
            rows_i.astype(np.int64),
            want[rows_i, pos] - floor[rows_i, pos] + want[rows_i, pos] * 1e-6,
            len(blocks),
            _WIDTH,
        )
        start = np.where(order >= 0, floor[np.maximum(order, 0), np.arange(len(blocks))[:, None]], 0)
        return [p for p in self._fill(blocks, order, start, waiting[:, None]) if p is not None]
