"""The planner's intermediate objects (candidates, demand rows, rules, bound) for a handful of pods."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kubewise.catalog.types import RegionCatalog
from kubewise.model import Pod, Snapshot
from kubewise.optimizer.candidates import CandidateSet, build_candidates
from kubewise.optimizer.column_generation import NodeSearchStats
from kubewise.optimizer.consolidate import retype
from kubewise.optimizer.demand import DemandRows, demand_rows
from kubewise.optimizer.lower_bound import LowerBound, solve_lower_bound
from kubewise.optimizer.node_rules import NodeRules, node_rules
from kubewise.optimizer.nodeset import NodeSet
from kubewise.optimizer.polish import PolishBudget, polish
from kubewise.optimizer.rounding import build_nodes
from kubewise.optimizer.types import Constraints, NodeTemplate
from kubewise.optimizer.workload import split_workload
from kubewise.optimizer.zones import assign_zones


@dataclass
class Problem:
    cs: CandidateSet
    rows: DemandRows
    rules: NodeRules
    lb: LowerBound
    prices: np.ndarray

    def node_set(self) -> NodeSet:
        return NodeSet(self.cs, self.rows, self.rules)

    def resolve(self, counts: np.ndarray) -> LowerBound:
        return solve_lower_bound(self.cs, counts)

    def price_of(self, name: str) -> float:
        return next(c.price for c in self.cs.candidates if c.itype.name == name)

    def cand(self, name: str) -> int:
        return next(c.index for c in self.cs.candidates if c.itype.name == name)


def problem(pods: list[Pod], cat: RegionCatalog, zones: tuple[str, ...] = ("z1",)) -> Problem:
    """Every pod placeable; as `plan_snapshot` sets it up before it builds nodes."""
    workload = split_workload(Snapshot(pods=tuple(pods)))
    cs = build_candidates(
        workload.classes, workload.daemonsets, cat, Constraints(zones=zones), (NodeTemplate(),), zones
    )
    usable = np.asarray((cs.zone_ok & (cs.per_node > 0)[:, :, None]).any(axis=1))
    zone_plan = assign_zones(workload.classes, usable, zones)
    placeable = [c.index for c in workload.classes]
    rows = demand_rows(workload.classes, placeable, zone_plan, cs)
    counts = np.bincount(rows.klass, weights=rows.count, minlength=len(workload.classes)).astype(np.int64)
    lb = solve_lower_bound(cs, counts)
    prices = np.array([c.price for c in cs.candidates], dtype=float)
    return Problem(cs, rows, node_rules(workload.classes, {}), lb, prices)


def assert_consistent(ns: NodeSet) -> None:
    """Free room is room minus what the node's pods take, never negative, on every live node."""
    for i in ns.live.tolist():
        used = sum(
            (ns.demand[r] * n for r, n in ns.contents[i].items()), np.zeros(ns.free.shape[1], dtype=np.int64)
        )
        assert (ns.free[i] == ns.cs.room[ns.cand[i]] - used).all()
        assert (ns.free[i] >= 0).all()


def placed(ns: NodeSet) -> np.ndarray:
    out = np.zeros(len(ns.rows), dtype=np.int64)
    for i in ns.live.tolist():
        for r, n in ns.contents[i].items():
            out[r] += n
    return out


def polish_rounded(p: Problem, budget: PolishBudget) -> tuple[float, NodeSet, NodeSearchStats]:
    """The rounded, retyped plan's cost, and what `polish` makes of it under `budget` -- checked to
    place every pod on nodes whose free room adds up."""
    ns = p.node_set()
    build_nodes(ns, p.lb, p.resolve, p.prices)
    retype(ns, p.prices)
    before = ns.price(p.prices)
    out, stats = polish(ns, p.lb, p.prices, p.resolve, budget)
    assert (placed(out) == p.rows.count).all()
    assert_consistent(out)
    return before, out, stats
