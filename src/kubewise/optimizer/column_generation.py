"""Whole nodes for every demand row: column generation on node patterns, then rounding by fixing nodes.

Called by `optimizer.planner`. The pattern LP (`optimizer.master`) starts from one single-row pattern per
row, so it is always feasible; pricing (`optimizer.pricing`) adds patterns while some beat their price.
Rounding then fixes nodes: every pattern the LP uses a whole number of times is fixed that many times;
when none is, the most used one is fixed once. The fixed pods leave the demand, the LP is re-solved warm
(with a few more pricing rounds now and then), until every pod is on a fixed node.

All work is bounded by counts (rounds, patterns), never by the clock, so plans are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.master import Pattern, PatternLp
from kubewise.optimizer.pricing import PatternPricer

__all__ = ["Effort", "NodeSearchStats", "search_nodes"]

IntArray = npt.NDArray[np.int64]
_KEEP_PER_ROW, _KEEP_EXTRA = 10, 1000  # patterns the LP keeps: a few per row beyond those in use
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


def _single_row_patterns(pricer: PatternPricer, waiting: IntArray) -> tuple[list[Pattern], list[float]]:
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


def _price_rounds(
    master: PatternLp,
    pricer: PatternPricer,
    waiting: IntArray,
    rounds: int,
    stats: NodeSearchStats,
    effort: Effort,
    floor: float = 0.0,
    widen: bool = False,
) -> None:
    """Pricing rounds until none finds a pattern, the LP stops improving, or it is near `floor`;
    with `widen`, idle blocks that would pay are started before giving up."""
    tol = 1e-9 * max(1.0, float(pricer.prices.max(initial=1.0)))
    history: list[float] = []
    for _ in range(rounds):
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
            gain = [float(duals[p.rows] @ p.counts) / float(pricer.prices[p.block]) for p in found]
            found = [found[i] for i in np.argsort(gain, kind="stable")[::-1][: effort.new_per_round]]
        if not master.add(found, [float(pricer.prices[p.block]) for p in found]):
            return


def _fix(pattern: Pattern, times: int, waiting: IntArray, nodes: list[Pattern]) -> None:
    """Fix `times` nodes of the pattern, each trimmed to the pods still waiting."""
    for _ in range(times):
        counts = np.minimum(pattern.counts, waiting[pattern.rows])
        if not counts.any():
            return
        keep = counts > 0
        nodes.append(Pattern(pattern.block, pattern.rows[keep], counts[keep]))
        waiting[pattern.rows] -= counts


def search_nodes(
    pricer: PatternPricer,
    demand: IntArray,
    effort: Effort,
    seeds: list[Pattern] | None = None,
    floor: float = 0.0,
) -> tuple[list[Pattern], NodeSearchStats]:
    """Nodes (patterns) that together hold exactly `demand[r]` pods of every row r; `seeds` are
    patterns to start from besides the single-row ones; `floor` is a lower bound on the LP's value."""
    stats = NodeSearchStats()
    waiting = demand.astype(np.int64).copy()
    nodes: list[Pattern] = []
    if not waiting.any():
        return nodes, stats
    master = PatternLp(waiting)
    master.add(*_single_row_patterns(pricer, waiting))
    if seeds:
        master.add(seeds, [float(pricer.prices[p.block]) for p in seeds])
    _price_rounds(master, pricer, waiting, effort.pricing_rounds, stats, effort, floor, widen=True)
    stats.lp_value = master.solve()[0]
    stats.extra["initial_rounds"] = float(stats.pricing_rounds)
    since_pricing = 0
    while waiting.any():
        _, z, _ = master.solve()
        whole = np.floor(z + 1e-6).astype(np.int64)
        if not whole.any():  # nothing used wholly: round up the nearly whole ones (at least the largest)
            whole = (z >= effort.round_up_from).astype(np.int64)
            whole[int(np.argmax(z))] = 1
        for j in np.nonzero(whole)[0].tolist():
            _fix(master.patterns[j], int(whole[j]), waiting, nodes)
        stats.fixes += 1
        master.set_demand(waiting)
        pricer.set_waiting(waiting)
        since_pricing += 1
        if waiting.any() and since_pricing >= effort.fixes_between_pricing:
            master.add(*_single_row_patterns(pricer, waiting))  # trimmed rows may need smaller nodes
            _price_rounds(master, pricer, waiting, effort.pricing_rounds_per_fix, stats, effort)
            since_pricing = 0
    stats.patterns = len(master.patterns)
    return nodes, stats
