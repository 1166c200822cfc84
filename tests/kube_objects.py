"""Kubernetes objects as the agent sends them (JSON), for platform and controller tests."""

from __future__ import annotations

from typing import Any

__all__ = ["node_json"]


def node_json(name: str) -> dict[str, Any]:
    """An m5.large EKS node in us-east-1a (1930m / 7Gi allocatable)."""
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "labels": {
                "node.kubernetes.io/instance-type": "m5.large",
                "topology.kubernetes.io/region": "us-east-1",
                "topology.kubernetes.io/zone": "us-east-1a",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/os": "linux",
                "kubernetes.io/hostname": name,
            },
        },
        "spec": {"providerID": f"aws:///us-east-1a/i-{name}"},
        "status": {
            "allocatable": {"cpu": "1930m", "memory": "7Gi", "pods": "29"},
            "capacity": {"cpu": "2", "memory": "8Gi", "pods": "29"},
        },
    }
