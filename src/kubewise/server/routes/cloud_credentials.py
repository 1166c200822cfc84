"""`/v1/kubernetes/clusters/{id}/cloud-credentials`: the cloud credentials `kubewise onboard` stores.

PUT needs a 'full' key; GET shows the type, the access key id or role ARN and when they changed, never
the secret; DELETE removes them (what `kubewise offboard` calls).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from kubewise.server.context import Ctx
from kubewise.server.services import cloud_credentials as service
from kubewise.server.services.cloud_credentials import CredentialsBody, CredentialsView

__all__ = ["router"]

router = APIRouter(prefix="/v1/kubernetes", tags=["cloud credentials"])
_PATH = "/clusters/{cluster_id}/cloud-credentials"


@router.put(
    _PATH, response_model=CredentialsView, response_model_by_alias=True, response_model_exclude_none=True
)
def put_credentials(cluster_id: str, body: CredentialsBody, ctx: Ctx) -> CredentialsView:
    """Store the cluster's cloud credentials (an access key, or a role with its external id)."""
    with ctx.tx() as session:
        return service.put_credentials(session, ctx.caller, cluster_id, body, ctx.now, ctx.settings)


@router.get(
    _PATH, response_model=CredentialsView, response_model_by_alias=True, response_model_exclude_none=True
)
def get_credentials(cluster_id: str, ctx: Ctx) -> CredentialsView:
    with ctx.tx() as session:
        return service.get_credentials(session, ctx.caller, cluster_id)


@router.delete(_PATH, status_code=status.HTTP_204_NO_CONTENT)
def delete_credentials(cluster_id: str, ctx: Ctx) -> Response:
    with ctx.tx() as session:
        service.delete_credentials(session, ctx.caller, cluster_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
