"""Rich tables for `kubewise savings`: cost summary, recommended node mix, unschedulable pods.

Called by `cli.savings` for `--output table`.
"""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from kubewise.optimizer import HOURS_PER_MONTH, Plan, SavingsReport

__all__ = ["render_report"]

_MAX_LISTED = 20


def _money(hourly: float) -> str:
    return f"${hourly:,.3f}/h  ${hourly * HOURS_PER_MONTH:,.0f}/mo"


def _summary(report: SavingsReport) -> Table:
    table = Table(title="Cost", title_justify="left")
    for col in ("", "nodes", "cost", "savings", "lower bound", "gap to bound"):
        table.add_column(col, justify="left" if not col else "right")
    current = "unknown" if not report.current else _money(report.current_hourly)
    if report.unpriced_nodes:
        current += f" (+{len(report.unpriced_nodes)} unpriced)"
    table.add_row("current", str(len(report.current)), current, "", "", "")
    for plan in report.plans:
        pct = report.savings_percent(plan)
        table.add_row(
            f"optimized ({plan.name})",
            str(len(plan.nodes)),
            _money(plan.hourly_cost),
            "n/a" if pct is None else f"{pct:.1f}%",
            f"${plan.lower_bound:,.3f}/h",
            f"{plan.gap * 100:.2f}%" if plan.lower_bound > 0 else "n/a",
        )
    return table


def _mix(plan: Plan) -> Table:
    table = Table(title=f"Recommended node mix ({plan.name})", title_justify="left")
    for col in ("instance type", "capacity", "count", "price each", "monthly"):
        table.add_column(col, justify="right" if col in ("count", "price each", "monthly") else "left")
    mix = Counter((n.instance_type.name, n.capacity_type, n.hourly_price) for n in plan.nodes)
    for (itype, capacity, price), count in sorted(mix.items(), key=lambda kv: (-kv[1] * kv[0][2], kv[0])):
        table.add_row(
            itype, capacity, str(count), f"${price:.4f}/h", f"${price * count * HOURS_PER_MONTH:,.0f}"
        )
    return table


def _unschedulable(plan: Plan) -> Table:
    table = Table(
        title=f"Pods no allowed node can run ({plan.name}): {len(plan.unschedulable)}", title_justify="left"
    )
    table.add_column("pod")
    table.add_column("reason")
    for u in plan.unschedulable[:_MAX_LISTED]:
        table.add_row(u.pod.key, u.reason)
    if len(plan.unschedulable) > _MAX_LISTED:
        table.add_row(f"... and {len(plan.unschedulable) - _MAX_LISTED} more", "see --output json")
    return table


def _nodes(plan: Plan) -> Table:
    table = Table(title=f"Planned nodes ({plan.name})", title_justify="left")
    for col in ("node", "type", "capacity", "zone", "pods"):
        table.add_column(col)
    for n in plan.nodes:
        table.add_row(
            n.name, n.instance_type.name, n.capacity_type, n.zone, ", ".join(sorted(p.key for p in n.pods))
        )
    return table


def render_report(console: Console, report: SavingsReport, *, show_nodes: bool = False) -> None:
    counts = report.pod_counts
    console.print(
        f"[bold]{report.provider} {report.region}[/]: {len(report.current)} nodes, "
        f"{counts.get('movable', 0)} pods to place, {counts.get('daemonset', 0)} DaemonSet pods, "
        f"{counts.get('terminal_ignored', 0)} finished pods ignored",
        highlight=False,
    )
    console.print(_summary(report))
    for node in report.unpriced_nodes:
        console.print(f"[yellow]warning:[/] node {node.node_name} not priced: {node.reason}", highlight=False)
    for plan in report.plans:
        console.print(_mix(plan))
        if plan.unschedulable:
            console.print(_unschedulable(plan))
        if show_nodes:
            console.print(_nodes(plan))
    console.print(
        "Lower bound: no plan that runs these pods under the same constraints can cost less.", style="dim"
    )
