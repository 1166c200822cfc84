"""What the agent's metrics collector sends (`POST /v1/agent/clusters/{id}/usage`), folded into
per-workload-container usage (`rightsizing.ContainerUsage`: decaying histograms of bounded size).

Each pod is mapped to its workload from the objects the platform holds (its controller, through the
stored ReplicaSet to a Deployment and through the stored Job to a CronJob); bare pods, static pods and
pods the platform has not heard of yet are skipped. OOM kills are read from the stored pods' container
statuses (`lastState.terminated.reason == "OOMKilled"`, which snapshots and deltas carry) and recorded
once per kill (its `finishedAt`). Rows of workloads gone from the cluster for `GONE_AFTER` are removed
(`prune_usage`, from the server's loop). One call is one transaction, the cluster's row locked so two
reports of one cluster are folded one after the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from kubewise.rightsizing import ContainerUsage
from kubewise.server.db import workload_usage as db
from kubewise.server.db.tables import WorkloadUsageRow
from kubewise.server.schemas import UsageReport
from kubewise.server.services.errors import FieldViolation, Invalid
from kubewise.server.services.identity import Caller, cluster_of
from kubewise.server.services.workload_objects import (
    WorkloadKey,
    container_resources,
    controller_ref,
    mapping,
    pod_workload,
)

__all__ = ["GONE_AFTER", "ingest_usage", "prune_usage"]

GONE_AFTER = dt.timedelta(days=8)  # a workload deleted and re-created within a week keeps its history
_FUTURE = dt.timedelta(minutes=10)  # clock skew tolerated between agent and platform
_SEEN_EVERY = dt.timedelta(hours=1)  # seen_at is kept to the hour: no write per row per loop
_OOM_MARKS = 32  # kills remembered per container (to record each once); older ones cannot recur


def ingest_usage(
    session: Session, caller: Caller, cluster_id: str, body: UsageReport, now: dt.datetime
) -> dict[str, Any]:
    caller.require_agent(cluster_id)
    cluster = cluster_of(session, caller, cluster_id, lock=True)
    if body.at > now + _FUTURE:
        raise Invalid(
            f"at: {body.at.isoformat()} is in the future (the platform's time is {now.isoformat()})",
            [FieldViolation("at", "in the future: check the agent's clock")],
        )
    pods = db.named_objects(session, cluster.id, "Pod", ((p.namespace, p.name) for p in body.pods))
    replicasets, jobs = _owners(session, cluster.id, pods.values())
    rows = db.usage_rows(session, cluster.id, lock=True)
    touched: dict[db.UsageKey, ContainerUsage] = {}  # parsed once per call, written back once
    at, accepted, skipped = body.at.timestamp(), 0, 0
    for sample in body.pods:
        pod = pods.get((sample.namespace, sample.name))
        workload = pod_workload(pod, replicasets, jobs) if pod is not None else None
        if pod is None or workload is None:
            skipped += len(sample.containers)
            continue
        for container, (cpu_millicores, memory_bytes) in sample.containers.items():
            row, usage = _usage(session, rows, touched, cluster.id, (*workload, container), now)
            try:
                usage.add_sample(cpu_millicores / 1000.0, memory_bytes, at)
            except ValueError:  # older than the running peak interval (a late retry): its peak is final
                skipped += 1
                continue
            _record_ooms(row, usage, pod, container)
            accepted += 1
    for key, usage in touched.items():
        rows[key].usage, rows[key].updated_at, rows[key].seen_at = usage.to_json(), now, now
    return {"accepted": accepted, "skipped": skipped}


def _owners(
    session: Session, cluster_id: str, pods: Iterable[Mapping[str, Any]]
) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], dict[str, Any]]]:
    """The stored ReplicaSets and Jobs that own these pods."""
    wanted: dict[str, set[tuple[str, str]]] = {"ReplicaSet": set(), "Job": set()}
    for pod in pods:
        ref = controller_ref(pod)
        if ref is not None and ref[0] in wanted:
            wanted[ref[0]].add((str(mapping(pod, "metadata").get("namespace") or "default"), ref[1]))
    return (
        db.named_objects(session, cluster_id, "ReplicaSet", wanted["ReplicaSet"]),
        db.named_objects(session, cluster_id, "Job", wanted["Job"]),
    )


def _usage(
    session: Session,
    rows: dict[db.UsageKey, WorkloadUsageRow],
    touched: dict[db.UsageKey, ContainerUsage],
    cluster_id: str,
    key: db.UsageKey,
    now: dt.datetime,
) -> tuple[WorkloadUsageRow, ContainerUsage]:
    row = rows.get(key)
    if row is None:
        namespace, kind, name, container = key
        row = WorkloadUsageRow(
            cluster_id=cluster_id, namespace=namespace, kind=kind, name=name, container=container,
            usage=ContainerUsage.empty().to_json(), oom_marks=[], updated_at=now, seen_at=now,
        )  # fmt: skip
        session.add(row)
        rows[key] = row
    if key not in touched:
        touched[key] = ContainerUsage.from_json(row.usage)
    return row, touched[key]


def _record_ooms(
    row: WorkloadUsageRow, usage: ContainerUsage, pod: Mapping[str, Any], container: str
) -> None:
    """An OOM kill of this container the pod's status shows, recorded once (by its finishedAt)."""
    statuses = mapping(pod, "status").get("containerStatuses")
    for item in statuses if isinstance(statuses, list) else []:
        if not isinstance(item, Mapping) or item.get("name") != container:
            continue
        terminated = mapping(mapping(item, "lastState"), "terminated")
        finished = terminated.get("finishedAt")
        if terminated.get("reason") != "OOMKilled" or not isinstance(finished, str):
            continue
        meta = mapping(pod, "metadata")
        mark = f"{meta.get('namespace')}/{meta.get('name')}@{finished}"
        if mark in row.oom_marks:
            continue
        try:
            at = dt.datetime.fromisoformat(finished.replace("Z", "+00:00")).timestamp()
        except ValueError:
            continue
        usage.add_oom(at, _oom_memory(pod, container, usage))
        row.oom_marks = [*row.oom_marks, mark][-_OOM_MARKS:]


def _oom_memory(pod: Mapping[str, Any], container: str, usage: ContainerUsage) -> float:
    """The memory the container was killed at: its limit, else its request, else the largest seen."""
    resources = container_resources(mapping(pod, "spec")).get(container, {})
    for value in (resources.get("memoryLimit"), resources.get("memory")):
        if value is not None:
            return value
    return usage.memory.max_value_seen()


def prune_usage(session: Session, cluster_id: str, existing: Iterable[WorkloadKey], now: dt.datetime) -> int:
    """Rows of workloads still in the cluster are marked seen; those gone for `GONE_AFTER` deleted."""
    alive = set(existing)
    gone = []
    for key, row in db.usage_rows(session, cluster_id).items():
        if key[:3] in alive:
            if now - row.seen_at > _SEEN_EVERY:
                row.seen_at = now
        elif now - row.seen_at > GONE_AFTER:
            gone.append(key)
    db.delete_usage(session, cluster_id, gone)
    return len(gone)
