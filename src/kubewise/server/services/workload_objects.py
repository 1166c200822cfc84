"""Workloads in the raw objects the agent sends: which workload a pod belongs to (through its
ReplicaSet to a Deployment, through its Job to a CronJob), a workload's pod template and replicas, and
whether it opted in to rightsizing (its annotation, else its namespace's). Plain functions over the
stored JSON; `services.usage` and `services.workloads` call them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubewise.model.resources import CPU, MEMORY, parse_resource_quantity

__all__ = [
    "ENABLED_ANNOTATION",
    "MODE_ANNOTATION",
    "WORKLOAD_KINDS",
    "OptIn",
    "Workload",
    "WorkloadKey",
    "container_resources",
    "controller_ref",
    "mapping",
    "opt_in",
    "pod_workload",
    "replicas",
    "running_resources",
    "template_spec",
    "workload_key",
    "workload_keys",
]

ENABLED_ANNOTATION = "rightsizing.kubewise.dev/enabled"
MODE_ANNOTATION = "rightsizing.kubewise.dev/mode"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "ReplicaSet", "Job")
WorkloadKey = tuple[str, str, str]  # namespace, kind, name


@dataclass(frozen=True, slots=True)
class Workload:
    key: WorkloadKey
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OptIn:
    opted_in: bool
    mode: str  # recommend | apply
    reason: str | None  # why not, when not


def mapping(obj: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """`obj[name]` when it is an object, else {} (stored JSON is read defensively)."""
    value = obj.get(name)
    return value if isinstance(value, Mapping) else {}


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return mapping(obj, "metadata")


def controller_ref(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(kind, name) of the object's controlling owner, or None."""
    refs = _meta(obj).get("ownerReferences")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, Mapping) and ref.get("controller") is True:
            kind, name = ref.get("kind"), ref.get("name")
            if isinstance(kind, str) and isinstance(name, str) and kind and name:
                return kind, name
    return None


def pod_workload(
    pod: Mapping[str, Any],
    replicasets: Mapping[tuple[str, str], Mapping[str, Any]],
    jobs: Mapping[tuple[str, str], Mapping[str, Any]],
) -> WorkloadKey | None:
    """The workload the pod belongs to, or None (a bare pod, a static pod, an owner not stored)."""
    namespace = str(_meta(pod).get("namespace") or "default")
    ref = controller_ref(pod)
    if ref is None:
        return None
    kind, name = ref
    parents = {"ReplicaSet": (replicasets, "Deployment"), "Job": (jobs, "CronJob")}
    if kind in parents:
        stored, parent_kind = parents[kind]
        owner = stored.get((namespace, name))
        if owner is None:
            return None  # not (yet) among the stored objects: its workload cannot be told
        parent = controller_ref(owner)
        if parent is not None:
            return (namespace, parent[0], parent[1]) if parent[0] == parent_kind else None
        return namespace, kind, name
    return (namespace, kind, name) if kind in WORKLOAD_KINDS else None


