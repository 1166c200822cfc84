"""One action, carried out: add-nodes through the cloud, cordon / drain / delete through Kubernetes.

Each returns `(status, message)` to report, or None when it should be tried again on a later poll
(a PodDisruptionBudget does not allow an eviction yet). Every step is idempotent: creating nodes
uses the action's id as the cloud's client token, a cordon or an eviction repeated changes nothing
more, a node deleted twice is deleted once.
"""

from __future__ import annotations

from typing import Any

from kubewise.cloud.provider import CapacityError, CloudProvider, NodeRequest
from kubewise.controller.kube import EvictionBlocked, NodeOps
from kubewise.controller.platform import ControllerPlatform

__all__ = ["Executor"]

Outcome = tuple[str, str] | None


def _instance_id(provider_id: str | None) -> str | None:
    last = (provider_id or "").rsplit("/", 1)[-1]
    return last or None


class Executor:
    def __init__(self, kube: NodeOps, cloud: CloudProvider, platform: ControllerPlatform) -> None:
        self.kube, self.cloud, self.platform = kube, cloud, platform

    def execute(self, action: dict[str, Any]) -> Outcome:
        kind = action["kind"]
        if kind == "add-nodes":
            return self._add(action)
        if kind == "cordon-node":
            self.kube.cordon(action["node"])
            return "done", f"{action['node']} cordoned"
        if kind == "drain-node":
            return self._drain(action["node"])
        if kind == "delete-node":
            return self._delete(action["node"])
        return "failed", f"unknown action kind {kind!r} (a newer platform?)"

    def _add(self, action: dict[str, Any]) -> Outcome:
        types = (action["instanceType"], *action.get("alternatives", []))
        labels = tuple(sorted((action.get("labels") or {}).items()))
        request = NodeRequest(
            action["id"], types, action["capacityType"], action["zone"], int(action["count"]), labels
        )
        try:
            made = self.cloud.create_nodes(request)
        except CapacityError as exc:
            self.platform.capacity(list(exc.offerings))
            return "failed", f"no capacity: {exc}"
        return "done", f"{len(made)} node(s) started: {', '.join(i.instance_id for i in made)}"

    def _drain(self, node: str) -> Outcome:
        self.kube.cordon(node)  # a drain always keeps new pods off first
        blocked = []
        for pod in self.kube.pods_on(node):
            owners = pod.metadata.owner_references or []
            if any(o.kind in ("DaemonSet", "Node") for o in owners):
                continue  # DaemonSet and static pods end with the node
            try:
                self.kube.evict(pod.metadata.namespace, pod.metadata.name)
            except EvictionBlocked as exc:
                blocked.append(str(exc))
        if blocked:
            return None  # tried again next poll; the PDB decides when
        return "done", f"{node} drained"

    def _delete(self, node: str) -> Outcome:
        instance = _instance_id(self.kube.provider_id(node))
        if instance is not None:
            self.cloud.terminate([instance])
        self.kube.delete_node(node)
        return "done", f"{node} deleted" + (f" (instance {instance} terminated)" if instance else "")
