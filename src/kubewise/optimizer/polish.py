"""Column generation started from a finished plan: better node contents where nodes hold few pods.

Called by `optimizer.planner` after `optimizer.rounding` and `optimizer.consolidate`. The bound LP
prices pods as if they could be split, so where a node holds a handful of pods the rounded plan is a
few percent above what whole pods allow. Here the plan's own nodes are the first columns of the node-
pattern LP (`optimizer.master`), so it starts at the plan's cost with meaningful prices; where the bound
LP's nodes hold two or three pods, every efficient two-pod node joins them (`optimizer.pair_patterns`);
pricing (`optimizer.pricing`) then adds node patterns that beat the LP's prices, and where the bound
LP's nodes hold at most six pods, once it stalls, a search pod by pod over every pod the node could
hold (`optimizer.beam_patterns`) finds the combinations its rounding misses, alternating with more
pricing until neither finds any or `beam_rounds` searches have run. The LP's patterns are
then taken as many whole times as it uses them (there, a tenth of those nodes per re-solve), the
pods left over are placed the fast way (`optimizer.rounding`), and the result is retyped and
consolidated (`optimizer.consolidate`). The caller keeps it only if it is cheaper. The work is
bounded by a count (demand rows x priced blocks x rounds), never by the clock; `progress` hears how
much of it is done (rounds, searches, pods on fixed nodes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubewise.optimizer.beam_patterns import beam_patterns
from kubewise.optimizer.column_generation import (
    Effort,
    NodeSearchStats,
    best_by_worth,
    price_rounds,
    single_row_patterns,
)
from kubewise.optimizer.consolidate import empty_weakest, retype
from kubewise.optimizer.dealing import fit_tightly
from kubewise.optimizer.demand import ANY_ZONE
from kubewise.optimizer.lower_bound import LowerBound
from kubewise.optimizer.master import Pattern, PatternLp
from kubewise.optimizer.nodeset import NodeSet
from kubewise.optimizer.pair_patterns import pair_patterns
from kubewise.optimizer.pricing import PatternPricer, first_candidates, make_blocks
from kubewise.optimizer.progress import Progress, ignore_progress, part
from kubewise.optimizer.rounding import build_nodes

__all__ = ["PolishBudget", "polish"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PolishBudget:
    """Pricing rounds: `work / (rows x priced blocks)`, at most `max_rounds`; fewer than `min_rounds`
    means the problem is too large to improve this way within the budget, and it is left as it is."""

    work: int = 2_000_000
    min_rounds: int = 12
    max_rounds: int = 40
    max_fixes: int = 400  # LP re-solves while rounding; what is left after them is placed the fast way
    fixes_between_pricing: int = 4
    fix_share: float = 0.1  # of the nodes the LP uses wholly, the share fixed per re-solve where
    # nodes hold few pods (`beam_pods_per_node`); elsewhere all of them, which costs less there
    round_up_from: float = 0.7  # when no pattern is used wholly, those used at least this much are fixed
    empty_tries: int = 200
    beam_rounds: int = 15  # searches pod by pod where nodes hold few pods (each then a few pricing rounds)
    beam_pods_per_node: float = 6.0  # ... where the bound LP's nodes hold at most this many
    beam_width: int = 600  # partial nodes kept per step and block
    beam_rows: int = 1000  # rows searched per block, those worth most per share of its node
    beam_new: int = 1000  # patterns added per search at most, the best by worth per price
    beam_blocks: int = 12  # blocks searched per round at most, those the knapsack LP values most
    pricing_between_beams: int = 3
    effort: Effort = field(default_factory=lambda: Effort(stall_rounds=8, stall_gain=0.001))


def _block_of(ns: NodeSet, node: int, zoned: bool) -> int:
    cand, zone = int(ns.cand[node]), int(ns.zone[node])
    return cand * len(ns.cs.zones) + zone if zoned else cand


def _plan_patterns(ns: NodeSet, zoned: bool) -> list[Pattern]:
    out = []
    for i in ns.live.tolist():
        rows = np.array(sorted(ns.contents[i]), dtype=np.int64)
        counts = np.array([ns.contents[i][r] for r in rows.tolist()], dtype=np.int64)
        out.append(Pattern(_block_of(ns, i, zoned), rows, counts))
    return out


def _most_used(whole: IntArray, z: FloatArray, share: float) -> IntArray:
    """Of the `whole` nodes per pattern, about `share` of them (at least one): the most used patterns'
    first, each pattern's whole count or none of it."""
    order = np.argsort(-z, kind="stable")
    limit = max(1, int(np.ceil(share * float(whole.sum()))))
    chosen = order[np.cumsum(whole[order]) <= limit]
    if not len(chosen):
        chosen = order[:1]
    out = np.zeros_like(whole)
    out[chosen] = whole[chosen]
    return out


