"""A cluster's policy diagnosis: the stored snapshot, policies and autoscaler state through the pure
`autoscaler.diagnosis`, for `GET /v1/kubernetes/clusters/{id}/diagnosis` (what `kubewise doctor` reads).

What the autoscaler remembers goes in as its cycle reads it: empty-since times, offerings without
capacity, pods whose nodes are starting, and the actions of the last day with what became of them.
Rightsizing's inputs come from the stored workload and Namespace objects (their opt-in annotation),
the cluster's `rightsizing` policy, and the oldest usage sample the platform keeps for the cluster.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from kubewise.autoscaler import SPOT_FALLBACK_LABEL
from kubewise.autoscaler.diagnosis import RIGHTSIZING_ANNOTATION, RecentAction, Rightsizing, diagnose
from kubewise.rightsizing import ContainerUsage
from kubewise.server.db import repositories as repo
from kubewise.server.db import workload_usage as usage_db
from kubewise.server.db.tables import ActionRow, AutoscalerStateRow, ClusterRow
from kubewise.server.policies import Policies
from kubewise.server.services.autoscaling import IN_FLIGHT, autoscaler_policy
from kubewise.server.services.identity import Caller, cluster_of
from kubewise.server.services.savings import cluster_catalog, stored_snapshot

__all__ = ["RECENT", "cluster_diagnosis"]

RECENT = dt.timedelta(hours=24)  # actions this recent tell what the autoscaler has been doing
_RECENT_ROWS = 500
_ANNOTATED_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Namespace")


def cluster_diagnosis(session: Session, caller: Caller, cluster_id: str, now: dt.datetime) -> dict[str, Any]:
    """`{"clusterId", "problems": [...]}`; 409 (Conflict) before the agent's first snapshot."""
    caller.require_user()
    row = cluster_of(session, caller, cluster_id)
    snapshot, catalog = stored_snapshot(session, row), cluster_catalog(session, row, now)
    stored = repo.policy(session, row.id)
    policies = Policies.model_validate(stored.body) if stored else Policies()
    policy = autoscaler_policy(policies)
    state = repo.autoscaler_state(session, row.id)
    in_flight = frozenset(
        p for r in repo.recent_add_nodes(session, row.id, now - IN_FLIGHT) for p in (r.pods or [])
    )
    problems = diagnose(
        snapshot,
        catalog,
        policy,
        now.timestamp(),
        empty_since={k: float(v) for k, v in (state.empty_since if state else {}).items()},
        unavailable=_unavailable(state, now),
        in_flight=in_flight,
        recent=_recent(session, row.id, now),
        rightsizing=_rightsizing(session, row, policies),
    )
    return {"clusterId": row.id, "problems": [p.to_json() for p in problems]}


def _unavailable(state: AutoscalerStateRow | None, now: dt.datetime) -> frozenset[tuple[str, str]]:
    found = (state.unavailable or {}) if state else {}
    live = [key.split("|", 1) for key, until in found.items() if float(until) > now.timestamp()]
    return frozenset((k[0], k[1]) for k in live if len(k) == 2)


def _recent(session: Session, cluster_id: str, now: dt.datetime) -> tuple[RecentAction, ...]:
    rows: list[ActionRow] = [
        r for r in repo.actions(session, cluster_id, _RECENT_ROWS) if r.created_at >= now - RECENT
    ]
    return tuple(
        RecentAction(
            kind=r.kind,
            status=r.status,
            capacity_type=r.capacity_type or "",
            spot_fallback=(r.labels or {}).get(SPOT_FALLBACK_LABEL) == "true",
            pods=tuple(r.pods or ()),
            message=r.message or "",
        )
        for r in rows
    )


def _rightsizing(session: Session, row: ClusterRow, policies: Policies) -> Rightsizing:
    opted: list[str] = []
    wrong: list[tuple[str, str]] = []
    for body in repo.objects(session, row.id, _ANNOTATED_KINDS):
        meta = body.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        if not isinstance(annotations, dict) or RIGHTSIZING_ANNOTATION not in annotations:
            continue
        kind, name = str(body.get("kind")), str(meta.get("name"))
        where = (
            f"{kind} {name}" if kind == "Namespace" else f"{kind} {meta.get('namespace') or 'default'}/{name}"
        )
        value = annotations[RIGHTSIZING_ANNOTATION]
        if value == "true":
            opted.append(where)
        else:
            wrong.append((where, str(value)))
    since = None
    if opted:
        firsts = [
            ContainerUsage.from_json(r.usage).first_sample_at
            for r in usage_db.usage_rows(session, row.id).values()
        ]
        known = [t for t in firsts if t is not None]
        since = min(known) if known else None
    settings = policies.rightsizing
    return Rightsizing(
        tuple(sorted(opted)), tuple(sorted(wrong)), since, settings.enabled, settings.min_data_hours
    )
