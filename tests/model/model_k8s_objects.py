"""Raw Kubernetes object dicts (as kubectl -o json prints them) for the model loading tests."""

from __future__ import annotations

from typing import Any

from kubewise.model import Pod, load_snapshot_from_objects


def container(
    name: str = "app",
    *,
    restart_policy: str | None = None,
    limits: dict[str, Any] | None = None,
    **requests: Any,
) -> dict[str, Any]:
    """A container; keyword arguments are requests (`cpu="100m"`, `memory="1Gi"`)."""
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = {k.replace("_", "-"): v for k, v in requests.items()}
    if limits is not None:
        resources["limits"] = limits
    out: dict[str, Any] = {"name": name, "image": "registry.example/app:1", "resources": resources}
    if restart_policy is not None:
        out["restartPolicy"] = restart_policy
    return out


def pod_obj(
    name: str = "web-1",
    namespace: str = "default",
    *,
    containers: list[dict[str, Any]] | None = None,
    init: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    owner: tuple[str, str] | None = None,
    phase: str | None = "Running",
    node: str | None = None,
    spec: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "uid": f"uid-{name}"}
    if labels is not None:
        metadata["labels"] = labels
    if owner is not None:
        kind, owner_name = owner
        metadata["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": kind, "name": owner_name, "uid": "o", "controller": True}
        ]
    metadata.update(meta or {})
    pod_spec: dict[str, Any] = {"containers": containers if containers is not None else [container()]}
    if init is not None:
        pod_spec["initContainers"] = init
    if node is not None:
        pod_spec["nodeName"] = node
    pod_spec.update(spec or {})
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}
    if phase is not None:
        obj["status"] = {"phase": phase}
    return obj


def node_obj(
    name: str = "n1",
    *,
    labels: dict[str, str] | None = None,
    provider_id: str | None = None,
    capacity: dict[str, Any] | None = None,
    allocatable: dict[str, Any] | None = None,
    spec: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
) -> dict[str, Any]:
    node_spec: dict[str, Any] = dict(spec or {})
    if provider_id is not None:
        node_spec["providerID"] = provider_id
    node_status: dict[str, Any] = {"capacity": capacity or {"cpu": "4", "memory": "16Gi", "pods": "110"}}
    if allocatable is not None:
        node_status["allocatable"] = allocatable
    node_status.update(status or {})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": node_spec,
        "status": node_status,
    }


def pdb_obj(name: str = "web", namespace: str = "default", **spec: Any) -> dict[str, Any]:
    status = spec.pop("status", None)
    obj: dict[str, Any] = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
    if status is not None:
        obj["status"] = status
    return obj


def ns_obj(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def load_pod(obj: dict[str, Any]) -> Pod:
    """The single pod of a snapshot loaded from `obj`."""
    (pod,) = load_snapshot_from_objects([obj]).pods
    return pod
