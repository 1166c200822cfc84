"""`/v1/controller/clusters/{id}/...`: what the cluster controller calls (the cluster's agent key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kubewise.server.context import Ctx
from kubewise.server.schemas import ActionResult, CapacityReport, SpotPriceReport
from kubewise.server.services import controller

__all__ = ["router"]

router = APIRouter(prefix="/v1/controller/clusters", tags=["controller"])


@router.get("/{cluster_id}/actions")
def pending_actions(cluster_id: str, ctx: Ctx) -> dict[str, Any]:
    """The cluster's pending actions, oldest first."""
    with ctx.tx() as session:
        return controller.pending_actions(session, ctx.caller, cluster_id)


@router.post("/{cluster_id}/actions/{action_id}/result")
def report_result(cluster_id: str, action_id: str, body: ActionResult, ctx: Ctx) -> dict[str, Any]:
    """`done` or `failed` (with a message) for one action; the same result again changes nothing."""
    with ctx.tx() as session:
        return controller.report_result(session, ctx.caller, cluster_id, action_id, body, ctx.now)


@router.post("/{cluster_id}/spot-prices")
def report_spot_prices(cluster_id: str, body: SpotPriceReport, ctx: Ctx) -> dict[str, Any]:
    """The cloud's spot prices now (instance type -> USD/h): plans use them instead of the catalog's."""
    with ctx.tx() as session:
        return controller.report_spot_prices(session, ctx.caller, cluster_id, body, ctx.now)


@router.post("/{cluster_id}/capacity")
def report_capacity(cluster_id: str, body: CapacityReport, ctx: Ctx) -> dict[str, Any]:
    """Offerings the cloud had no capacity for: plans leave them out for `seconds`."""
    with ctx.tx() as session:
        return controller.report_capacity(session, ctx.caller, cluster_id, body, ctx.now)
