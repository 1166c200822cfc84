"""Workload rightsizing on the platform: each workload's requests against what `rightsizing.recommend`
(pure) makes of its stored usage, why there is no recommendation yet, an estimate of what it saves,
and `rightsize-workload` actions for the cluster controller (on demand, and from the server's loop for
opted-in workloads in mode "apply"). Routes (`routes.workloads`), the console and the loop call it.

Recommendations are computed only for opted-in workloads (annotation `rightsizing.kubewise.dev/enabled`
on the workload or its namespace) of clusters whose policies enable rightsizing. `hourlySavings` is an
estimate: the change in requests times the replicas, priced at the cluster's current cost per
allocatable core and GiB (half of it each); the savings report re-plans the nodes for the real figure.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from kubewise.catalog import price_node
from kubewise.model import SnapshotLoadError, load_snapshot_from_objects
from kubewise.model.resources import CPU, MEMORY
from kubewise.rightsizing import (
    ContainerRecommendation,
    ContainerUsage,
    Requests,
    RightsizingSettings,
    WorkloadRecommendation,
    recommend,
)
from kubewise.server.db import repositories as repo
from kubewise.server.db import workload_usage as db
from kubewise.server.db.tables import ActionRow, ClusterRow
from kubewise.server.policies import Policies, Rightsizing
from kubewise.server.services import savings  # a module: savings imports rightsizing_savings -> this
from kubewise.server.services.errors import Conflict, NotFound, ServiceError
from kubewise.server.services.identity import Caller, cluster_of
from kubewise.server.services.workload_objects import (
    WORKLOAD_KINDS,
    OptIn,
    WorkloadKey,
    container_resources,
    opt_in,
    replicas,
    running_resources,
    template_spec,
    workload_key,
)

__all__ = [
    "APPLY_THRESHOLD",
    "REAPPLY_AFTER",
    "WorkloadState",
    "apply_workload",
    "evaluate",
    "get_workload",
    "item",
    "list_workloads",
    "new_action",
    "settings_from_policy",
]

APPLY_THRESHOLD = 0.10  # apply mode changes requests only when they are this far off (hysteresis)
REAPPLY_AFTER = dt.timedelta(hours=24)  # ... and at most once a day per workload
_GIB = 2.0**30


@dataclass(slots=True)
class WorkloadState:
    """One workload as the rightsizing pages and actions see it."""

    key: WorkloadKey
    opt: OptIn
    current: dict[str, dict[str, float | None]]  # container -> cpu, memory, cpuLimit, memoryLimit
    replicas: int
    usage: dict[str, ContainerUsage] = field(default_factory=dict)
    recommendation: WorkloadRecommendation | None = None
    reason: str | None = None
    data_hours: float = 0.0
    hourly_savings: float = 0.0

    @property
    def recommended(self) -> dict[str, ContainerRecommendation]:
        if self.recommendation is None or self.reason is not None:
            return {}
        return {c.container: c for c in self.recommendation.containers}


def settings_from_policy(p: Rightsizing) -> RightsizingSettings:
    return RightsizingSettings(
        cpu_percentile=p.cpu_percentile / 100.0,
        memory_percentile=p.memory_percentile / 100.0,
        safety_margin=p.safety_margin_percent / 100.0,
        min_cpu_millicores=float(p.min_cpu_millicores),
        max_cpu_millicores=float(p.max_cpu_millicores),
        min_memory_bytes=float(p.min_memory_bytes),
        max_memory_bytes=float(p.max_memory_bytes),
        min_data_hours=p.min_data_hours,
        memory_limit_policy=p.memory_limit_policy,
    )


def _policy(session: Session, cluster_id: str) -> Rightsizing:
    stored = repo.policy(session, cluster_id)
    return (Policies.model_validate(stored.body) if stored else Policies()).rightsizing


def _rates(session: Session, row: ClusterRow, now: dt.datetime) -> tuple[float, float]:
    """USD per core-hour and per GiB-hour: half the current nodes' cost over their allocatable each."""
    try:
        nodes = load_snapshot_from_objects(repo.objects(session, row.id, ["Node"])).nodes
        catalog = savings.cluster_catalog(session, row, now)
    except (SnapshotLoadError, ServiceError):
        return 0.0, 0.0  # no prices for the cluster: savings unknown, shown as 0
    cost = cores = gib = 0.0
    for node in nodes:
        price = price_node(node, catalog).hourly_price
        if price is not None:
            cost += price
            cores += node.allocatable[CPU] / 1000.0
            gib += node.allocatable[MEMORY] / _GIB
    return (cost / 2 / cores if cores else 0.0), (cost / 2 / gib if gib else 0.0)


