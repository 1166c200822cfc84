"""Kubernetes objects (as the agent sends them) for the platform's rightsizing tests: a namespace, a
Deployment with its ReplicaSet and pods, and usage reports for them."""

from __future__ import annotations

from typing import Any

__all__ = ["OPT_IN", "deployment", "namespace", "pod", "replicaset", "usage"]

OPT_IN = "rightsizing.kubewise.dev/enabled"


def namespace(name: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {"name": name, "annotations": annotations or {}},
    }


def _owner(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"kind": kind, "name": name, "controller": True, "apiVersion": "apps/v1", "uid": f"u-{name}"}]


def deployment(
    name: str,
    ns: str = "shop",
    *,
    cpu: str = "1500m",
    memory: str = "2Gi",
    replicas: int = 2,
    annotations: dict[str, str] | None = None,
    kind: str = "Deployment",
) -> dict[str, Any]:
    container = {"name": "app", "resources": {"requests": {"cpu": cpu, "memory": memory}}}
    return {
        "kind": kind,
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [container]}}},
    }


def replicaset(name: str, deployment_name: str, ns: str = "shop") -> dict[str, Any]:
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": ns, "ownerReferences": _owner("Deployment", deployment_name)},
        "spec": {"replicas": 2},
    }


def pod(
    name: str,
    owner: tuple[str, str] | None,
    ns: str = "shop",
    *,
    cpu: str = "1500m",
    memory: str = "2Gi",
    node: str = "n1",
    oom_at: str | None = None,
) -> dict[str, Any]:
    """A running pod; `oom_at` (an RFC 3339 time) makes its container's last termination an OOM kill."""
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if owner is not None:
        meta["ownerReferences"] = _owner(*owner)
    container = {"name": "app", "resources": {"requests": {"cpu": cpu, "memory": memory}}}
    status: dict[str, Any] = {"phase": "Running"}
    if oom_at is not None:
        terminated = {"reason": "OOMKilled", "exitCode": 137, "finishedAt": oom_at}
        status["containerStatuses"] = [
            {"name": "app", "restartCount": 1, "lastState": {"terminated": terminated}}
        ]
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta,
        "spec": {"nodeName": node, "containers": [container]},
        "status": status,
    }


def usage(at: str, pods: dict[str, tuple[float, float]], ns: str = "shop") -> dict[str, Any]:
    """A usage report: pod name -> (cpu millicores, memory bytes) of its container "app"."""
    return {
        "at": at,
        "pods": [{"namespace": ns, "name": name, "containers": {"app": list(v)}} for name, v in pods.items()],
    }
