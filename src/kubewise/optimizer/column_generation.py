"""Whole nodes for every demand row: column generation on node patterns, then rounding by fixing nodes.

Called by `optimizer.planner`. The pattern LP (`optimizer.master`) starts from one single-row pattern per
row, so it is always feasible; pricing (`optimizer.pricing`) adds patterns while some beat their price.
Rounding then fixes nodes: every pattern the LP uses a whole number of times is fixed that many times;
when none is, the most used one is fixed once. The fixed pods leave the demand, the LP is re-solved warm
(with a few more pricing rounds now and then), until every pod is on a fixed node.

All work is bounded by counts (rounds, patterns), never by the clock, so plans are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.master import Pattern, PatternLp
from kubewise.optimizer.pricing import PatternPricer

__all__ = ["Effort", "NodeSearchStats", "best_by_worth", "price_rounds", "single_row_patterns"]

IntArray = npt.NDArray[np.int64]
_KEEP_PER_ROW, _KEEP_EXTRA = 6, 600  # patterns the LP keeps: a few per row beyond those in use
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Effort:
    """How much search to spend. Counts, not seconds, so that the same input gives the same plan.

    The defaults were tuned on the benchmark workloads (`benchmarks/`): fewer rounds cost plan quality,
    more buy little."""

    pricing_rounds: int = 300  # before rounding starts
    pricing_rounds_per_fix: int = 5  # after fixing nodes, re-price the rest this many rounds at most
    fixes_between_pricing: int = 2
    round_up_from: float = 0.7  # when no pattern is used wholly, fix those used at least this much
    stall_rounds: int = 10  # stop pricing when the LP gained less than stall_gain over that many rounds
    stall_gain: float = 0.002
    new_per_round: int = 150  # patterns added per pricing round at most (the best by value per price)


@dataclass(slots=True)
class NodeSearchStats:
    lp_value: float = 0.0  # the pattern LP's optimum before rounding (what rounding is measured against)
    pricing_rounds: int = 0
    patterns: int = 0
    fixes: int = 0
    extra: dict[str, float] = field(default_factory=dict)


def single_row_patterns(pricer: PatternPricer, waiting: IntArray) -> tuple[list[Pattern], list[float]]:
    """For every row, its cheapest whole-node pattern holding only that row's pods."""
    per_pod = np.where(
        pricer.fits,
        pricer.prices[None, :] / np.maximum(np.minimum(pricer.per_node, waiting[:, None]), 1),
        np.inf,
    )
    patterns: list[Pattern] = []
    prices: list[float] = []
    for r in np.nonzero(waiting > 0)[0].tolist():
        b = int(np.argmin(per_pod[r]))
        if not np.isfinite(per_pod[r, b]):
            raise ValueError(f"demand row {r} fits no pricing block")  # the planner guarantees one
        n = int(min(pricer.per_node[r, b], waiting[r]))
        patterns.append(Pattern(b, np.array([r], dtype=np.int64), np.array([n], dtype=np.int64)))
        prices.append(float(pricer.prices[b]))
    return patterns, prices


def best_by_worth(
    patterns: list[Pattern], duals: FloatArray, prices: FloatArray, limit: int
) -> list[Pattern]:
    """The `limit` patterns whose pods are worth most per unit of their block's price at `duals`."""
    worth = [float(duals[p.rows] @ p.counts) / float(prices[p.block]) for p in patterns]
    return [patterns[i] for i in np.argsort(worth, kind="stable")[::-1][:limit]]


def price_rounds(
    master: PatternLp,
    pricer: PatternPricer,
    waiting: IntArray,
    rounds: int,
    stats: NodeSearchStats,
    effort: Effort,
    floor: float = 0.0,
    widen: bool = False,
    on_round: Callable[[int], None] | None = None,
) -> None:
    """Pricing rounds until none finds a pattern, the LP stops improving, or it is near `floor`;
    with `widen`, idle blocks that would pay are started before giving up. `on_round(i)` hears of
    each round as it starts (for progress only)."""
    tol = 1e-9 * max(1.0, float(pricer.prices.max(initial=1.0)))
    history: list[float] = []
    for i in range(rounds):
        if on_round is not None:
            on_round(i)
        value, z, duals = master.solve()
        history.append(value)
        if value <= floor * (1.0 + effort.stall_gain / 2):
            return  # within reach of a lower bound: more patterns cannot gain more than that
        if len(history) > effort.stall_rounds and value > history[-1 - effort.stall_rounds] * (
            1.0 - effort.stall_gain
        ):
            return  # the tail of column generation: many rounds for little
        master.prune(_KEEP_PER_ROW * master.n_rows + _KEEP_EXTRA, master.last_reduced_cost, z)
        found = pricer.price(duals, waiting, tol)
        if not found and widen and pricer.activate(duals, waiting, tol):
            found = pricer.price(duals, waiting, tol)  # blocks that were idle may pay at these duals
        stats.pricing_rounds += 1
        if len(found) > effort.new_per_round:  # the most negative reduced costs: the LP re-solves in
            found = best_by_worth(found, duals, pricer.prices, effort.new_per_round)
        if not master.add(found, [float(pricer.prices[p.block]) for p in found]):
            return
