"""`/healthz` (the process answers), `/readyz` (the database answers and is migrated), `/metrics`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from kubewise.server.context import Platform

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    platform: Platform = request.app.state.platform
    try:
        with platform.sessions() as session:
            session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    except Exception:
        return JSONResponse(
            {"status": "unavailable", "message": "the database does not answer"}, status_code=503
        )
    return JSONResponse({"status": "ok"})


@router.get("/metrics")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
