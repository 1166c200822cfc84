"""Kubernetes objects the demo's cluster makes: a node for a cloud instance, a pod from a template.

A node is the optimizer's `planned_node_object` (the labels, taints and allocatable a real kubelet
on that type would report) written as the API's JSON; a pod is a copy of one of its workload's pods
with a new name, unbound, pending -- what a ReplicaSet, StatefulSet or Job controller creates.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from kubewise.model import CPU, Node, Resources

__all__ = ["new_pod", "node_object", "quantities"]

Obj = dict[str, Any]


def quantities(resources: Resources) -> dict[str, str]:
    """Integer units (millicores, bytes, counts) as API quantities."""
    return {name: f"{resources[name]}m" if name == CPU else str(resources[name]) for name in resources}


def node_object(node: Node, created: dt.datetime) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "labels": dict(node.labels),
            "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "spec": {
            "providerID": node.provider_id,
            **(
                {"taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in node.taints]}
                if node.taints
                else {}
            ),
        },
        "status": {
            "allocatable": quantities(node.allocatable),
            "capacity": quantities(node.capacity),
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "nodeInfo": {  # every field the API marks required
                "architecture": node.arch,
                "operatingSystem": "linux",
                "osImage": "Amazon Linux 2023",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "containerd://1.7.0",
                "kubeletVersion": "v1.31.0",
                "kubeProxyVersion": "v1.31.0",
                "bootID": node.name,
                "machineID": node.name,
                "systemUUID": node.name,
            },
        },
    }


def new_pod(template: Obj, name: str, created: dt.datetime, node_name: str = "") -> Obj:
    """A copy of `template` named `name`: pending, or bound to `node_name` (a DaemonSet's pod, pinned
    to its node the way the DaemonSet controller pins it)."""
    pod = copy.deepcopy(template)
    meta = pod["metadata"]
    for field in ("uid", "resourceVersion", "deletionTimestamp"):
        meta.pop(field, None)
    meta["name"] = name
    meta["creationTimestamp"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    spec = pod.setdefault("spec", {})
    spec.pop("nodeName", None)
    pod["status"] = {"phase": "Pending"}
    if node_name:
        pin = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
        spec.setdefault("affinity", {})["nodeAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [pin]}
        }
        spec["nodeName"] = node_name
        pod["status"] = {"phase": "Running"}
    return pod
