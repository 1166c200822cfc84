"""One action, carried out: add-nodes through the cloud, cordon / drain / delete through Kubernetes,
rightsize-workload through `controller.rightsize.Rightsizer`.

Each returns `(status, message)` to report, or None when it should be tried again on a later poll
(a PodDisruptionBudget does not allow an eviction yet). Every step is idempotent: creating nodes
uses the action's id as the cloud's client token, a cordon or an eviction repeated changes nothing
more, a node deleted twice is deleted once. Cordoning or draining a node that is gone fails at once
(the platform planned on an older view), so the actions after it are not held up.

A node being replaced (an add-nodes action that `replaces` it) is drained only once its new nodes
are in the cluster, so its pods move straight onto them; if they do not join within
`replacement_wait` the node is uncordoned and stays (its drain and delete fail, saying why). If
they cannot be started at all, the platform fails the node's actions itself. The wait is kept in
memory: a controller restarted meanwhile drains without waiting (pods then wait for the nodes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubewise.cloud.provider import CapacityError, CloudProvider, NodeRequest
from kubewise.controller.kube import EvictionBlocked, NodeGone, NodeOps
from kubewise.controller.platform import ControllerPlatform
from kubewise.controller.rightsize import Rightsizer

__all__ = ["Executor"]

Outcome = tuple[str, str] | None


def _instance_id(provider_id: str | None) -> str | None:
    last = (provider_id or "").rsplit("/", 1)[-1]
    return last or None


REPLACEMENT_WAIT_SECONDS = 600.0  # how long a node waits for the nodes replacing it to join


class Executor:
    def __init__(
        self,
        kube: NodeOps,
        cloud: CloudProvider,
        platform: ControllerPlatform,
        *,
        clock: Callable[[], float] = time.monotonic,
        replacement_wait: float = REPLACEMENT_WAIT_SECONDS,
        rightsizer: Rightsizer | None = None,
    ) -> None:
        self.kube, self.cloud, self.platform = kube, cloud, platform
        # rightsize-workload actions: new requests for a workload's pods (same API connection)
        self.rightsizer = rightsizer or Rightsizer(kube.core.api_client)
        self.clock, self.replacement_wait = clock, replacement_wait
        # node -> (when its replacements were asked for, their provider ids): drained once they joined
        self.replacing: dict[str, tuple[float, set[str]]] = {}
        self.abandoned: set[str] = set()  # nodes whose replacements never joined: they stay

    def execute(self, action: dict[str, Any]) -> Outcome:
        try:
            return self._execute(action)
        except NodeGone as exc:  # the platform planned on a view older than the cluster: nothing to do
            return "failed", f"{exc} (removed since the platform planned this)"

    def _execute(self, action: dict[str, Any]) -> Outcome:
        kind = action["kind"]
        if action.get("node") in self.abandoned:
            return "failed", (
                f"not done: the nodes that were to replace {action['node']} did not join within "
                f"{self.replacement_wait:g}s; it stays, uncordoned"
            )
        if kind == "add-nodes":
            return self._add(action)
        if kind == "cordon-node":
            self.kube.cordon(action["node"])
            return "done", f"{action['node']} cordoned"
        if kind == "drain-node":
            return self._drain(action["node"])
        if kind == "delete-node":
            return self._delete(action["node"])
        if kind == "rightsize-workload":
            return self.rightsizer.execute(action.get("details"))
        return "failed", f"unknown action kind {kind!r} (a newer platform?)"

    def _add(self, action: dict[str, Any]) -> Outcome:
        types = (action["instanceType"], *action.get("alternatives", []))
        labels = tuple(sorted((action.get("labels") or {}).items()))
        taints = tuple((t["key"], t.get("value", ""), t["effect"]) for t in action.get("taints") or [])
        request = NodeRequest(
            action["id"], types, action["capacityType"], action["zone"], int(action["count"]), labels, taints
        )
        try:
            made = self.cloud.create_nodes(request)
        except CapacityError as exc:
            self.platform.capacity(list(exc.offerings))
            return "failed", f"no capacity: {exc}"
        if action.get("replaces"):
            self.replacing[action["replaces"]] = (self.clock(), {i.provider_id for i in made})
        return "done", f"{len(made)} node(s) started: {', '.join(i.instance_id for i in made)}"

    def _replacements_joined(self, node: str) -> bool | None:
        """True when the nodes replacing `node` (if any) are in the cluster; None while they may still
        come; False when they did not come in time (the node is given up on and uncordoned)."""
        if node not in self.replacing:
            return True
        asked, wanted = self.replacing[node]
        if wanted <= self.kube.provider_ids():
            del self.replacing[node]
            return True
        if self.clock() - asked < self.replacement_wait:
            return None
        del self.replacing[node]
        self.abandoned.add(node)
        self.kube.uncordon(node)
        return False

    def _drain(self, node: str) -> Outcome:
        joined = self._replacements_joined(node)
        if joined is None:
            return None  # its pods would have nowhere to go yet
        if not joined:
            return "failed", (
                f"not done: the nodes that were to replace {node} did not join within "
                f"{self.replacement_wait:g}s; it stays, uncordoned"
            )
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
