"""The savings report: what the cluster costs now against the cheapest verified plans.

Called by the CLI (`kubewise savings`) and later by the server's savings API. `SavingsReport.to_dict`
is the documented `--output json` contract (docs/savings-json.md); change it only compatibly.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubewise.catalog.pricing import NodePrice, price_node
from kubewise.catalog.types import RegionCatalog
from kubewise.model import CAPACITY_ON_DEMAND, CAPACITY_SPOT, Snapshot
from kubewise.optimizer.planner import plan_snapshot
from kubewise.optimizer.progress import Progress, ignore_progress
from kubewise.optimizer.types import Constraints, Plan

__all__ = ["HOURS_PER_MONTH", "SCHEMA_VERSION", "SavingsReport", "savings_report"]

HOURS_PER_MONTH = 730.0  # the cloud providers' billing convention (8760 h / 12)
SCHEMA_VERSION = 1


@dataclass(slots=True)
class SavingsReport:
    provider: str
    region: str
    current: list[NodePrice]
    plans: list[Plan]
    pod_counts: dict[str, int] = field(default_factory=dict)

    @property
    def current_hourly(self) -> float:
        return sum(p.hourly_price or 0.0 for p in self.current)

    @property
    def unpriced_nodes(self) -> list[NodePrice]:
        return [p for p in self.current if p.hourly_price is None]

    def savings_percent(self, plan: Plan) -> float | None:
        """None when the current cost is unknown (no nodes, or some node could not be priced)."""
        current = self.current_hourly
        if not self.current or self.unpriced_nodes or current <= 0:
            return None
        return round((current - plan.hourly_cost) / current * 100.0, 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "provider": self.provider,
            "region": self.region,
            "current": {
                "hourly_cost": round(self.current_hourly, 6),
                "monthly_cost": round(self.current_hourly * HOURS_PER_MONTH, 2),
                "complete": not self.unpriced_nodes,
                "nodes": [_current_node(p) for p in self.current],
            },
            "pods": dict(self.pod_counts),
            "plans": [_plan_dict(self, plan) for plan in self.plans],
        }


def _current_node(p: NodePrice) -> dict[str, Any]:
    return {
        "name": p.node_name,
        "instance_type": p.instance_type,
        "capacity_type": p.capacity_type,
        "hourly_price": p.hourly_price,
        "priced": p.hourly_price is not None,
        "note": p.reason,
    }


def _node_mix(plan: Plan) -> list[dict[str, Any]]:
    mix = Counter((n.instance_type.name, n.capacity_type, n.hourly_price) for n in plan.nodes)
    return [
        {
            "instance_type": t,
            "capacity_type": ct,
            "count": c,
            "hourly_price": price,
            "hourly_cost": round(price * c, 6),
        }
        for (t, ct, price), c in sorted(mix.items(), key=lambda kv: (-kv[1] * kv[0][2], kv[0]))
    ]


def _plan_dict(report: SavingsReport, plan: Plan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "hourly_cost": round(plan.hourly_cost, 6),
        "monthly_cost": round(plan.hourly_cost * HOURS_PER_MONTH, 2),
        "lower_bound": round(plan.lower_bound, 6),
        "gap_percent": round(plan.gap * 100.0, 3) if plan.lower_bound > 0 else None,
        "savings_percent": report.savings_percent(plan),
        "node_mix": _node_mix(plan),
        "nodes": [
            {
                "name": n.name,
                "instance_type": n.instance_type.name,
                "capacity_type": n.capacity_type,
                "zone": n.zone,
                "template": n.template.name,
                "hourly_price": n.hourly_price,
                "pods": sorted(p.key for p in n.pods),
                "daemonset_pods": sorted(p.key for p in plan.daemonset_pods_per_node.get(n.name, [])),
            }
            for n in plan.nodes
        ],
        "unschedulable": [{"pod": u.pod.key, "reason": u.reason} for u in plan.unschedulable],
    }


def _pod_counts(snapshot: Snapshot) -> dict[str, int]:
    active = snapshot.active_pods
    return {
        "total": len(snapshot.pods),
        "movable": sum(1 for p in active if not p.is_daemonset and not p.is_mirror),
        "daemonset": sum(1 for p in active if p.is_daemonset),
        "static": sum(1 for p in active if p.is_mirror),
        "terminal_ignored": len(snapshot.pods) - len(active),
        "pending": sum(1 for p in active if not p.node_name),
    }


def savings_report(
    snapshot: Snapshot,
    catalog: RegionCatalog,
    constraints: Constraints,
    *,
    spot: bool = True,
    on_stage: Callable[[str], None] | None = None,
    progress: Progress = ignore_progress,
) -> SavingsReport:
    """Price the current nodes, then plan on-demand only and (with `spot`) spot with on-demand fallback.
    `on_stage(name)` hears each plan start; `progress` how far the current one has got."""
    current = [price_node(node, catalog) for node in sorted(snapshot.nodes, key=lambda n: n.name)]
    plans = []
    variants: list[tuple[str, tuple[str, ...]]] = [("on-demand", (CAPACITY_ON_DEMAND,))]
    if spot:
        variants.append(("spot", (CAPACITY_SPOT, CAPACITY_ON_DEMAND)))
    for name, capacity_types in variants:
        if on_stage is not None:
            on_stage(f"planning {name}")
        plans.append(
            plan_snapshot(
                snapshot,
                catalog,
                dataclasses.replace(constraints, capacity_types=capacity_types),
                name=name,
                progress=progress,
            )
        )
    return SavingsReport(catalog.provider, catalog.region, current, plans, _pod_counts(snapshot))