def _data_hours(usage: Mapping[str, ContainerUsage]) -> float:
    return max((u.data_seconds() / 3600.0 for u in usage.values()), default=0.0)


def _requests(current: Mapping[str, Mapping[str, float | None]]) -> dict[str, Requests]:
    return {
        name: Requests(
            cpu_millicores=r["cpu"],
            memory_bytes=r["memory"],
            cpu_limit=r["cpuLimit"],
            memory_limit=r["memoryLimit"],
        )
        for name, r in current.items()
    }


def _recommend(state: WorkloadState, policy: Rightsizing, now: dt.datetime) -> None:
    """Fills in the recommendation, or the reason there is none."""
    state.data_hours = round(_data_hours(state.usage), 2)
    if not state.opt.opted_in:
        state.reason = state.opt.reason
    elif not policy.enabled:
        state.reason = "rightsizing is off for this cluster: set rightsizing.enabled: true in its policies"
    elif not state.usage:
        state.reason = (
            "no usage data yet: the agent sends it every minute from the metrics API"
            " (kubewise doctor checks that metrics-server answers)"
        )
    elif not state.current:
        state.reason = "the workload's pod template has no containers"
    else:
        usage = {name: u for name, u in state.usage.items() if name in state.current}
        rec = recommend(usage, _requests(state.current), settings_from_policy(policy), now.timestamp())
        state.recommendation, state.reason = rec, rec.reason
        state.data_hours = round(rec.data_hours, 2)
        if rec.reason is None and not rec.containers:
            state.reason = "no usage data yet for the workload's current containers"


def _savings(state: WorkloadState, cpu_rate: float, memory_rate: float) -> float:
    total = 0.0
    for name, rec in state.recommended.items():
        now_ = state.current.get(name, {})
        total += (float(now_.get("cpu") or 0.0) - rec.cpu_millicores) / 1000.0 * cpu_rate
        total += (float(now_.get("memory") or 0.0) - rec.memory_bytes) / _GIB * memory_rate
    return round(total * state.replicas, 6)


def evaluate(
    session: Session, row: ClusterRow, now: dt.datetime, only: WorkloadKey | None = None
) -> list[WorkloadState]:
    """Every workload of the cluster (or only one), sorted by namespace, kind and name."""
    policy = _policy(session, row.id)
    objects = repo.objects(session, row.id, (*WORKLOAD_KINDS, "Namespace", "Pod"))
    running = running_resources(objects)
    namespaces = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Namespace"}
    bodies = {key: o for o in objects if (key := workload_key(o)) is not None}
    if only is not None:
        bodies = {only: bodies[only]} if only in bodies else {}
    usage_rows = db.usage_rows(session, row.id, only)
    cpu_rate, memory_rate = _rates(session, row, now) if bodies else (0.0, 0.0)
    states = []
    for key in sorted(bodies):
        body = bodies[key]
        state = WorkloadState(
            key,
            opt_in(body, namespaces.get(key[0])),
            running.get(key) or container_resources(template_spec(body)),
            replicas(body),
        )
        state.usage = {k[3]: ContainerUsage.from_json(r.usage) for k, r in usage_rows.items() if k[:3] == key}
        _recommend(state, policy, now)
        state.hourly_savings = _savings(state, cpu_rate, memory_rate)
        states.append(state)
    return states


def _recommended(rec: ContainerRecommendation | None) -> dict[str, float] | None:
    if rec is None:
        return None
    out = {"cpu": rec.cpu_millicores, "memory": rec.memory_bytes}
    if rec.cpu_limit_millicores is not None:
        out["cpuLimit"] = rec.cpu_limit_millicores
    if rec.memory_limit_bytes is not None:
        out["memoryLimit"] = rec.memory_limit_bytes
    return out


