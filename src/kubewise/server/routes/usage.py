"""`POST /v1/agent/clusters/{id}/usage`: container usage from the agent's metrics collector (gzip
welcome, size-limited like the other agent calls), folded into per-workload histograms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from kubewise.server.context import Ctx, read_json
from kubewise.server.schemas import UsageReport
from kubewise.server.services import usage

__all__ = ["router"]

router = APIRouter(prefix="/v1/agent/clusters", tags=["agent"])
_DOC = {
    "requestBody": {"content": {"application/json": {"schema": UsageReport.model_json_schema(by_alias=True)}}}
}


@router.post("/{cluster_id}/usage", openapi_extra=_DOC)
async def report_usage(cluster_id: str, ctx: Ctx, request: Request) -> dict[str, Any]:
    """CPU (millicores) and memory (bytes) per container of each pod at one time; pods whose workload
    the platform cannot tell (bare pods, pods not in its snapshot yet) are skipped and counted."""
    body = await read_json(request, UsageReport)

    def run() -> dict[str, Any]:
        with ctx.tx() as session:
            return usage.ingest_usage(session, ctx.caller, cluster_id, body, ctx.now)

    return await run_in_threadpool(run)
