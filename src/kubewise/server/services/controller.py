"""What the cluster controller asks of the platform: its pending actions, and what became of them.

The controller authenticates with its cluster's agent key (or a full key). It takes pending actions
oldest first, carries each out, and reports `done` or `failed` with a message; reporting the same
result twice is a no-op (a controller retrying after a lost answer), changing a finished action is a
conflict. When new nodes meant to replace a node cannot be started, its pending cordon, drain and
delete fail with them: the node keeps its pods. A capacity report (offerings the cloud had none of)
keeps them out of plans for a while, which is how the autoscaler falls back to other types, or to
on-demand, and later back to spot.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import AutoscalerStateRow
from kubewise.server.schemas import ActionResult, CapacityReport, SpotPriceReport
from kubewise.server.services.autoscaling import view
from kubewise.server.services.errors import Conflict, NotFound
from kubewise.server.services.identity import Caller, cluster_of

__all__ = ["pending_actions", "report_capacity", "report_result", "report_spot_prices"]


def pending_actions(session: Session, caller: Caller, cluster_id: str) -> dict[str, Any]:
    caller.require_agent(cluster_id)
    cluster_of(session, caller, cluster_id)
    return {"items": [view(r) for r in repo.pending_actions(session, cluster_id)]}


def report_result(
    session: Session, caller: Caller, cluster_id: str, action_id: str, body: ActionResult, now: dt.datetime
) -> dict[str, Any]:
    caller.require_agent(cluster_id)
    cluster_of(session, caller, cluster_id)
    row = repo.action(session, cluster_id, action_id, lock=True)
    if row is None:
        raise NotFound("action not found")
    if row.status == body.status:
        return view(row) | {"message": row.message}
    if row.status != "pending":
        raise Conflict(f"action {action_id} is already {row.status}")
    row.status, row.message, row.finished_at = body.status, body.message, now
    if row.kind == "add-nodes" and body.status == "failed" and row.replaces:
        # the node stays: its pods have nowhere to go (the next cycle plans again)
        for later in repo.pending_actions(session, cluster_id):
            if later.node == row.replaces:
                later.status, later.finished_at = "failed", now
                later.message = (
                    f"not done: the nodes that were to replace {row.replaces} could not be started"
                )
    return view(row) | {"message": row.message}


def _locked_state(session: Session, caller: Caller, cluster_id: str, now: dt.datetime) -> AutoscalerStateRow:
    """The cluster's autoscaler state, locked (made if the autoscaler has not run yet)."""
    caller.require_agent(cluster_id)
    cluster = cluster_of(session, caller, cluster_id, lock=True)
    state = repo.autoscaler_state(session, cluster.id, lock=True)
    if state is None:
        state = AutoscalerStateRow(cluster_id=cluster.id, last_run_at=now, empty_since={})
        repo.add(session, state)
    return state


def report_spot_prices(
    session: Session, caller: Caller, cluster_id: str, body: SpotPriceReport, now: dt.datetime
) -> dict[str, Any]:
    """The cloud's current spot prices: plans and costs use them for the next hours."""
    state = _locked_state(session, caller, cluster_id, now)
    state.spot_prices, state.spot_prices_at = dict(body.prices), now
    return {"types": len(body.prices), "at": now.isoformat()}


def report_capacity(
    session: Session, caller: Caller, cluster_id: str, body: CapacityReport, now: dt.datetime
) -> dict[str, Any]:
    state = _locked_state(session, caller, cluster_id, now)
    until = now.timestamp() + body.seconds
    known = {k: v for k, v in (state.unavailable or {}).items() if float(v) > now.timestamp()}
    known |= {f"{o.instance_type}|{o.capacity_type}": until for o in body.unavailable}
    state.unavailable = known
    return {"unavailable": sorted(known)}
