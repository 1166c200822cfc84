"""Raw Kubernetes Pod dicts -> `model.Pod`, with requests computed exactly as the kube-scheduler does.

Called by `model.loading` (kubectl dumps and the agent's API reads). Pure functions.

Effective requests follow k8s.io/component-helpers `resource.PodRequests` (1.29+ sidecar semantics):
app containers and restartable init containers (sidecars, `restartPolicy: Always`) are summed; each
regular init container needs its own request plus the sidecars started before it; the pod needs the
per-resource max of the two; pod-level `spec.resources` (cpu, memory, hugepages-*) replace the
container aggregate when set; `spec.overhead` is added; and every pod takes 1 `pods`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubewise.model.kube_fields import QuantityCache, Reader, identify
from kubewise.model.kube_selectors import (
    parse_node_affinity,
    parse_pod_affinity_terms,
    parse_tolerations,
    parse_topology_spread,
)
from kubewise.model.objects import OwnerKind, Pod
from kubewise.model.resources import CPU, MEMORY, PODS, Resources

__all__ = ["aggregate_container_requests", "parse_pod", "resolve_owner"]

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
_HUGEPAGES_PREFIX = "hugepages-"


def _add(into: dict[str, int], amounts: Mapping[str, int]) -> None:
    for k, v in amounts.items():
        into[k] = into.get(k, 0) + v


def _max(into: dict[str, int], amounts: Mapping[str, int]) -> None:
    for k, v in amounts.items():
        if v > into.get(k, 0) or k not in into:
            into[k] = v


def aggregate_container_requests(
    containers: Iterable[Mapping[str, int]], init_containers: Iterable[tuple[Mapping[str, int], bool]]
) -> dict[str, int]:
    """Scheduler aggregate of container requests (`AggregateContainerRequests`), no overhead.

    `init_containers` are `(requests, restartable)` in spec order; restartable = sidecar.
    Keys of resources that some container declares are kept even when their amount is 0.
    """
    total: dict[str, int] = {}
    for requests in containers:
        _add(total, requests)
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for requests, restartable in init_containers:
        if restartable:
            _add(total, requests)
            _add(sidecars, requests)
            _max(init_peak, sidecars)
        else:
            need = dict(requests)
            _add(need, sidecars)
            _max(init_peak, need)
    _max(total, init_peak)
    return total


def _container_requests(r: Reader, container: Mapping[str, Any], path: str) -> dict[str, int]:
    """`resources.requests`, defaulted from `resources.limits` per resource like the API server."""
    resources = container.get("resources")
    if resources.__class__ is not dict:
        resources = r.mapping(container, "resources", path)  # validates
    if not resources:
        return {}
    rpath = f"{path}.resources"
    requests = r.quantity_map(resources, "requests", rpath)
    if resources.get("limits"):
        for name, amount in r.quantity_map(resources, "limits", rpath).items():
            requests.setdefault(name, amount)
    return requests


def _is_pod_level_resource(name: str) -> bool:
    return name in (CPU, MEMORY) or name.startswith(_HUGEPAGES_PREFIX)


def _apply_pod_level(r: Reader, spec: Mapping[str, Any], total: dict[str, int]) -> None:
    """Pod-level `spec.resources` (PodLevelResources, 1.32+) incl. the API server's defaulting."""
    pod_resources = r.mapping(spec, "resources", "spec")
    if not pod_resources:
        return
    requests = r.quantity_map(pod_resources, "requests", "spec.resources")
    limits = r.quantity_map(pod_resources, "limits", "spec.resources")
    for name, limit in limits.items():
        if name in requests or not _is_pod_level_resource(name):
            continue
        # defaulting: from the container aggregate when containers request it (not hugepages), else the limit
        if name.startswith(_HUGEPAGES_PREFIX) or name not in total:
            requests[name] = limit
    for name, amount in requests.items():
        if _is_pod_level_resource(name):
            total[name] = amount


