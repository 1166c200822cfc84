"""Savings and cost of a connected cluster, computed by the optimizer from the latest snapshot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from kubewise.catalog import price_node, with_spot_prices
from kubewise.catalog.loading import CatalogError, load_region
from kubewise.model import Snapshot, SnapshotLoadError, load_snapshot_from_objects
from kubewise.optimizer import Constraints, savings_report
from kubewise.optimizer.report import HOURS_PER_MONTH
from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import AutoscalerStateRow, ClusterRow
from kubewise.server.services.clusters import cluster_region
from kubewise.server.services.errors import Conflict
from kubewise.server.services.identity import Caller, cluster_of
from kubewise.server.services.ingest import MODELLED_KINDS

__all__ = ["cluster_catalog", "cluster_cost", "cluster_savings", "stored_snapshot"]


def stored_snapshot(session: Session, row: ClusterRow) -> Snapshot:
    if row.snapshot_at is None:
        raise Conflict("the agent has not sent a snapshot of this cluster yet")
    try:
        return load_snapshot_from_objects(repo.objects(session, row.id, MODELLED_KINDS))
    except SnapshotLoadError as exc:
        raise Conflict(f"the stored snapshot cannot be read: {exc}") from None


SPOT_PRICES_VALID = dt.timedelta(hours=6)  # the controller reports hourly; older quotes are dropped


def cluster_catalog(session: Session, row: ClusterRow, now: dt.datetime) -> Any:
    """The catalog of the cluster's region, with the spot prices its controller reported (if recent)."""
    cloud, region = cluster_region(row)
    try:
        catalog = load_region(cloud, region)
    except CatalogError as exc:
        raise Conflict(f"no prices for this cluster's location: {exc}") from None
    return with_spot_prices(catalog, _reported_spot_prices(repo.autoscaler_state(session, row.id), now))


def _reported_spot_prices(state: AutoscalerStateRow | None, now: dt.datetime) -> dict[str, float]:
    if state is None or not state.spot_prices or state.spot_prices_at is None:
        return {}
    if now - state.spot_prices_at > SPOT_PRICES_VALID:
        return {}  # the controller stopped reporting: back to the catalog's estimates
    return {name: float(price) for name, price in state.spot_prices.items()}


def cluster_savings(session: Session, caller: Caller, cluster_id: str, now: dt.datetime) -> dict[str, Any]:
    caller.require_user()
    row = cluster_of(session, caller, cluster_id)
    snapshot, catalog = stored_snapshot(session, row), cluster_catalog(session, row, now)
    report = savings_report(snapshot, catalog, Constraints())
    # imported here: rightsizing_savings builds on this module (cluster_catalog)
    from kubewise.server.services.rightsizing_savings import rightsizing_savings

    rightsizing = rightsizing_savings(session, row, now, catalog, report)
    return {"clusterId": row.id, **report.to_dict(), "rightsizing": rightsizing, "warnings": _warnings(row)}


def cluster_cost(session: Session, caller: Caller, cluster_id: str, now: dt.datetime) -> dict[str, Any]:
    """The nodes the cluster runs now and what each costs (no planning: fast)."""
    caller.require_user()
    row = cluster_of(session, caller, cluster_id)
    snapshot, catalog = stored_snapshot(session, row), cluster_catalog(session, row, now)
    nodes: list[dict[str, Any]] = []
    for node in sorted(snapshot.nodes, key=lambda n: n.name):
        price = price_node(node, catalog)
        nodes.append(
            {
                "name": node.name,
                "instanceType": price.instance_type,
                "capacityType": price.capacity_type,
                "zone": node.zone,
                "hourlyPrice": price.hourly_price,
                "reason": price.reason or None,
            }
        )
    hourly = sum(n["hourlyPrice"] or 0.0 for n in nodes)
    return {
        "clusterId": row.id,
        "nodes": nodes,
        "hourlyCost": round(hourly, 6),
        "monthlyCost": round(hourly * HOURS_PER_MONTH, 2),
        "complete": all(n["hourlyPrice"] is not None for n in nodes),
        "warnings": _warnings(row),
    }


def _warnings(row: ClusterRow) -> list[str]:
    """What the agent could not check, said next to the figures it may make wrong."""
    return [str(c.get("message", "")) for c in row.conditions or [] if c.get("status") == "False"]
