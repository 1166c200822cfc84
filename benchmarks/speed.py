"""Planning speed and memory at growing sizes of the "realistic" workload, and the fitted growth exponent.

Called by `benchmarks.__main__`. Each size runs in a fresh process (so its peak RSS is that size's own
peak): planning wall time with `time.perf_counter` (best of `repeats`), then one more run under
`tracemalloc` for the planner's peak Python allocation. The exponent is the least-squares slope of
log(time) against log(pods).
"""

from __future__ import annotations

import math
import multiprocessing
import time
import tracemalloc
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from benchmarks.memory import peak_rss_mib
from kubewise.catalog.loading import load_region
from kubewise.optimizer import Constraints, plan_snapshot
from kubewise.simulator import generate

__all__ = ["QUICK_SIZES", "SIZES", "TARGET_SECONDS_10K", "fit_exponent", "measure", "run_speed"]

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (500, 2_000, 8_000)
TARGET_SECONDS_10K = 2.0
KIND = "realistic"


def measure(
    n_pods: int,
    seed: int,
    repeats: int,
    budget_seconds: float = float("inf"),
    provider: str = "aws",
    region: str = "us-east-1",
) -> dict[str, Any]:
    """Time and memory of planning `n_pods` realistic pods (meant to run in its own process).

    A run slower than `budget_seconds` is not repeated, nor re-run under tracemalloc (peak: None).
    """
    catalog = load_region(provider, region)
    start = time.perf_counter()
    snapshot = generate(KIND, n_pods, seed)
    generate_seconds = time.perf_counter() - start
    runs = []
    plan = None
    for _ in range(repeats):
        start = time.perf_counter()
        plan = plan_snapshot(snapshot, catalog, Constraints())
        runs.append(time.perf_counter() - start)
        if runs[-1] > budget_seconds:
            break
    assert plan is not None
    peak: float | None = None
    if min(runs) <= budget_seconds:
        tracemalloc.start()
        plan_snapshot(snapshot, catalog, Constraints())
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return {
        "pods": n_pods,
        "seconds": min(runs),
        "runs": runs,
        "tracemalloc_peak_mib": peak,
        "max_rss_mib": peak_rss_mib(),
        "generate_seconds": generate_seconds,
        "catalog_types": len(catalog),
        "classes": plan.stats.get("classes"),
        "nodes": len(plan.nodes),
        "unschedulable": len(plan.unschedulable),
        "cost": plan.hourly_cost,
        "lower_bound": plan.lower_bound,
        "gap": plan.gap,
    }


def fit_exponent(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(seconds) on log(pods): 1.0 is linear growth."""
    pts = [(math.log(n), math.log(t)) for n, t in points if n > 0 and t > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


def run_speed(
    sizes: Sequence[int],
    seed: int,
    budget_seconds: float = 900.0,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Measure every size in its own process: best of 3 up to 10k pods, a single run above.

    A size whose best run takes longer than `budget_seconds` stops the series: the larger sizes are
    listed as skipped instead of being run (a 10x larger plan would take far longer still).
    """
    rows: list[dict[str, Any]] = []
    skipped: list[int] = []
    ctx = multiprocessing.get_context("spawn")
    for n in sizes:
        if rows and rows[-1]["seconds"] > budget_seconds:
            skipped.append(n)
            continue
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            rows.append(pool.submit(measure, n, seed, 3 if n <= 10_000 else 1, budget_seconds).result())
        if on_row is not None:
            on_row(rows[-1])
    exponent = fit_exponent([(r["pods"], r["seconds"]) for r in rows])
    return {
        "kind": KIND,
        "rows": rows,
        "skipped": skipped,
        "budget_seconds": budget_seconds,
        "exponent": exponent,
    }
