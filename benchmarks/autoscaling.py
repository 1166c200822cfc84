"""`python -m benchmarks.autoscaling`: a simulated day of diurnal load on the example cluster.

The storefront's and the catalog's Deployments follow a daily curve (scaled every 30 minutes between
0.3x and 1.7x of their size); two spot nodes are reclaimed at 14:00. The same day is run with the
autoscaler's policies on (spot with on-demand fallback, empty-node removal, evictor), with them on
but on-demand only, and with automation off (the static cluster), side by side. Every hour the
optimizer's lower bound for the pods running then (any capacity type) is computed: the average cost
of each run is printed against the static cluster and against the average of those bounds.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from importlib import resources
from typing import Any

from kubewise.autoscaler import AutoscalerPolicy, policy_from_document
from kubewise.catalog.loading import load_region
from kubewise.model import CAPACITY_ON_DEMAND, CAPACITY_SPOT, Snapshot, load_snapshot_from_objects
from kubewise.optimizer import Constraints, plan_snapshot
from kubewise.simulator import parse_scenario, simulate

POLICIES = {
    "enabled": True,
    "unschedulablePods": {"enabled": True},
    "nodeDownscaler": {"enabled": True, "emptyNodes": {"enabled": True, "delaySeconds": 600}},
    "spotInstances": {"enabled": True, "spotBackups": {"enabled": True}},
    "evictor": {"enabled": True, "cycleInterval": 600},
}
CURVE = {("storefront", "web"): 12, ("catalog", "catalog-api"): 8}


def _events(hours: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for half_hour in range(int(hours * 2)):
        factor = 1 + 0.7 * math.sin(2 * math.pi * (half_hour / 48 - 0.25))  # low at night, high at 18:00
        for (namespace, owner), base in CURVE.items():
            replicas = max(1, round(base * factor))
            out.append(
                {
                    "at_minute": half_hour * 30 + 0.01,
                    "scale": {"namespace": namespace, "owner": owner, "replicas": replicas},
                }
            )
    out.append({"at_minute": 14 * 60, "interrupt_spot": 2})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.autoscaling", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    items = json.loads((resources.files("kubewise.examples") / "eks-us-east-1.json").read_text())["items"]
    snapshot = load_snapshot_from_objects(items)
    catalog = load_region("aws", "us-east-1")
    scenario = parse_scenario(
        {
            "duration_minutes": args.hours * 60,
            "provisioning_seconds": 120,
            "policies": POLICIES,
            "events": _events(args.hours),
        }
    )
    bounds: dict[str, list[float]] = {"any": [], "on-demand": []}
    capacity = {"any": (CAPACITY_SPOT, CAPACITY_ON_DEMAND), "on-demand": (CAPACITY_ON_DEMAND,)}

    def hourly_bound(t: float, cluster: Snapshot) -> None:
        if t % 3600 == 0:  # the pods running and waiting now, planned from scratch
            for name, allowed in capacity.items():
                plan = plan_snapshot(cluster, catalog, Constraints(capacity_types=allowed))
                bounds[name].append(plan.lower_bound)

    on_demand = {**POLICIES, "spotInstances": {"enabled": False}}
    runs: list[tuple[str, Any, float]] = []
    for name, policy, hook in (
        ("autoscaler (spot + fallback)", policy_from_document(POLICIES), hourly_bound),
        ("autoscaler (on-demand only)", policy_from_document(on_demand), None),
        ("static cluster (automation off)", AutoscalerPolicy(), None),
    ):
        start = time.perf_counter()
        runs.append((name, simulate(scenario, snapshot, catalog, policy, hook), time.perf_counter() - start))
    static = runs[-1][1].average_hourly_cost
    bound = {k: sum(v) / max(1, len(v)) for k, v in bounds.items()}
    print(
        f"{args.hours:g} simulated hours of the example cluster ({len(snapshot.nodes)} nodes): diurnal load,"
    )
    print("2 spot nodes reclaimed; 'vs bound': average cost / the hourly lower bound's average")
    heads = ("avg $/h", "vs static", "vs bound", "pending pod-min", "evictions", "lost", "sim s")
    print(f"{'run':34s} " + " ".join(f"{h:>{max(8, len(h))}s}" for h in heads))
    for name, out, seconds in runs:
        cost = out.average_hourly_cost
        ref = bound["on-demand"] if "on-demand only" in name else bound["any"]
        figures = (
            f"{cost:8.3f}",
            f"{cost / static:9.3f}",
            f"{cost / ref:8.3f}",
            f"{out.pending_pod_minutes(scenario.step_seconds):15.0f}",
            f"{out.evictions:9d}",
            f"{out.lost_pods:8d}",
            f"{seconds:8.1f}",
        )
        print(f"{name:34s} " + " ".join(figures))
    samples = len(bounds["any"])
    print(f"hourly lower bounds ({samples} samples, averaged): {bound['any']:.3f} $/h with spot allowed,")
    print(f"{bound['on-demand']:.3f} $/h on-demand only (what the on-demand run is compared with)")


if __name__ == "__main__":
    main()
