"""The server loop's rightsizing step for one cluster: usage rows of workloads gone for a while are
removed, and opted-in workloads in mode "apply" get a `rightsize-workload` action when their requests
are more than `APPLY_THRESHOLD` off the recommendation (hysteresis), at most once per `REAPPLY_AFTER`
(and never while one is pending). Apply mode needs `rightsizing.enabled` and `rightsizing.applyEnabled`
in the cluster's policies. Called by `autoscaler_loop.AutoscalerLoop.rightsize`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from kubewise.server.db import repositories as repo
from kubewise.server.db import workload_usage as db
from kubewise.server.db.tables import ClusterRow
from kubewise.server.policies import Policies
from kubewise.server.services.usage import prune_usage
from kubewise.server.services.workload_objects import WORKLOAD_KINDS, workload_keys
from kubewise.server.services.workloads import (
    APPLY_THRESHOLD,
    REAPPLY_AFTER,
    WorkloadState,
    evaluate,
    new_action,
)

__all__ = ["differs", "rightsize_cluster"]


def _off(current: float | None, wanted: float) -> bool:
    if not current:
        return wanted > 0
    return abs(wanted - current) / current > APPLY_THRESHOLD


def differs(state: WorkloadState) -> bool:
    """Whether some container's CPU or memory request is more than `APPLY_THRESHOLD` off."""
    for name, rec in state.recommended.items():
        current = state.current.get(name, {})
        if _off(current.get("cpu"), rec.cpu_millicores) or _off(current.get("memory"), rec.memory_bytes):
            return True
    return False


def rightsize_cluster(session: Session, row: ClusterRow, now: dt.datetime) -> dict[str, Any]:
    """One rightsizing step on `row` (locked by the caller): prune, then the apply-mode actions."""
    pruned = prune_usage(session, row.id, workload_keys(repo.objects(session, row.id, WORKLOAD_KINDS)), now)
    stored = repo.policy(session, row.id)
    policy = (Policies.model_validate(stored.body) if stored else Policies()).rightsizing
    if not (policy.enabled and policy.apply_enabled):
        return {"clusterId": row.id, "pruned": pruned, "actions": []}
    recent = {
        (d.get("namespace"), d.get("kind"), d.get("name"))
        for d in (a.details or {} for a in db.rightsize_actions_since(session, row.id, now - REAPPLY_AFTER))
    }
    created = []
    for state in evaluate(session, row, now):
        if state.opt.mode != "apply" or state.key in recent or not differs(state):
            continue
        action = new_action(row.id, state, now, "mode apply")
        repo.add(session, action)
        created.append(action.id)
    return {"clusterId": row.id, "pruned": pruned, "actions": created}
