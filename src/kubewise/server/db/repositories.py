"""All the SQL the server runs, one small function per question or change. Services call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from kubewise.server.db.tables import (
    ActionRow,
    ApiKeyRow,
    AutoscalerStateRow,
    ClusterObjectRow,
    ClusterRow,
    OrganizationRow,
    PolicyRow,
    StagedObjectRow,
)

__all__ = [
    "ObjectKey",
    "action",
    "actions",
    "add",
    "automated_clusters",
    "autoscaler_state",
    "clear_staged",
    "cluster",
    "cluster_by_identity",
    "cluster_for_cycle",
    "clusters",
    "commit_staged",
    "count_objects",
    "delete_objects",
    "key_by_key_id",
    "objects",
    "org_by_name",
    "pending_actions",
    "policy",
    "recent_add_nodes",
    "replace_objects",
    "stage_objects",
    "touch_key",
    "upsert_objects",
]

ObjectKey = tuple[str, str, str]  # kind, namespace, name
_BATCH = 500  # rows per INSERT, names per DELETE ... WHERE name IN (...)


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()  # constraint violations surface here, inside the caller's transaction


def org_by_name(session: Session, name: str) -> OrganizationRow | None:
    return session.scalars(select(OrganizationRow).where(OrganizationRow.name == name)).first()


def key_by_key_id(session: Session, key_id: str) -> ApiKeyRow | None:
    return session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_id == key_id)).first()


def touch_key(session: Session, row_id: str, now: dt.datetime) -> None:
    session.execute(update(ApiKeyRow).where(ApiKeyRow.id == row_id).values(last_used_at=now))


def cluster(session: Session, org_id: str, cluster_id: str, *, lock: bool = False) -> ClusterRow | None:
    """The organization's cluster, or None (also when it belongs to another organization)."""
    query = select(ClusterRow).where(ClusterRow.id == cluster_id, ClusterRow.org_id == org_id)
    if lock:
        query = query.with_for_update()  # deltas of one cluster are applied one at a time
    return session.scalars(query).first()


def cluster_by_identity(session: Session, org_id: str, identity: str) -> ClusterRow | None:
    query = select(ClusterRow).where(ClusterRow.org_id == org_id, ClusterRow.identity == identity)
    return session.scalars(query).first()


def clusters(session: Session, org_id: str) -> Sequence[ClusterRow]:
    query = (
        select(ClusterRow).where(ClusterRow.org_id == org_id).order_by(ClusterRow.created_at, ClusterRow.id)
    )
    return session.scalars(query).all()