def _fix_whole(
    master: PatternLp,
    pricer: PatternPricer,
    budget: PolishBudget,
    stats: NodeSearchStats,
    share: float,
    progress: Progress,
) -> tuple[list[Pattern], IntArray]:
    """Whole nodes from the pattern LP: of the patterns it uses wholly (when none is, those used at
    least `round_up_from`, and the most used one), the most used are fixed that many times, about
    `share` of those nodes per step (where nodes hold a few pods, fixing them all at once leaves
    the last pods to nodes that fit them badly), the fixed pods leave the demand and the LP is
    re-solved warm, with a pricing round now and then for the rows rounding trimmed. Returns the
    nodes and the pods per row still waiting after `max_fixes` re-solves."""
    waiting = pricer.waiting.copy()
    total = max(int(waiting.sum()), 1)
    nodes: list[Pattern] = []
    for step in range(budget.max_fixes):
        if not waiting.any():
            break
        fixed = total - int(waiting.sum())
        progress(fixed / total, f"fixing whole nodes ({fixed:,} of {total:,} pods)")
        _, z, _ = master.solve()
        whole = np.floor(z + 1e-6).astype(np.int64)
        if not whole.any():
            whole = (z >= budget.round_up_from).astype(np.int64)
            whole[int(np.argmax(z))] = 1
        for j in np.nonzero(_most_used(whole, z, share))[0].tolist():
            p = master.patterns[j]
            for _ in range(int(whole[j])):
                counts = np.minimum(p.counts, waiting[p.rows])
                if not counts.any():
                    break
                keep = counts > 0
                nodes.append(Pattern(p.block, p.rows[keep], counts[keep]))
                waiting[p.rows] -= counts
        stats.fixes += 1
        master.set_demand(waiting)
        pricer.set_waiting(waiting)
        if waiting.any() and (step + 1) % budget.fixes_between_pricing == 0:
            master.add(*single_row_patterns(pricer, waiting))
            price_rounds(master, pricer, waiting, 1, stats, budget.effort)
    return nodes, waiting


def _beam_rounds(
    master: PatternLp,
    pricer: PatternPricer,
    demand: IntArray,
    budget: PolishBudget,
    stats: NodeSearchStats,
    progress: Progress,
) -> None:
    """Beam searches on every block at the LP's duals, each followed by a few pricing rounds, until a
    search finds nothing new or `beam_rounds` have run."""
    blocks = range(len(pricer.prices))
    for i in range(budget.beam_rounds):
        progress(i / budget.beam_rounds, f"searching pod combinations ({i + 1} of {budget.beam_rounds})")
        _, _, duals = master.solve()
        found = beam_patterns(
            pricer,
            blocks,
            duals,
            demand,
            budget.beam_width,
            budget.beam_rows,
            budget.beam_new,
            budget.beam_blocks,
        )
        best = best_by_worth(found, duals, pricer.prices, budget.beam_new)
        stats.extra["beam_searches"] = stats.extra.get("beam_searches", 0.0) + 1
        if not master.add(best, [float(pricer.prices[p.block]) for p in best]):
            return
        price_rounds(master, pricer, demand, budget.pricing_between_beams, stats, budget.effort)


