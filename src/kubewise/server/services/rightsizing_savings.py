"""The rightsizing part of a cluster's savings answer: the node plan made again with the recommended
requests against the plan on the current requests, so node savings (a cheaper mix for the same pods)
and rightsizing savings (smaller pods on fewer nodes) are reported apart. Called by
`services.savings.cluster_savings`; planning runs only when some workload has a recommendation.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from kubewise.model import SnapshotLoadError, load_snapshot_from_objects
from kubewise.optimizer import Constraints, SavingsReport, savings_report
from kubewise.rightsizing import ContainerRecommendation
from kubewise.server.db import repositories as repo
from kubewise.server.db.tables import ClusterRow
from kubewise.server.services.ingest import MODELLED_KINDS
from kubewise.server.services.workload_objects import WorkloadKey, pod_workload
from kubewise.server.services.workloads import evaluate

__all__ = ["rightsizing_savings", "with_recommended_requests"]


def _keyed(objects: list[dict[str, Any]], kind: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (str(o["metadata"].get("namespace") or "default"), str(o["metadata"]["name"])): o
        for o in objects
        if o.get("kind") == kind
    }


def with_recommended_requests(
    objects: list[dict[str, Any]], recommended: Mapping[WorkloadKey, Mapping[str, ContainerRecommendation]]
) -> list[dict[str, Any]]:
    """The objects, with the pods of recommended workloads requesting the recommendation (copies;
    the stored bodies are not changed)."""
    replicasets, jobs = _keyed(objects, "ReplicaSet"), _keyed(objects, "Job")
    out = []
    for obj in objects:
        workload = pod_workload(obj, replicasets, jobs) if obj.get("kind") == "Pod" else None
        if workload is None or workload not in recommended:
            out.append(obj)
            continue
        pod = copy.deepcopy(obj)
        for container in pod.get("spec", {}).get("containers") or []:
            rec = recommended[workload].get(container.get("name"))
            if rec is not None:
                resources = container.setdefault("resources", {})
                resources.setdefault("requests", {})
                resources["requests"]["cpu"] = f"{max(1, round(rec.cpu_millicores))}m"
                resources["requests"]["memory"] = str(max(1, round(rec.memory_bytes)))
                resources.pop("limits", None)  # limits do not count for placement
        out.append(pod)
    return out


def rightsizing_savings(
    session: Session, row: ClusterRow, now: dt.datetime, catalog: Any, report: SavingsReport
) -> dict[str, Any]:
    """`{"hourlySavings", "workloads"}`: the cheapest plan now less the cheapest with the recommended
    requests (0 and 0 when no workload has a recommendation)."""
    recommended = {s.key: s.recommended for s in evaluate(session, row, now) if s.recommended}
    if not recommended or not report.plans:
        return {"hourlySavings": 0.0, "workloads": 0}
    objects = repo.objects(session, row.id, (*MODELLED_KINDS, "ReplicaSet", "Job"))
    try:
        snapshot = load_snapshot_from_objects(
            o for o in with_recommended_requests(objects, recommended) if o.get("kind") in MODELLED_KINDS
        )
    except SnapshotLoadError:
        return {"hourlySavings": 0.0, "workloads": len(recommended)}
    rightsized = savings_report(snapshot, catalog, Constraints())
    before = min(p.hourly_cost for p in report.plans)
    after = min(p.hourly_cost for p in rightsized.plans)
    return {"hourlySavings": round(before - after, 6), "workloads": len(recommended)}
