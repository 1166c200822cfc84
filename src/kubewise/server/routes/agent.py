"""`/v1/agent/clusters/{id}/...`: heartbeats, snapshots and deltas from the cluster's agent (gzip welcome)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kubewise.server.context import Ctx, read_json
from kubewise.server.schemas import Delta, Heartbeat, Snapshot
from kubewise.server.services import ingest

__all__ = ["router"]

router = APIRouter(prefix="/v1/agent/clusters", tags=["agent"])


def _doc(model: type[Any]) -> dict[str, Any]:
    return {
        "requestBody": {"content": {"application/json": {"schema": model.model_json_schema(by_alias=True)}}}
    }


@router.post("/{cluster_id}/heartbeat", openapi_extra=_doc(Heartbeat))
async def heartbeat(cluster_id: str, ctx: Ctx, request: Request) -> dict[str, Any]:
    """The agent is alive; the answer says the cluster's status and whether to send a full snapshot."""
    body = await read_json(request, Heartbeat)

    def run() -> dict[str, Any]:
        with ctx.tx() as session:
            return ingest.heartbeat(session, ctx.caller, cluster_id, body, ctx.now, ctx.settings)

    return await run_in_threadpool(run)


@router.post("/{cluster_id}/snapshot", openapi_extra=_doc(Snapshot))
async def snapshot(cluster_id: str, ctx: Ctx, request: Request) -> dict[str, Any]:
    """Every object the agent watches; replaces what the platform holds and restarts the delta sequence."""
    body = await read_json(request, Snapshot)

    def run() -> dict[str, Any]:
        with ctx.tx() as session:
            return ingest.store_snapshot(session, ctx.caller, cluster_id, body, ctx.now)

    return await run_in_threadpool(run)


@router.post("/{cluster_id}/deltas", openapi_extra=_doc(Delta))
async def delta(cluster_id: str, ctx: Ctx, request: Request) -> dict[str, Any]:
    """Changes since the last sequence number, applied in one transaction; a retry is a no-op; a gap
    answers 409 with `"resync": true`."""
    body = await read_json(request, Delta)

    def run() -> dict[str, Any]:
        with ctx.tx() as session:
            return ingest.apply_delta(session, ctx.caller, cluster_id, body, ctx.now)

    return await run_in_threadpool(run)
