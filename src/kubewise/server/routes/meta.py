"""What the platform says about itself and about a caller's set-up -- the calls `kubewise doctor` and
key probes make: `GET /v1/version` (no key), `GET /v1/auth/whoami` (any valid key), a cluster's
policy diagnosis, and `record_controller`, the dependency `app.create_app` puts on the controller's
routes to note its version (`X-Kubewise-Version`) and when it last called.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from kubewise import __version__
from kubewise.server.context import Ctx
from kubewise.server.keys import split_key
from kubewise.server.services import clusters, diagnosis

__all__ = ["VERSION_HEADER", "record_controller", "router"]

VERSION_HEADER = "X-Kubewise-Version"

router = APIRouter(tags=["meta"])


@router.get("/v1/version")
def version() -> dict[str, str]:
    """The platform's version (no API key needed): what agents and controllers are compared with."""
    return {"version": __version__}


@router.get("/v1/auth/whoami")
def whoami(ctx: Ctx, request: Request) -> dict[str, Any]:
    """The presented key's organization, scope, cluster (agent keys only) and public id; 401 when the
    key is invalid or revoked. Never echoes the secret."""
    parts = split_key(request.headers.get("x-api-key", ""))
    return {
        "organizationId": ctx.caller.org_id,
        "scope": ctx.caller.scope,
        "clusterId": ctx.caller.cluster_id,
        "keyId": parts[0] if parts else None,  # authenticated, so it is well formed
    }


@router.get("/v1/kubernetes/clusters/{cluster_id}/diagnosis")
def cluster_diagnosis(cluster_id: str, ctx: Ctx) -> dict[str, Any]:
    """Why the autoscaler may not do what is expected: each problem with its check id, cause and fix."""
    with ctx.tx() as session:
        return diagnosis.cluster_diagnosis(session, ctx.caller, cluster_id, ctx.now)


def record_controller(
    cluster_id: str,
    ctx: Ctx,
    x_kubewise_version: Annotated[
        str | None, Header(alias=VERSION_HEADER, max_length=100, description="the controller's version")
    ] = None,
) -> None:
    """A controller call: its version and the time, recorded for the cluster view (throttled)."""
    with ctx.tx() as session:
        clusters.record_controller(session, ctx.caller, cluster_id, x_kubewise_version, ctx.now)
