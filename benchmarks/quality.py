"""Plan quality: the planner's cost against its lower bound and against a first-fit-decreasing baseline.

Called by `benchmarks.__main__`. One synthetic workload per kind (`kubewise.simulator.generate`), planned
on-demand with default constraints on the given catalog; the baseline (`benchmarks.baseline_ffd`) plans
the same snapshot, and both costs are divided by the planner's lower bound.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from benchmarks.baseline_ffd import plan_ffd
from kubewise.catalog.types import RegionCatalog
from kubewise.optimizer import Constraints, plan_snapshot
from kubewise.simulator import generate

__all__ = ["QUALITY_KINDS", "TARGET_RATIO", "run_quality"]

QUALITY_KINDS = ("uniform", "skewed", "gpu", "many-small", "few-huge", "anti-affinity")
TARGET_RATIO = 1.03  # planner cost / lower bound


def _ratio(cost: float, bound: float) -> float | None:
    return cost / bound if bound > 0 else None


def quality_row(kind: str, n_pods: int, seed: int, catalog: RegionCatalog) -> dict[str, Any]:
    """Plan one workload with the planner and the baseline; costs in USD per hour."""
    snapshot = generate(kind, n_pods, seed)
    start = time.perf_counter()
    plan = plan_snapshot(snapshot, catalog, Constraints())
    seconds = time.perf_counter() - start
    baseline = plan_ffd(snapshot, catalog)
    types = Counter(n.instance_type.name for n in plan.nodes)
    return {
        "kind": kind,
        "pods": n_pods,
        "cost": plan.hourly_cost,
        "lower_bound": plan.lower_bound,
        "ratio": _ratio(plan.hourly_cost, plan.lower_bound),
        "nodes": len(plan.nodes),
        "node_types": dict(types.most_common(3)),
        "unschedulable": len(plan.unschedulable),
        "seconds": seconds,
        "ffd_cost": baseline.hourly_cost,
        "ffd_ratio": _ratio(baseline.hourly_cost, plan.lower_bound),
        "ffd_nodes": baseline.node_count,
        "ffd_node_types": baseline.nodes_by_type,
        "ffd_unplaced": len(baseline.unplaced),
        "ffd_seconds": baseline.seconds,
        "saving_vs_ffd": 1 - plan.hourly_cost / baseline.hourly_cost if baseline.hourly_cost else None,
    }


def run_quality(
    n_pods: int,
    seed: int,
    catalog: RegionCatalog,
    kinds: tuple[str, ...] = QUALITY_KINDS,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    rows = []
    for kind in kinds:
        rows.append(quality_row(kind, n_pods, seed, catalog))
        if on_row is not None:
            on_row(rows[-1])
    return rows
