"""Cost over time: what each cluster's nodes cost, sampled every few minutes by the server's loop.

A sample prices only the cluster's Node objects (no pods: cheap on a 5,000-node cluster) the way
the cost API does, reported spot prices included. Samples older than `KEEP` are dropped as new ones
come; reading them is one indexed range scan.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from kubewise.catalog import price_node
from kubewise.model import SnapshotLoadError, load_snapshot_from_objects
from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import ClusterRow, CostSampleRow
from kubewise.server.services.errors import Conflict
from kubewise.server.services.identity import Caller, cluster_of
from kubewise.server.services.savings import cluster_catalog

__all__ = ["KEEP", "cost_history", "record_cost_samples"]

KEEP = dt.timedelta(days=30)


def _latest(session: Session, cluster_id: str) -> dt.datetime | None:
    query = (
        select(CostSampleRow.at)
        .where(CostSampleRow.cluster_id == cluster_id)
        .order_by(CostSampleRow.at.desc())
    )
    return session.scalars(query.limit(1)).first()


def record_cost_samples(session: Session, now: dt.datetime, every: dt.timedelta) -> int:
    """One sample for each cluster with a snapshot whose last sample is `every` old; returns how many."""
    made = 0
    for row in session.scalars(select(ClusterRow).where(ClusterRow.snapshot_at.is_not(None))).all():
        last = _latest(session, row.id)
        if last is not None and now - last < every:
            continue
        try:
            catalog = cluster_catalog(session, row, now)
            nodes = load_snapshot_from_objects(repo.objects(session, row.id, ["Node"])).nodes
        except (Conflict, SnapshotLoadError):
            continue  # no prices for its region, or nodes the model cannot read: nothing to sample
        hourly = sum(price_node(n, catalog).hourly_price or 0.0 for n in nodes)
        session.add(CostSampleRow(cluster_id=row.id, at=now, hourly_cost=round(hourly, 6), nodes=len(nodes)))
        session.execute(
            delete(CostSampleRow).where(CostSampleRow.cluster_id == row.id, CostSampleRow.at < now - KEEP)
        )
        made += 1
    return made


def cost_history(
    session: Session, caller: Caller, cluster_id: str, now: dt.datetime, hours: int
) -> dict[str, Any]:
    caller.require_user()
    cluster_of(session, caller, cluster_id)
    query = (
        select(CostSampleRow)
        .where(CostSampleRow.cluster_id == cluster_id, CostSampleRow.at >= now - dt.timedelta(hours=hours))
        .order_by(CostSampleRow.at)
    )
    return {
        "clusterId": cluster_id,
        "items": [
            {"at": s.at.isoformat(), "hourlyCost": s.hourly_cost, "nodes": s.nodes}
            for s in session.scalars(query).all()
        ],
    }