def _effective_requests(r: Reader, spec: Mapping[str, Any]) -> Resources:
    containers = r.items(spec, "containers", "spec")
    if not containers:
        raise r.error("spec.containers", "missing required field (a pod needs at least one container)")
    app = []
    for i, item in enumerate(containers):
        path = f"spec.containers[{i}]"
        app.append(_container_requests(r, r.entry(item, path), path))
    init = []
    for i, item in enumerate(r.items(spec, "initContainers", "spec")):
        path = f"spec.initContainers[{i}]"
        container = r.entry(item, path)
        restartable = r.string(container, "restartPolicy", path) == "Always"
        init.append((_container_requests(r, container, path), restartable))
    total = aggregate_container_requests(app, init)
    _apply_pod_level(r, spec, total)
    if spec.get("overhead"):
        _add(total, r.quantity_map(spec, "overhead", "spec"))
    total[PODS] = 1
    return Resources(total)


def resolve_owner(
    r: Reader, meta: Mapping[str, Any], labels: Mapping[str, str], node_name: str
) -> tuple[str, str]:
    """`(owner_kind, owner_name)`: the controller, with ReplicaSets resolved to their Deployment."""
    if MIRROR_ANNOTATION in r.mapping(meta, "annotations", "metadata"):
        return OwnerKind.NODE, node_name
    for i, item in enumerate(r.items(meta, "ownerReferences", "metadata")):
        path = f"metadata.ownerReferences[{i}]"
        ref = r.entry(item, path)
        if ref.get("controller") is not True:
            continue
        kind = r.required_string(ref, "kind", path)
        name = r.required_string(ref, "name", path)
        if kind == OwnerKind.REPLICASET:
            template_hash = labels.get("pod-template-hash", "")
            if template_hash and name.endswith("-" + template_hash):
                return OwnerKind.DEPLOYMENT, name[: -len(template_hash) - 1]
        return kind, name
    return OwnerKind.NONE, ""


def _has_local_storage(r: Reader, spec: Mapping[str, Any]) -> bool:
    for i, item in enumerate(r.items(spec, "volumes", "spec")):
        volume = r.entry(item, f"spec.volumes[{i}]")
        if volume.get("emptyDir") is not None or volume.get("hostPath") is not None:
            return True
    return False


def _scheduling_fields(r: Reader, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of `Pod` for placement constraints (only non-default ones)."""
    fields: dict[str, Any] = {}
    if spec.get("nodeSelector"):
        fields["node_selector"] = r.string_map(spec, "nodeSelector", "spec")
    if spec.get("tolerations"):
        fields["tolerations"] = parse_tolerations(r, spec, "spec")
    if spec.get("topologySpreadConstraints"):
        fields["topology_spread"] = parse_topology_spread(r, spec, "spec")
    affinity = r.mapping(spec, "affinity", "spec")
    if affinity:
        fields["node_affinity"] = parse_node_affinity(r, affinity, "spec.affinity")
        fields["pod_affinity"] = parse_pod_affinity_terms(r, affinity, "podAffinity", "spec.affinity")
        fields["pod_anti_affinity"] = parse_pod_affinity_terms(
            r, affinity, "podAntiAffinity", "spec.affinity"
        )
    return fields


def parse_pod(obj: Mapping[str, Any], quantities: QuantityCache | None = None, ordinal: str = "") -> Pod:
    """One Pod object -> `Pod`. `ordinal` (e.g. `#3`) names the object in errors when it has no name."""
    meta, namespace, name = identify("Pod", obj, ordinal, namespaced=True)
    r = Reader(f"Pod {namespace}/{name}", quantities)
    spec = r.mapping(obj, "spec", "")
    status = r.mapping(obj, "status", "")
    labels = r.string_map(meta, "labels", "metadata")
    node_name = r.string(spec, "nodeName", "spec")
    owner_kind, owner_name = resolve_owner(r, meta, labels, node_name)
    return Pod(
        namespace=namespace,
        name=name,
        requests=_effective_requests(r, spec),
        labels=labels,
        node_name=node_name,
        phase=r.string(status, "phase", "status", "Pending"),
        owner_kind=owner_kind,
        owner_name=owner_name,
        priority=r.integer(spec, "priority", "spec") or 0,
        has_local_storage=_has_local_storage(r, spec),
        uid=r.string(meta, "uid", "metadata"),
        **_scheduling_fields(r, spec),
    )
