"""The autoscaler's cycles on the platform: policies in, actions stored with their reasons.

A cycle reads the cluster's latest snapshot and policies, runs `autoscaler.plan_cycle` (pure) and
stores the actions it decides as `pending` rows: the audit trail the API lists, and the work the
cluster controller will take. An action identical to one still pending (same kind and node, or the
same node kind for the same pods) is not stored twice, since the same pending pods ask for the same
nodes every cycle until they arrive. Cycles run on demand (`POST .../autoscaler/run`) and from the
server's loop (`autoscaler_loop`) for every cluster whose policies enable automation; the cluster's
state row is locked for the cycle (skipped, not waited for, by other replicas on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.orm import Session

from kubewise.autoscaler import (
    Action,
    AddNodes,
    AutoscalerPolicy,
    DrainNode,
    plan_cycle,
    policy_from_document,
)
from kubewise.optimizer import Constraints
from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import ActionRow, AutoscalerStateRow, ClusterRow
from kubewise.server.policies import Policies
from kubewise.server.services.identity import Caller, cluster_of
from kubewise.server.services.savings import cluster_catalog, stored_snapshot

__all__ = ["autoscaler_policy", "list_actions", "run_cycle", "run_cycle_for"]


def autoscaler_policy(p: Policies) -> AutoscalerPolicy:
    return policy_from_document(p.model_dump(mode="json", by_alias=True))


def _identity(kind: str, node: str | None, itype: str | None, zone: str | None, pods: Any) -> tuple[Any, ...]:
    return (kind, node, itype, zone, tuple(sorted(pods or ())))


def _row(cluster_id: str, action: Action, now: dt.datetime, position: int) -> ActionRow:
    row = ActionRow(
        id=str(uuid.uuid4()),
        cluster_id=cluster_id,
        created_at=now,
        position=position,
        kind=action.kind,
        status="pending",
    )
    row.reason = action.reason
    if isinstance(action, AddNodes):
        row.instance_type, row.capacity_type, row.zone = (
            action.instance_type,
            action.capacity_type,
            action.zone,
        )
        row.count, row.hourly_price, row.pods = action.count, action.hourly_price, list(action.pods)
        row.alternatives = list(action.alternatives)
        row.labels = dict(action.labels)
        row.taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in action.taints]
        row.replaces = action.replaces or None
    else:
        row.node = action.node
        if isinstance(action, DrainNode):
            row.pods = list(action.pods)
    return row


def view(row: ActionRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "createdAt": row.created_at.isoformat(),
        "kind": row.kind,
        "status": row.status,
        "reason": row.reason,
    }
    if row.kind == "add-nodes":
        out |= {
            "instanceType": row.instance_type,
            "alternatives": row.alternatives or [],
            "labels": row.labels or {},
            "taints": row.taints or [],
            **({"replaces": row.replaces} if row.replaces else {}),
            "capacityType": row.capacity_type,
            "zone": row.zone,
            "count": row.count,
            "hourlyPrice": row.hourly_price,
            "pods": row.pods or [],
        }
    elif row.details is not None:  # rightsize-workload: what to set on which workload
        out["details"] = row.details
    else:
        out["node"] = row.node
        if row.kind == "drain-node":
            out["pods"] = row.pods or []
    return out


def run_cycle_for(session: Session, row: ClusterRow, now: dt.datetime) -> dict[str, Any]:
    """One cycle on `row` (locked by the caller's transaction)."""
    stored = repo.policy(session, row.id)
    policy = autoscaler_policy(Policies.model_validate(stored.body) if stored else Policies())
    state = repo.autoscaler_state(session, row.id, lock=True)
    result = plan_cycle(
        stored_snapshot(session, row),
        cluster_catalog(session, row, now),
        Constraints(),
        policy,
        now.timestamp(),
        {k: float(v) for k, v in (state.empty_since if state else {}).items()},
        state.evictor_ran_at.timestamp() if state and state.evictor_ran_at else None,
        _unavailable(state, now),
        _in_flight(session, row.id, now),
        state.spot_restored_at.timestamp() if state and state.spot_restored_at else None,
    )
    ran = _when(result.evictor_ran_at)
    seen = {
        _identity(a.kind, a.node, a.instance_type, a.zone, a.pods)
        for a in repo.pending_actions(session, row.id)
    }
    stored_rows = []
    for position, action in enumerate(result.actions):
        new = _row(row.id, action, now, position)
        key = _identity(new.kind, new.node, new.instance_type, new.zone, new.pods)
        if key not in seen:
            seen.add(key)
            repo.add(session, new)
            stored_rows.append(new)
    if state is None:
        fresh = AutoscalerStateRow(cluster_id=row.id, last_run_at=now, empty_since=result.empty_since)
        fresh.evictor_ran_at, fresh.spot_restored_at = ran, _when(result.spot_restored_at)
        repo.add(session, fresh)
    else:
        state.last_run_at, state.empty_since, state.evictor_ran_at = now, dict(result.empty_since), ran
        state.spot_restored_at = _when(result.spot_restored_at)
    return {
        "clusterId": row.id,
        "enabled": policy.enabled,
        "actions": [view(r) for r in stored_rows],
        "unplaceable": [{"pod": u.pod, "reason": u.reason} for u in result.unplaceable],
        "notes": result.notes,
    }


def _when(seconds: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(seconds, dt.UTC) if seconds is not None else None


def _unavailable(state: AutoscalerStateRow | None, now: dt.datetime) -> frozenset[tuple[str, str]]:
    """Offerings the controller found without capacity, until their time is up."""
    found = (state.unavailable or {}) if state else {}
    live = [key.split("|", 1) for key, until in found.items() if float(until) > now.timestamp()]
    return frozenset((k[0], k[1]) for k in live if len(k) == 2)


IN_FLIGHT = dt.timedelta(minutes=10)  # how long new nodes may take to join before pods are planned for again


def _in_flight(session: Session, cluster_id: str, now: dt.datetime) -> frozenset[str]:
    """Pods whose nodes were asked for (pending, or done less than `IN_FLIGHT` ago)."""
    rows = repo.recent_add_nodes(session, cluster_id, now - IN_FLIGHT)
    return frozenset(p for r in rows for p in (r.pods or []))


def run_cycle(session: Session, caller: Caller, cluster_id: str, now: dt.datetime) -> dict[str, Any]:
    caller.require_write()
    return run_cycle_for(session, cluster_of(session, caller, cluster_id, lock=True), now)


def list_actions(session: Session, caller: Caller, cluster_id: str, limit: int) -> dict[str, Any]:
    caller.require_user()
    cluster_of(session, caller, cluster_id)
    return {"items": [view(r) for r in repo.actions(session, cluster_id, limit)]}
