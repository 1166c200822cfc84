"""The SQL of workload rightsizing: usage rows per workload container, the stored objects that map a
pod to its workload, and recent rightsize actions. Called by `services.usage` and `services.workloads`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kubewise.server.db.tables import ActionRow, ClusterObjectRow, PolicyRow, WorkloadUsageRow

__all__ = [
    "RIGHTSIZE_KIND",
    "UsageKey",
    "delete_usage",
    "named_objects",
    "rightsize_actions_since",
    "rightsizing_clusters",
    "usage_rows",
]

RIGHTSIZE_KIND = "rightsize-workload"
UsageKey = tuple[str, str, str, str]  # namespace, kind, name, container
_BATCH = 500


def usage_rows(
    session: Session, cluster_id: str, workload: tuple[str, str, str] | None = None, *, lock: bool = False
) -> dict[UsageKey, WorkloadUsageRow]:
    """The cluster's usage rows (or one workload's), keyed by namespace, kind, name, container."""
    query = select(WorkloadUsageRow).where(WorkloadUsageRow.cluster_id == cluster_id)
    if workload is not None:
        namespace, kind, name = workload
        query = query.where(
            WorkloadUsageRow.namespace == namespace,
            WorkloadUsageRow.kind == kind,
            WorkloadUsageRow.name == name,
        )
    if lock:
        query = query.with_for_update()
    return {(r.namespace, r.kind, r.name, r.container): r for r in session.scalars(query).all()}


def delete_usage(session: Session, cluster_id: str, keys: Iterable[UsageKey]) -> None:
    for namespace, kind, name, container in keys:
        session.execute(
            delete(WorkloadUsageRow).where(
                WorkloadUsageRow.cluster_id == cluster_id,
                WorkloadUsageRow.namespace == namespace,
                WorkloadUsageRow.kind == kind,
                WorkloadUsageRow.name == name,
                WorkloadUsageRow.container == container,
            )
        )


def named_objects(
    session: Session, cluster_id: str, kind: str, names: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored objects of `kind` with these (namespace, name)s, by (namespace, name); the query
    walks the primary key's prefix (kind, namespace) so it stays cheap on big clusters."""
    groups: dict[str, list[str]] = {}
    for namespace, name in set(names):
        groups.setdefault(namespace, []).append(name)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for namespace, wanted in groups.items():
        for start in range(0, len(wanted), _BATCH):
            query = select(ClusterObjectRow.name, ClusterObjectRow.body).where(
                ClusterObjectRow.cluster_id == cluster_id,
                ClusterObjectRow.kind == kind,
                ClusterObjectRow.namespace == namespace,
                ClusterObjectRow.name.in_(sorted(wanted)[start : start + _BATCH]),
            )
            for name, body in session.execute(query).all():
                found[(namespace, name)] = body
    return found


def rightsizing_clusters(session: Session) -> list[str]:
    """Clusters with usage stored, or whose policies enable rightsizing (the JSON read here: portable)."""
    found = set(session.scalars(select(WorkloadUsageRow.cluster_id).distinct()).all())
    for cluster_id, body in session.execute(select(PolicyRow.cluster_id, PolicyRow.body)).all():
        section = body.get("rightsizing") if isinstance(body, dict) else None
        if isinstance(section, dict) and section.get("enabled"):
            found.add(cluster_id)
    return sorted(found)


def rightsize_actions_since(session: Session, cluster_id: str, since: dt.datetime) -> Sequence[ActionRow]:
    """rightsize-workload actions created since `since`, or still pending (whatever their age)."""
    query = select(ActionRow).where(
        ActionRow.cluster_id == cluster_id,
        ActionRow.kind == RIGHTSIZE_KIND,
        (ActionRow.created_at >= since) | (ActionRow.status == "pending"),
    )
    return session.scalars(query).all()
