"""`/v1/kubernetes/clusters/{id}/workloads...`: workloads with their requests, rightsizing
recommendations (or why there is none yet) and estimated savings; `apply` queues the change for the
cluster controller (a full key). Services: `services.workloads`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from kubewise.server.context import Ctx
from kubewise.server.services import workloads
from kubewise.server.services.errors import NotFound
from kubewise.server.services.workload_objects import WORKLOAD_KINDS, WorkloadKey

__all__ = ["router"]

router = APIRouter(prefix="/v1/kubernetes/clusters", tags=["workloads"])
_KINDS = {k.lower(): k for k in WORKLOAD_KINDS}


def _key(namespace: str, kind: str, name: str) -> WorkloadKey:
    canonical = _KINDS.get(kind.lower())
    if canonical is None:
        raise NotFound(f"no workload kind {kind!r}: one of {', '.join(WORKLOAD_KINDS)}")
    return namespace, canonical, name


@router.get("/{cluster_id}/workloads")
def list_workloads(cluster_id: str, ctx: Ctx) -> dict[str, Any]:
    """Every workload of the latest snapshot (namespace, kind, name order)."""
    with ctx.tx() as session:
        return workloads.list_workloads(session, ctx.caller, cluster_id, ctx.now)


@router.get("/{cluster_id}/workloads/{namespace}/{kind}/{name}")
def get_workload(cluster_id: str, namespace: str, kind: str, name: str, ctx: Ctx) -> dict[str, Any]:
    """One workload, with its containers' usage percentiles (CPU millicores, memory bytes)."""
    with ctx.tx() as session:
        return workloads.get_workload(session, ctx.caller, cluster_id, _key(namespace, kind, name), ctx.now)


@router.post("/{cluster_id}/workloads/{namespace}/{kind}/{name}/apply", status_code=status.HTTP_202_ACCEPTED)
def apply_workload(cluster_id: str, namespace: str, kind: str, name: str, ctx: Ctx) -> dict[str, Any]:
    """Queue the recommendation for the cluster controller; 409 with the reason when there is none."""
    with ctx.tx() as session:
        return workloads.apply_workload(session, ctx.caller, cluster_id, _key(namespace, kind, name), ctx.now)
