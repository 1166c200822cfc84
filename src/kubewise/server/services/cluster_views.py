"""Cluster views: each cluster's savings report and per-node figures, planned in the background.

The console's pages read the stored view (one row of JSON), so they are as fast on a 5,000-node
cluster as on a small one; the server's loop plans a view again once the cluster changed and the
last one is `REPLAN_AFTER` old. A small cluster nobody planned yet is planned when its page is first
opened (at most `PLAN_INLINE_OBJECTS` objects: a second or two); a bigger one says it is being
planned, unless the loop is off (then its page waits once).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kubewise.model import CPU, MEMORY, Snapshot
from kubewise.optimizer import Constraints, savings_report
from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import ClusterRow, ClusterViewRow
from kubewise.server.services.errors import Conflict
from kubewise.server.services.savings import cluster_catalog, stored_snapshot

__all__ = [
    "PLAN_INLINE_OBJECTS",
    "REPLAN_AFTER",
    "BeingPlanned",
    "cluster_view",
    "refresh_views",
    "stored_view",
]

REPLAN_AFTER = dt.timedelta(minutes=5)  # a live cluster changes every few seconds: views last a while
MAX_PENDING = 200  # pending pods listed (with why)
PLAN_INLINE_OBJECTS = 5000


class BeingPlanned(Conflict):
    """A big cluster's first view is the background loop's job: the page says so."""


def _node_figures(snapshot: Snapshot, report: dict[str, Any]) -> list[dict[str, Any]]:
    requested: dict[str, list[int]] = {}
    for pod in snapshot.active_pods:
        if pod.node_name:
            got = requested.setdefault(pod.node_name, [0, 0])
            got[0] += pod.requests.get(CPU, 0)
            got[1] += pod.requests.get(MEMORY, 0)
    alloc = {n.name: n.allocatable for n in snapshot.nodes}
    out = []
    for node in sorted(report["current"]["nodes"], key=lambda n: n["name"]):
        cpu, mem = requested.get(node["name"], [0, 0])
        have = alloc.get(node["name"])
        out.append(
            node
            | {
                "cpu_requested": cpu / 1000,
                "cpu_allocatable": have.get(CPU, 0) / 1000 if have else 0.0,
                "memory_requested": mem / 2**30,
                "memory_allocatable": have.get(MEMORY, 0) / 2**30 if have else 0.0,
            }
        )
    return out


def _plan(session: Session, row: ClusterRow, now: dt.datetime) -> dict[str, Any]:
    snapshot = stored_snapshot(session, row)
    report = savings_report(snapshot, cluster_catalog(session, row, now), Constraints()).to_dict()
    why = {u["pod"]: u["reason"] for p in report.get("plans", [])[:1] for u in p.get("unschedulable", [])}
    pending = [
        {"pod": p.key, "reason": why.get(p.key, "waiting for the scheduler or for a new node")}
        for p in snapshot.active_pods
        if not p.node_name and not p.is_daemonset
    ]
    return {"report": report, "nodes": _node_figures(snapshot, report), "pending": pending[:MAX_PENDING],
            "pending_count": len(pending)}  # fmt: skip


def stored_view(session: Session, row: ClusterRow) -> ClusterViewRow | None:
    return session.get(ClusterViewRow, row.id)


def cluster_view(session: Session, row: ClusterRow, now: dt.datetime, *, loop_on: bool) -> ClusterViewRow:
    """The stored view, planned now if there is none and the cluster is small (or no loop would);
    `Conflict` when there is no snapshot, `BeingPlanned` when the loop will plan it."""
    found = stored_view(session, row)
    if found is not None:
        return found
    if row.snapshot_at is None:
        raise Conflict("the agent has not sent a snapshot of this cluster yet")
    if loop_on and repo.count_objects(session, row.id) > PLAN_INLINE_OBJECTS:
        raise BeingPlanned("this cluster's savings are being planned in the background: reload in a minute")
    view = ClusterViewRow(
        cluster_id=row.id, planned_at=now, version=row.sequence, body=_plan(session, row, now)
    )
    session.add(view)
    return view


def refresh_views(session: Session, now: dt.datetime) -> int:
    """Plan again every cluster whose view is missing, or older than `REPLAN_AFTER` with a changed
    snapshot; returns how many were planned."""
    made = 0
    for row in session.scalars(select(ClusterRow).where(ClusterRow.snapshot_at.is_not(None))).all():
        found = stored_view(session, row)
        if found is not None and (found.version == row.sequence or now - found.planned_at < REPLAN_AFTER):
            continue
        try:
            body = _plan(session, row, now)
        except Conflict:
            continue  # no prices for its region, or a snapshot the model cannot read: said on its page
        if found is None:
            session.add(ClusterViewRow(cluster_id=row.id, planned_at=now, version=row.sequence, body=body))
        else:
            found.planned_at, found.version, found.body = now, row.sequence, body
        made += 1
    return made