def _node_set(ns: NodeSet, nodes: list[Pattern], blocks_cand: IntArray, blocks_zone: IntArray) -> NodeSet:
    out = NodeSet(ns.cs, ns.rows, ns.rules)
    turn = 0
    for p in nodes:
        zone = int(blocks_zone[p.block])
        if zone == ANY_ZONE:
            zone, turn = turn % len(ns.cs.zones), turn + 1
        node = out.open(int(blocks_cand[p.block]), np.array([zone], dtype=np.int64))
        for r, n in zip(p.rows.tolist(), p.counts.tolist(), strict=True):
            out.place(r, node, np.array([n], dtype=np.int64))
    return out


def polish(
    ns: NodeSet,
    lb: LowerBound,
    prices: FloatArray,
    resolve: Callable[[IntArray], LowerBound],
    budget: PolishBudget,
    progress: Progress = ignore_progress,
) -> tuple[NodeSet, NodeSearchStats]:
    """A cheaper node set for the same pods, or `ns` itself when column generation finds none."""
    rows = ns.rows
    stats = NodeSearchStats()
    if not len(ns.live) or not rows.count.any():
        return ns, stats
    blocks = make_blocks(range(len(ns.cs.candidates)), rows, len(ns.cs.zones))
    start = set(first_candidates(ns.cs, lb, rows)) | set(ns.cand[ns.live].tolist())
    active = [b for b, c in enumerate(blocks.cand.tolist()) if c in start]
    if budget.work // max(1, len(rows) * len(active)) < budget.min_rounds:
        return ns, stats  # too large to improve within the budget: the rounded plan stands
    pricer = PatternPricer(ns.cs, rows, ns.rules, blocks, active)
    before = ns.price(prices)
    demand = rows.count.copy()
    master = PatternLp(demand)
    master.add(*single_row_patterns(pricer, demand))
    current = _plan_patterns(ns, rows.zoned)
    master.add(current, [float(pricer.prices[p.block]) for p in current])
    pods_per_node = float(demand.sum()) / max(float(lb.nodes.sum()), 1e-9)
    pairs = pair_patterns(pricer, active, lb.pod_value[rows.klass], demand, pods_per_node)
    master.add(pairs, [float(pricer.prices[p.block]) for p in pairs])
    rounds = min(budget.work // max(1, len(rows) * len(active)), budget.max_rounds)
    few_per_node = pods_per_node <= budget.beam_pods_per_node
    # where the progress bar stands once pricing and the searches are done: where nodes hold a few
    # pods the searches and the fixing take most of the time (measured on the benchmark workloads)
    priced, searched = (0.2, 0.55) if few_per_node else (0.3, 0.3)
    pricing = part(progress, 0.0, priced)

    def on_round(i: int) -> None:
        pricing(i / rounds, f"pricing node patterns (round {i + 1} of {rounds})")

    price_rounds(master, pricer, demand, rounds, stats, budget.effort, lb.value, True, on_round)
    if few_per_node:
        _beam_rounds(master, pricer, demand, budget, stats, part(progress, priced, searched))
    value, _, _ = master.solve()
    stats.lp_value = value
    stats.patterns = len(master.patterns)
    if value >= before * (1 - 1e-9):
        return ns, stats  # the LP cannot beat the plan: rounding it would not either
    share = budget.fix_share if few_per_node else 1.0
    nodes, waiting = _fix_whole(master, pricer, budget, stats, share, part(progress, searched, 0.95))
    progress(0.95, "consolidating the new nodes")
    out = _node_set(ns, nodes, blocks.cand, blocks.zone)
    fit_tightly(out, waiting)
    build_nodes(out, None, resolve, prices, waiting)
    retype(out, prices)
    empty_weakest(out, prices, lb.pod_value, budget.empty_tries)
    retype(out, prices)
    return (out if out.price(prices) < before - 1e-9 else ns), stats