def item(state: WorkloadState) -> dict[str, Any]:
    namespace, kind, name = state.key
    recommended = state.recommended
    return {
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "optedIn": state.opt.opted_in,
        "mode": state.opt.mode,
        "dataHours": state.data_hours,
        "reason": state.reason,
        "hourlySavings": state.hourly_savings,
        "replicas": state.replicas,
        "containers": [
            {
                "name": c,
                "requests": {"cpu": r["cpu"], "memory": r["memory"]},
                "recommended": _recommended(recommended.get(c)),
            }
            for c, r in state.current.items()
        ],
    }


def _usage_view(usage: ContainerUsage) -> dict[str, Any]:
    return {
        "cpuP50": round(usage.cpu.percentile(0.5) * 1000.0, 3),
        "cpuP90": round(usage.cpu.percentile(0.9) * 1000.0, 3),
        "memoryP95": round(usage.memory.percentile(0.95), 0),
        "oomEvents": len(usage.oom_events),
        "samples": usage.samples,
    }


def list_workloads(session: Session, caller: Caller, cluster_id: str, now: dt.datetime) -> dict[str, Any]:
    caller.require_user()
    row = cluster_of(session, caller, cluster_id)
    return {"items": [item(s) for s in evaluate(session, row, now)]}


def _one(session: Session, row: ClusterRow, key: WorkloadKey, now: dt.datetime) -> WorkloadState:
    found = evaluate(session, row, now, key)
    if not found:
        namespace, kind, name = key
        raise NotFound(f"no {kind} {namespace}/{name} in this cluster's latest snapshot")
    return found[0]


def get_workload(
    session: Session, caller: Caller, cluster_id: str, key: WorkloadKey, now: dt.datetime
) -> dict[str, Any]:
    caller.require_user()
    state = _one(session, cluster_of(session, caller, cluster_id), key, now)
    return item(state) | {"usage": {c: _usage_view(u) for c, u in sorted(state.usage.items())}}


def _details(state: WorkloadState) -> dict[str, Any]:
    namespace, kind, name = state.key
    containers = {c: _recommended(r) for c, r in state.recommended.items()}
    return {"kind": kind, "namespace": namespace, "name": name, "containers": containers}


def _describe(state: WorkloadState, why: str) -> str:
    namespace, kind, name = state.key
    parts = []
    for c, rec in state.recommended.items():
        now_ = state.current.get(c, {})
        parts.append(
            f"{c}: cpu {_milli(now_.get('cpu'))} -> {_milli(rec.cpu_millicores)},"
            f" memory {_mib(now_.get('memory'))} -> {_mib(rec.memory_bytes)}"
        )
    return f"rightsize {kind} {namespace}/{name} ({why}): " + "; ".join(parts)


def _milli(value: float | None) -> str:
    return "unset" if value is None else f"{value:.0f}m"


def _mib(value: float | None) -> str:
    return "unset" if value is None else f"{value / 2**20:.0f}Mi"


def new_action(cluster_id: str, state: WorkloadState, now: dt.datetime, why: str) -> ActionRow:
    row = ActionRow(
        id=str(uuid.uuid4()), cluster_id=cluster_id, created_at=now, position=0, kind=db.RIGHTSIZE_KIND,
        status="pending", reason=_describe(state, why), details=_details(state),
    )  # fmt: skip
    return row


def apply_workload(
    session: Session, caller: Caller, cluster_id: str, key: WorkloadKey, now: dt.datetime
) -> dict[str, Any]:
    """A rightsize-workload action now, for the controller; 409 with the reason when there is no
    recommendation."""
    caller.require_write()
    row = cluster_of(session, caller, cluster_id)
    state = _one(session, row, key, now)
    if not state.recommended:
        raise Conflict(f"no recommendation to apply: {state.reason or 'none yet'}")
    action = new_action(row.id, state, now, "on request")
    repo.add(session, action)
    return {"actionId": action.id}
