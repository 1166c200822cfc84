"""`/v1/kubernetes/external-clusters` and `/v1/kubernetes/clusters/{id}/...`: what users and tools call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from kubewise.server.context import Ctx
from kubewise.server.policies import Policies
from kubewise.server.schemas import ClusterList, ClusterRegistration, ClusterView
from kubewise.server.services import autoscaling, clusters, cost_history, policies, savings

__all__ = ["router"]

router = APIRouter(prefix="/v1/kubernetes", tags=["clusters"])


@router.post(
    "/external-clusters",
    response_model=ClusterView,
    response_model_exclude_unset=True,
    status_code=status.HTTP_201_CREATED,
)
def register_cluster(body: ClusterRegistration, ctx: Ctx, response: Response) -> ClusterView:
    """Register a cluster; the same one again (same provider, account, region, name) returns it."""
    with ctx.tx() as session:
        row, created = clusters.register(session, ctx.caller, body, ctx.now)
        if not created:
            response.status_code = status.HTTP_200_OK
        return clusters.view(row, ctx.now, ctx.settings)


@router.get("/external-clusters", response_model=ClusterList, response_model_exclude_unset=True)
def list_clusters(ctx: Ctx) -> ClusterList:
    with ctx.tx() as session:
        rows = clusters.list_clusters(session, ctx.caller)
        return ClusterList(items=[clusters.view(r, ctx.now, ctx.settings) for r in rows])


@router.get("/external-clusters/{cluster_id}", response_model=ClusterView, response_model_exclude_unset=True)
def get_cluster(cluster_id: str, ctx: Ctx) -> ClusterView:
    with ctx.tx() as session:
        return clusters.view(clusters.get_cluster(session, ctx.caller, cluster_id), ctx.now, ctx.settings)


@router.delete("/external-clusters/{cluster_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_cluster(cluster_id: str, ctx: Ctx) -> Response:
    """Remove the cluster and its data from the platform. Nothing in the cluster is touched."""
    with ctx.tx() as session:
        clusters.delete_cluster(session, ctx.caller, cluster_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/external-clusters/{cluster_id}/reconnect", response_model=ClusterView, response_model_exclude_unset=True
)
def reconnect_cluster(cluster_id: str, ctx: Ctx) -> ClusterView:
    """For a Not responding or Disconnected cluster: wait for its agent again (re-install it if deleted)."""
    with ctx.tx() as session:
        return clusters.view(
            clusters.reconnect(session, ctx.caller, cluster_id, ctx.now, ctx.settings), ctx.now, ctx.settings
        )


@router.post("/external-clusters/{cluster_id}/agent-key", status_code=status.HTTP_201_CREATED)
def agent_key(cluster_id: str, ctx: Ctx) -> dict[str, str]:
    """A new API key that can only send this cluster's data: what its agent runs with. Shown once."""
    with ctx.tx() as session:
        return {
            "clusterId": cluster_id,
            "apiKey": clusters.issue_agent_key(session, ctx.caller, cluster_id, ctx.now),
        }


@router.get("/external-clusters/{cluster_id}/nodes")
def cluster_nodes(cluster_id: str, ctx: Ctx) -> dict[str, Any]:
    with ctx.tx() as session:
        cost = savings.cluster_cost(session, ctx.caller, cluster_id, ctx.now)
    return {"items": cost["nodes"]}


@router.get("/clusters/{cluster_id}/cost")
def cluster_cost(cluster_id: str, ctx: Ctx) -> dict[str, Any]:
    with ctx.tx() as session:
        return savings.cluster_cost(session, ctx.caller, cluster_id, ctx.now)


@router.get("/clusters/{cluster_id}/cost-history")
def cluster_cost_history(
    cluster_id: str, ctx: Ctx, hours: int = Query(168, ge=1, le=24 * 30)
) -> dict[str, Any]:
    """What the cluster's nodes cost over the last `hours`, sampled every 5 minutes, oldest first."""
    with ctx.tx() as session:
        return cost_history.cost_history(session, ctx.caller, cluster_id, ctx.now, hours)


@router.get("/clusters/{cluster_id}/savings")
def cluster_savings(cluster_id: str, ctx: Ctx) -> dict[str, Any]:
    """The savings report (the `kubewise savings --output json` contract) on the latest snapshot."""
    with ctx.tx() as session:
        return savings.cluster_savings(session, ctx.caller, cluster_id, ctx.now)


@router.get("/clusters/{cluster_id}/policies", response_model=Policies, response_model_by_alias=True)
def get_policies(cluster_id: str, ctx: Ctx) -> Policies:
    with ctx.tx() as session:
        return policies.get_policies(session, ctx.caller, cluster_id)


@router.put("/clusters/{cluster_id}/policies", response_model=Policies, response_model_by_alias=True)
def put_policies(cluster_id: str, body: Policies, ctx: Ctx) -> Policies:
    with ctx.tx() as session:
        return policies.put_policies(session, ctx.caller, cluster_id, body, ctx.now)


@router.get("/clusters/{cluster_id}/actions")
def list_actions(
    cluster_id: str, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    """The autoscaler's actions for the cluster, newest first, each with its reason (the audit trail)."""
    with ctx.tx() as session:
        return autoscaling.list_actions(session, ctx.caller, cluster_id, limit)


@router.post("/clusters/{cluster_id}/autoscaler/run")
def run_autoscaler(cluster_id: str, ctx: Ctx) -> dict[str, Any]:
    """One autoscaler cycle now: the new actions (stored), pods it will not add nodes for and why."""
    with ctx.tx() as session:
        return autoscaling.run_cycle(session, ctx.caller, cluster_id, ctx.now)
