"""What the console pages show, assembled from the services the API uses (no logic of its own).

`POLICY_FIELDS` is the policies editor: each field's path in the policy document, its label and
kind; `policies_from_form` turns the posted form into a document that the API's own model
(`server.policies.Policies`) validates, so the console and the API accept exactly the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from kubewise.server.policies import Policies
from kubewise.server.services import autoscaling, cluster_views, clusters, cost_history
from kubewise.server.services.errors import Conflict
from kubewise.server.services.identity import Caller, cluster_of
from kubewise.server.settings import ServerSettings

__all__ = ["NODES_PER_PAGE", "POLICY_FIELDS", "cluster_page", "cluster_rows", "policies_from_form"]

NODES_PER_PAGE = 100
POLICY_FIELDS: tuple[tuple[str, str, str], ...] = (  # (document path, label, bool | int)
    ("enabled", "Automation enabled", "bool"),
    ("unschedulablePods.enabled", "Add nodes for unschedulable pods", "bool"),
    ("nodeDownscaler.enabled", "Node downscaler", "bool"),
    ("nodeDownscaler.emptyNodes.enabled", "Remove empty nodes", "bool"),
    ("nodeDownscaler.emptyNodes.delaySeconds", "Empty for (seconds) before removal", "int"),
    ("clusterLimits.enabled", "Cluster CPU limits", "bool"),
    ("clusterLimits.cpu.minCores", "Minimum cores", "int"),
    ("clusterLimits.cpu.maxCores", "Maximum cores", "int"),
    ("spotInstances.enabled", "Spot instances", "bool"),
    ("spotInstances.spotDiversityEnabled", "Spot diversity", "bool"),
    ("spotInstances.spotDiversityPriceIncreaseLimitPercent", "Diversity price increase limit (%)", "int"),
    ("spotInstances.spotBackups.enabled", "On-demand when spot cannot be had", "bool"),
    ("spotInstances.spotBackups.spotBackupRestoreRateSeconds", "Back to spot every (seconds)", "int"),
    ("evictor.enabled", "Evictor (consolidation)", "bool"),
    ("evictor.aggressiveMode", "Evictor aggressive mode", "bool"),
    ("evictor.cycleInterval", "Evictor runs every (seconds)", "int"),
)
_FIXES = {
    clusters.CONNECTING: "Waiting for the agent's first heartbeat: apply the manifests `kubewise connect` "
    "printed, then check `kubectl -n kubewise-agent get pods`.",
    clusters.NOT_RESPONDING: "The agent stopped sending heartbeats: check "
    "`kubectl -n kubewise-agent logs deploy/kubewise-agent` (an invalid key or a blocked network is "
    "said there).",
    clusters.DISCONNECTED: "No heartbeat for over an hour: reconnect the cluster and re-apply the agent "
    "(`kubewise connect ... | kubectl apply -f -`).",
}


def _summary(row: Any, now: dt.datetime, settings: ServerSettings) -> dict[str, Any]:
    """What every page says of a cluster: who it is, its status and the fix for it when known."""
    status = clusters.cluster_status(row, now, settings)
    return {
        "id": row.id,
        "name": row.name,
        "provider": row.provider,
        "region": clusters.cluster_region(row)[1],
        "status": status,
        "fix": _FIXES.get(status, ""),
    }


def cluster_rows(
    session: Session, caller: Caller, now: dt.datetime, settings: ServerSettings
) -> list[dict[str, Any]]:
    """The clusters with the figures of their stored views (planned in the background)."""
    rows = []
    for row in clusters.list_clusters(session, caller):
        item = _summary(row, now, settings) | {"monthly": None, "savings_percent": None}
        view = cluster_views.stored_view(session, row)
        if view is not None:
            item["monthly"] = view.body["report"]["current"]["monthly_cost"]
            item["savings_percent"] = _best_savings(view.body["report"])
        rows.append(item)
    return rows


def _best_savings(report: Mapping[str, Any]) -> float | None:
    found = [p["savings_percent"] for p in report.get("plans", []) if p.get("savings_percent") is not None]
    return max(found) if found else None


def cluster_page(
    session: Session, caller: Caller, cluster_id: str, now: dt.datetime, settings: ServerSettings, page: int
) -> dict[str, Any]:
    row = cluster_of(session, caller, cluster_id)
    summary = _summary(row, now, settings)
    fix = summary["fix"]
    out: dict[str, Any] = summary | {
        "policies": _policy_values(session, caller, cluster_id),
        "actions": autoscaling.list_actions(session, caller, cluster_id, 50)["items"],
        "report": None,
        "nodes": [],
        "page": page,
        "pages": 1,
        "pending": [],
        "cost_chart": cost_chart(cost_history.cost_history(session, caller, cluster_id, now, 168)["items"]),
    }
    try:
        view = cluster_views.cluster_view(session, row, now, loop_on=settings.autoscaler_interval_seconds > 0)
    except Conflict as exc:
        out["fix"] = " ".join(part for part in (fix, exc.message) if part)
        return out
    nodes = view.body["nodes"]
    out["pages"] = max(1, -(-len(nodes) // NODES_PER_PAGE))
    page = min(max(page, 1), out["pages"])
    out |= {
        "report": view.body["report"],
        "chart": savings_chart(view.body["report"]),
        "planned_at": view.planned_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "page": page,
        "node_count": len(nodes),
        "nodes": nodes[(page - 1) * NODES_PER_PAGE : page * NODES_PER_PAGE],
        "pending": view.body["pending"],
        "pending_count": view.body["pending_count"],
    }
    return out


def _policy_values(session: Session, caller: Caller, cluster_id: str) -> list[dict[str, Any]]:
    from kubewise.server.services.policies import get_policies

    doc = get_policies(session, caller, cluster_id).model_dump(mode="json", by_alias=True)
    values = []
    for path, label, kind in POLICY_FIELDS:
        value: Any = doc
        for part in path.split("."):
            value = value[part]
        values.append({"path": path, "label": label, "kind": kind, "value": value})
    return values


def policies_from_form(form: Mapping[str, str]) -> Policies:
    """The posted editor as a policy document, validated by the API's model (ValueError says what is
    wrong, field by field)."""
    doc: dict[str, Any] = {}
    problems = []
    for path, label, kind in POLICY_FIELDS:
        raw = form.get(path)
        value: Any
        if kind == "bool":
            value = raw == "on"
        else:
            try:
                value = int((raw or "").strip())
            except ValueError:
                problems.append(f"{label}: {raw!r} is not a whole number")
                continue
        where = doc
        *parents, leaf = path.split(".")
        for part in parents:
            where = where.setdefault(part, {})
        where[leaf] = value
    if problems:
        raise ValueError("; ".join(problems))
    try:
        return Policies.model_validate(doc)
    except ValidationError as exc:
        labels = {p: label for p, label, _ in POLICY_FIELDS}
        paths = [".".join(str(x) for x in e["loc"]) for e in exc.errors()]
        raise ValueError(
            "; ".join(f"{labels.get(p, p)}: {e['msg']}" for p, e in zip(paths, exc.errors(), strict=True))
        ) from None


def dollars(value: float) -> str:
    """An hourly price, with the digits that matter for small ones."""
    return f"${value:.2f}" if value >= 10 else f"${value:.4f}"


def savings_chart(report: Mapping[str, Any]) -> str:
    """Current cost and each plan (with its lower bound) as horizontal bars, in inline SVG."""
    bars: list[tuple[str, float, float | None]] = [("Current", float(report["current"]["hourly_cost"]), None)]
    bars += [
        (f"Optimized ({p['name']})", float(p["hourly_cost"]), float(p["lower_bound"]))
        for p in report.get("plans", [])
    ]
    top = max((b[1] for b in bars), default=0.0) or 1.0
    width, row, left = 640, 34, 170
    scale = (width - left - 90) / top
    parts = [
        f'<svg role="img" aria-labelledby="chart-title" viewBox="0 0 {width} {row * len(bars) + 10}" '
        f'width="100%" class="chart"><title id="chart-title">Hourly cost: current and optimized</title>'
    ]
    for i, (label, value, bound) in enumerate(bars):
        y = 5 + i * row
        parts.append(f'<text x="0" y="{y + 18}" class="label">{label}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 4}" width="{max(1.0, value * scale):.1f}" height="20" '
            f'class="bar{" current" if i == 0 else ""}"><title>{label}: {dollars(value)}/h</title></rect>'
        )
        parts.append(
            f'<text x="{left + value * scale + 6:.1f}" y="{y + 18}" class="value">{dollars(value)}/h</text>'
        )
        if bound is not None:
            x = left + bound * scale
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y + 1}" y2="{y + 27}" class="bound">'
                f"<title>lower bound {dollars(bound)}/h</title></line>"
            )
    parts.append("</svg>")
    return "".join(parts)


def cost_chart(samples: list[dict[str, Any]]) -> str:
    """Hourly cost over time (the last week's samples) as an inline SVG line; "" without two samples."""
    if len(samples) < 2:
        return ""
    times = [dt.datetime.fromisoformat(s["at"]).timestamp() for s in samples]
    costs = [float(s["hourlyCost"]) for s in samples]
    width, height, pad = 640, 160, 40
    t0, t1 = times[0], max(times[-1], times[0] + 1)
    top = max(costs) * 1.1 or 1.0
    xs = [pad + (t - t0) / (t1 - t0) * (width - 2 * pad) for t in times]
    ys = [height - pad / 2 - c / top * (height - pad) for c in costs]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    first = dt.datetime.fromtimestamp(t0, dt.UTC).strftime("%Y-%m-%d %H:%M")
    last = dt.datetime.fromtimestamp(t1, dt.UTC).strftime("%Y-%m-%d %H:%M")
    return (
        f'<svg role="img" aria-labelledby="cost-title" viewBox="0 0 {width} {height}" width="100%" '
        'class="chart">'
        f'<title id="cost-title">Hourly cost from {first} to {last} UTC: {dollars(costs[0])} to '
        f"{dollars(costs[-1])} per hour</title>"
        f'<polyline points="{points}" class="line" fill="none"/>'
        f'<text x="{pad}" y="{height - 2}" class="value">{first}</text>'
        f'<text x="{width - pad}" y="{height - 2}" class="value" text-anchor="end">{last} UTC</text>'
        f'<text x="0" y="12" class="value">{dollars(max(costs))}/h</text></svg>'
    )