def objects(session: Session, cluster_id: str, kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    query = select(ClusterObjectRow.body).where(ClusterObjectRow.cluster_id == cluster_id)
    if kinds is not None:
        query = query.where(ClusterObjectRow.kind.in_(list(kinds)))
    query = query.order_by(ClusterObjectRow.kind, ClusterObjectRow.namespace, ClusterObjectRow.name)
    return list(session.scalars(query).all())


def replace_objects(
    session: Session, cluster_id: str, items: Sequence[tuple[ObjectKey, dict[str, Any]]]
) -> None:
    session.execute(delete(ClusterObjectRow).where(ClusterObjectRow.cluster_id == cluster_id))
    _insert(session, cluster_id, items)


def upsert_objects(
    session: Session, cluster_id: str, items: Sequence[tuple[ObjectKey, dict[str, Any]]]
) -> None:
    delete_objects(session, cluster_id, [key for key, _ in items])
    _insert(session, cluster_id, items)


def delete_objects(session: Session, cluster_id: str, keys: Sequence[ObjectKey]) -> None:
    # grouped by kind and namespace, so each DELETE walks the primary key's prefix (a row-value IN
    # list is not always planned that way, and the table holds every object of every cluster)
    groups: dict[tuple[str, str], list[str]] = {}
    for kind, namespace, name in keys:
        groups.setdefault((kind, namespace), []).append(name)
    for (kind, namespace), names in groups.items():
        for start in range(0, len(names), _BATCH):
            session.execute(
                delete(ClusterObjectRow).where(
                    ClusterObjectRow.cluster_id == cluster_id,
                    ClusterObjectRow.kind == kind,
                    ClusterObjectRow.namespace == namespace,
                    ClusterObjectRow.name.in_(names[start : start + _BATCH]),
                )
            )


def _insert(
    session: Session,
    cluster_id: str,
    items: Sequence[tuple[ObjectKey, dict[str, Any]]],
    table: type[ClusterObjectRow] | type[StagedObjectRow] = ClusterObjectRow,
) -> None:
    for start in range(0, len(items), _BATCH):  # in batches: the encoded bodies never all exist at once
        rows = [
            {"cluster_id": cluster_id, "kind": k, "namespace": ns, "name": n, "body": body}
            for (k, ns, n), body in items[start : start + _BATCH]
        ]
        session.execute(insert(table), rows)


def stage_objects(
    session: Session, cluster_id: str, items: Sequence[tuple[ObjectKey, dict[str, Any]]]
) -> None:
    """One page of a paged snapshot; an object already staged raises IntegrityError."""
    _insert(session, cluster_id, items, StagedObjectRow)


def clear_staged(session: Session, cluster_id: str) -> None:
    session.execute(delete(StagedObjectRow).where(StagedObjectRow.cluster_id == cluster_id))


def commit_staged(session: Session, cluster_id: str) -> None:
    """The staged pages become the cluster's objects, copied inside the database (never in memory)."""
    session.execute(delete(ClusterObjectRow).where(ClusterObjectRow.cluster_id == cluster_id))
    columns = ("cluster_id", "kind", "namespace", "name", "body")
    staged = select(*(getattr(StagedObjectRow, c) for c in columns)).where(
        StagedObjectRow.cluster_id == cluster_id
    )
    session.execute(insert(ClusterObjectRow).from_select(list(columns), staged))
    clear_staged(session, cluster_id)


def count_objects(session: Session, cluster_id: str) -> int:
    query = (
        select(func.count()).select_from(ClusterObjectRow).where(ClusterObjectRow.cluster_id == cluster_id)
    )
    return int(session.scalar(query) or 0)


def policy(session: Session, cluster_id: str) -> PolicyRow | None:
    return session.get(PolicyRow, cluster_id)


def actions(session: Session, cluster_id: str, limit: int) -> Sequence[ActionRow]:
    query = (
        select(ActionRow)
        .where(ActionRow.cluster_id == cluster_id)
        .order_by(ActionRow.created_at.desc(), ActionRow.position.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def pending_actions(session: Session, cluster_id: str) -> Sequence[ActionRow]:
    """Oldest first: the order the controller carries them out in."""
    query = (
        select(ActionRow)
        .where(ActionRow.cluster_id == cluster_id, ActionRow.status == "pending")
        .order_by(ActionRow.created_at, ActionRow.position)
    )
    return session.scalars(query).all()


def recent_add_nodes(session: Session, cluster_id: str, since: dt.datetime) -> Sequence[ActionRow]:
    """add-nodes actions still pending, or done since `since` (their nodes may still be starting)."""
    query = select(ActionRow).where(
        ActionRow.cluster_id == cluster_id,
        ActionRow.kind == "add-nodes",
        (ActionRow.status == "pending") | ((ActionRow.status == "done") & (ActionRow.finished_at >= since)),
    )
    return session.scalars(query).all()


def action(session: Session, cluster_id: str, action_id: str, *, lock: bool = False) -> ActionRow | None:
    query = select(ActionRow).where(ActionRow.cluster_id == cluster_id, ActionRow.id == action_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def autoscaler_state(session: Session, cluster_id: str, *, lock: bool = False) -> AutoscalerStateRow | None:
    query = select(AutoscalerStateRow).where(AutoscalerStateRow.cluster_id == cluster_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def automated_clusters(session: Session) -> list[str]:
    """Clusters whose stored policies enable automation (the JSON is read here: portable over backends)."""
    rows = session.execute(select(PolicyRow.cluster_id, PolicyRow.body)).all()
    return sorted(cluster_id for cluster_id, body in rows if isinstance(body, dict) and body.get("enabled"))


def cluster_for_cycle(session: Session, cluster_id: str) -> ClusterRow | None:
    """The cluster, locked for one autoscaler cycle; None when another replica holds it (PostgreSQL)."""
    query = select(ClusterRow).where(ClusterRow.id == cluster_id).with_for_update(skip_locked=True)
    return session.scalars(query).first()