def template_spec(workload: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec the workload's controller makes pods from ({} when there is none)."""
    spec = workload.get("spec")
    if not isinstance(spec, Mapping):
        return {}
    if workload.get("kind") == "CronJob":
        job = spec.get("jobTemplate")
        spec = job.get("spec") if isinstance(job, Mapping) else None
        if not isinstance(spec, Mapping):
            return {}
    template = spec.get("template")
    pod_spec = template.get("spec") if isinstance(template, Mapping) else None
    return pod_spec if isinstance(pod_spec, Mapping) else {}


def _quantity(resource: str, raw: Mapping[str, Any], name: str) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    try:
        return float(parse_resource_quantity(resource, value))
    except ValueError:
        return None  # a value the API server would have refused: treated as unset


def container_resources(pod_spec: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """container -> {"cpu", "memory", "cpuLimit", "memoryLimit"} (millicores, bytes; None if unset).
    A request left out but a limit given defaults to the limit, as the API server does."""
    out: dict[str, dict[str, float | None]] = {}
    containers = pod_spec.get("containers")
    for container in containers if isinstance(containers, list) else []:
        if not isinstance(container, Mapping) or not isinstance(container.get("name"), str):
            continue
        resources = mapping(container, "resources")
        requests, limits = mapping(resources, "requests"), mapping(resources, "limits")
        cpu_limit, memory_limit = _quantity(CPU, limits, CPU), _quantity(MEMORY, limits, MEMORY)
        cpu, memory = _quantity(CPU, requests, CPU), _quantity(MEMORY, requests, MEMORY)
        out[container["name"]] = {
            "cpu": cpu if cpu is not None else cpu_limit,
            "memory": memory if memory is not None else memory_limit,
            "cpuLimit": cpu_limit,
            "memoryLimit": memory_limit,
        }
    return out


def replicas(workload: Mapping[str, Any]) -> int:
    """How many pods the workload runs: spec.replicas (default 1), a DaemonSet's scheduled count."""
    kind = workload.get("kind")
    spec, status = mapping(workload, "spec"), mapping(workload, "status")
    if kind == "DaemonSet":
        value = status.get("desiredNumberScheduled", status.get("currentNumberScheduled", 0))
    elif kind in ("Job", "CronJob"):
        value = status.get("active", 0) if kind == "Job" else len(status.get("active") or [])
    else:
        value = spec.get("replicas", 1)
    return value if isinstance(value, int) and value >= 0 else 0


def _annotation(obj: Mapping[str, Any] | None, name: str) -> str | None:
    annotations = _meta(obj).get("annotations") if obj is not None else None
    value = annotations.get(name) if isinstance(annotations, Mapping) else None
    return value.strip().lower() if isinstance(value, str) else None


def opt_in(workload: Mapping[str, Any], namespace: Mapping[str, Any] | None) -> OptIn:
    """The workload's annotation wins over its namespace's; "false" on the workload opts it out."""
    kind = str(workload.get("kind"))
    own = _annotation(workload, ENABLED_ANNOTATION)
    enabled = own if own is not None else _annotation(namespace, ENABLED_ANNOTATION)
    mode = _annotation(workload, MODE_ANNOTATION) or _annotation(namespace, MODE_ANNOTATION) or "recommend"
    mode = mode if mode in ("apply", "recommend") else "recommend"
    if enabled == "true":
        return OptIn(True, mode, None)
    if own == "false":
        return OptIn(False, mode, f'opted out: the {kind} is annotated {ENABLED_ANNOTATION}: "false"')
    return OptIn(
        False, mode, f'not opted in: annotate the {kind} or its namespace with {ENABLED_ANNOTATION}: "true"'
    )


def workload_key(obj: Mapping[str, Any]) -> WorkloadKey | None:
    """The object's key when it is a workload: a Deployment, StatefulSet, DaemonSet or CronJob, or a
    ReplicaSet or Job no other controller owns."""
    kind = obj.get("kind")
    if kind not in WORKLOAD_KINDS:
        return None
    if kind in ("ReplicaSet", "Job") and controller_ref(obj) is not None:
        return None
    meta = _meta(obj)
    return str(meta.get("namespace") or "default"), str(kind), str(meta.get("name"))


def workload_keys(objects: Iterable[Mapping[str, Any]]) -> list[WorkloadKey]:
    """The workloads among stored objects."""
    return [key for key in map(workload_key, objects) if key is not None]


def running_resources(
    objects: Iterable[Mapping[str, Any]],
) -> dict[WorkloadKey, dict[str, dict[str, float | None]]]:
    """workload -> the requests its running pods have now (the most common set among them).

    What the pods run with, not what their template says: an in-place resize changes the pods and
    leaves the template alone, and comparing against the template would queue the same resize again.
    """
    listed = list(objects)
    owners: dict[str, dict[tuple[str, str], Mapping[str, Any]]] = {"ReplicaSet": {}, "Job": {}}
    for obj in listed:
        if obj.get("kind") in owners:
            meta = mapping(obj, "metadata")
            owners[str(obj["kind"])][(str(meta.get("namespace") or "default"), str(meta.get("name")))] = obj
    seen: dict[WorkloadKey, Counter[str]] = {}
    for pod in listed:
        if pod.get("kind") != "Pod" or mapping(pod, "status").get("phase") != "Running":
            continue
        key = pod_workload(pod, owners["ReplicaSet"], owners["Job"])
        if key is not None:
            resources = container_resources(mapping(pod, "spec"))
            seen.setdefault(key, Counter())[json.dumps(resources, sort_keys=True)] += 1
    return {key: json.loads(counts.most_common(1)[0][0]) for key, counts in seen.items()}
