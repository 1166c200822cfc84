"""What agents send: heartbeats, full snapshots and ordered deltas of the cluster's objects.

A snapshot replaces everything the platform holds for the cluster and sets the sequence number;
each delta must carry the next number. A large snapshot comes in pages (0, 1, ..., the final one
marked `last`), each its own transaction, so neither side holds the whole cluster at once: pages are
staged and replace the cluster's objects, inside the database, when the last arrives. Until then
the platform keeps serving the previous snapshot. A page sent twice (a retry) is a no-op; a page
out of order answers `resync`, and page 0 always starts the snapshot afresh. A delta already applied
(an agent's retry) changes nothing; one that skips ahead is refused with `resync` so the agent sends
a fresh snapshot. Each call is one
transaction: a payload with one bad object stores nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kubewise.model import SnapshotLoadError, load_snapshot_from_objects
from kubewise.server.db import repositories as repo
from kubewise.server.db.repositories import ObjectKey
from kubewise.server.db.tables import ClusterRow
from kubewise.server.schemas import Delta, Heartbeat, Snapshot
from kubewise.server.services.clusters import cluster_status
from kubewise.server.services.errors import FieldViolation, Invalid, ResyncRequired
from kubewise.server.services.identity import Caller, cluster_of
from kubewise.server.settings import ServerSettings

__all__ = ["KINDS", "MODELLED_KINDS", "apply_delta", "heartbeat", "store_snapshot"]

MODELLED_KINDS = ("Node", "Pod", "PodDisruptionBudget", "Namespace")  # what planning reads
KINDS = (*MODELLED_KINDS, "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")
_CLUSTER_SCOPED = ("Node", "Namespace")
_MAX_NAME = 253


def heartbeat(
    session: Session,
    caller: Caller,
    cluster_id: str,
    body: Heartbeat,
    now: dt.datetime,
    settings: ServerSettings,
) -> dict[str, Any]:
    caller.require_agent(cluster_id)
    row = cluster_of(session, caller, cluster_id)
    row.last_heartbeat_at = now
    if body.agent_version:
        row.agent_version = body.agent_version
    if body.conditions is not None:
        row.conditions = [c.model_dump() for c in body.conditions]
    return {"status": cluster_status(row, now, settings), "resync": row.resync_needed or row.sequence is None}


def _key(obj: Mapping[str, Any], where: str) -> ObjectKey:
    kind = obj.get("kind")
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    if kind not in KINDS:
        raise Invalid(
            f"{where}: kind {kind!r} is not one the platform stores",
            [FieldViolation(f"{where}.kind", f"must be one of {', '.join(KINDS)}")],
        )
    if not isinstance(name, str) or not name:
        raise Invalid(
            f"{where}: {kind} without metadata.name", [FieldViolation(f"{where}.metadata.name", "required")]
        )
    namespace = "" if kind in _CLUSTER_SCOPED else meta.get("namespace") or "default"  # type: ignore[union-attr]
    if not isinstance(namespace, str):
        raise Invalid(
            f"{where}: metadata.namespace must be a string",
            [FieldViolation(f"{where}.metadata.namespace", "string")],
        )
    for field, value in (("name", name), ("namespace", namespace)):
        if len(value) > _MAX_NAME:  # Kubernetes' own limit; the columns are sized for it
            raise Invalid(
                f"{where}: metadata.{field} is longer than {_MAX_NAME} characters",
                [FieldViolation(f"{where}.metadata.{field}", f"at most {_MAX_NAME} characters")],
            )
    return kind, namespace, name


def _check_modelled(objects: Sequence[Mapping[str, Any]], where: Sequence[str]) -> None:
    """The objects planning reads must parse the way `kubewise savings` parses them. Parsed in one
    batch; only when that fails is each parsed alone, to name the one at fault."""
    modelled = [(obj, at) for obj, at in zip(objects, where, strict=True) if obj["kind"] in MODELLED_KINDS]
    if not modelled:
        return
    try:
        load_snapshot_from_objects(obj for obj, _ in modelled)
        return
    except SnapshotLoadError:
        pass
    for obj, at in modelled:
        try:
            load_snapshot_from_objects([obj])
        except SnapshotLoadError as exc:
            raise Invalid(f"{at}: {exc}", [FieldViolation(at, str(exc))]) from None


def _keyed(items: Sequence[dict[str, Any]]) -> dict[ObjectKey, dict[str, Any]]:
    where = [f"items[{i}]" for i in range(len(items))]
    keyed: dict[ObjectKey, dict[str, Any]] = {}
    for obj, at in zip(items, where, strict=True):
        key = _key(obj, at)
        if key in keyed:
            raise Invalid(
                f"{at}: duplicate {key[0]} {'/'.join(k for k in key[1:] if k)}",
                [FieldViolation(at, "duplicate")],
            )
        keyed[key] = obj
    _check_modelled(items, where)
    return keyed


def store_snapshot(
    session: Session, caller: Caller, cluster_id: str, body: Snapshot, now: dt.datetime
) -> dict[str, Any]:
    caller.require_agent(cluster_id)
    row = cluster_of(session, caller, cluster_id, lock=True)
    if body.page > 0 and row.staging_sequence is None and row.sequence == body.sequence:
        return {"sequence": body.sequence, "page": body.page, "duplicate": True}  # a retried last page
    if body.page > 0 and row.staging_sequence != body.sequence:
        raise ResyncRequired(
            f"snapshot {body.sequence} page {body.page}: no such snapshot under way"
            " -- send it again from page 0"
        )
    if body.page > 0 and body.page < row.staged_pages:
        return {"sequence": body.sequence, "page": body.page, "duplicate": True}
    if body.page > row.staged_pages:
        raise ResyncRequired(
            f"snapshot {body.sequence} page {body.page} does not follow page {row.staged_pages - 1}"
            " -- send it again from page 0"
        )
    keyed = _keyed(body.items)
    row.last_heartbeat_at = now  # a snapshot is a sign of life too
    if body.page == 0 and body.last:  # the whole snapshot in one call
        if row.staging_sequence is not None:
            repo.clear_staged(session, row.id)
        repo.replace_objects(session, row.id, list(keyed.items()))
        return _snapshot_done(row, body.sequence, now, len(keyed))
    if body.page == 0:
        repo.clear_staged(session, row.id)
        row.staging_sequence, row.staged_pages = body.sequence, 0
    try:
        with session.begin_nested():
            repo.stage_objects(session, row.id, list(keyed.items()))
    except IntegrityError:
        raise Invalid(
            f"snapshot {body.sequence} page {body.page}: an object of this page came in an earlier page",
            [FieldViolation("items", "an object appears in two pages")],
        ) from None
    row.staged_pages += 1
    if not body.last:
        return {"sequence": body.sequence, "page": body.page, "staged": len(keyed)}
    repo.commit_staged(session, row.id)
    return _snapshot_done(row, body.sequence, now, repo.count_objects(session, row.id))


def _snapshot_done(row: ClusterRow, sequence: int, now: dt.datetime, objects: int) -> dict[str, Any]:
    row.sequence, row.snapshot_at, row.resync_needed = sequence, now, False
    row.staging_sequence, row.staged_pages = None, 0
    return {"sequence": sequence, "objects": objects}


def apply_delta(
    session: Session, caller: Caller, cluster_id: str, body: Delta, now: dt.datetime
) -> dict[str, Any]:
    caller.require_agent(cluster_id)
    row = cluster_of(session, caller, cluster_id, lock=True)  # one delta of a cluster at a time
    if row.sequence is None or row.resync_needed:
        raise ResyncRequired("no snapshot to apply deltas to: send a full snapshot first")
    if body.sequence <= row.sequence:
        return {"sequence": row.sequence, "applied": False, "duplicate": True}
    if body.sequence != row.sequence + 1:
        raise ResyncRequired(f"delta {body.sequence} does not follow {row.sequence}: send a full snapshot")
    upserts: dict[ObjectKey, dict[str, Any]] = {}
    deletes: dict[ObjectKey, None] = {}
    where = []
    for i, change in enumerate(body.changes):
        at = f"changes[{i}].object"
        key = _key(change.object, at)
        if change.op == "upsert":
            upserts[key] = change.object
            deletes.pop(key, None)
            where.append(at)
        else:
            deletes[key] = None
            upserts.pop(key, None)
    _check_modelled([c.object for c in body.changes if c.op == "upsert"], where)
    repo.delete_objects(session, row.id, list(deletes))
    repo.upsert_objects(session, row.id, list(upserts.items()))
    row.sequence = body.sequence
    row.last_heartbeat_at = now
    return {"sequence": row.sequence, "applied": True, "duplicate": False}
