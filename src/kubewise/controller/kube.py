"""The controller's Kubernetes calls: cordon, the pods on a node, evictions, node deletion.

Evictions go through the Eviction API, so the API server enforces PodDisruptionBudgets: a 429 means
a budget says "not now" (`EvictionBlocked`, tried again on a later poll). A 403 is fatal and says which
permission the controller's ClusterRole lacks. Deleting a node that is already gone is not an error.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

__all__ = ["ControllerFatal", "EvictionBlocked", "NodeGone", "NodeOps"]


class ControllerFatal(RuntimeError):
    """The controller cannot go on; one line: what failed and what to do."""


class NodeGone(RuntimeError):
    """The node is not in the cluster (any more)."""


class EvictionBlocked(RuntimeError):
    """A PodDisruptionBudget does not allow the eviction now."""


def _forbidden(verb: str, resource: str, exc: ApiException) -> ControllerFatal:
    return ControllerFatal(
        f"controller failed: forbidden (403) to {verb} {resource} -- give the controller's ClusterRole "
        f'"{verb}" on "{resource}" (check with: kubectl auth can-i {verb} {resource} '
        "--as=system:serviceaccount:kubewise-agent:kubewise-controller)"
    )


class NodeOps:
    def __init__(self, api: client.ApiClient) -> None:
        self.core = client.CoreV1Api(api)

    def _call(self, verb: str, resource: str, call: Any) -> Any:
        try:
            return call()
        except ApiException as exc:
            if exc.status == 403:
                raise _forbidden(verb, resource, exc) from None
            raise

    def cordon(self, node: str) -> None:
        try:
            self._call(
                "patch", "nodes", lambda: self.core.patch_node(node, {"spec": {"unschedulable": True}})
            )
        except ApiException as exc:
            if exc.status == 404:
                raise NodeGone(f"node {node} is not in the cluster") from None
            raise

    def uncordon(self, node: str) -> None:
        try:
            self._call(
                "patch", "nodes", lambda: self.core.patch_node(node, {"spec": {"unschedulable": None}})
            )
        except ApiException as exc:
            if exc.status != 404:
                raise

    def provider_ids(self) -> set[str]:
        """The `spec.providerID` of every node in the cluster (the nodes that joined)."""
        found: set[str] = set()
        token: str | None = None
        while True:
            extra = {"_continue": token} if token else {}
            page = self._call("list", "nodes", lambda extra=extra: self.core.list_node(limit=500, **extra))
            found.update(str(n.spec.provider_id) for n in page.items or [] if n.spec and n.spec.provider_id)
            token = page.metadata._continue if page.metadata else None
            if not token:
                return found

    def provider_id(self, node: str) -> str | None:
        try:
            found = self._call("get", "nodes", lambda: self.core.read_node(node))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return str(found.spec.provider_id or "") or None

    def pods_on(self, node: str) -> list[Any]:
        listed = self._call(
            "list",
            "pods",
            lambda: self.core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}", limit=500),
        )
        return list(listed.items or [])

    def evict(self, namespace: str, name: str) -> None:
        body = client.V1Eviction(metadata=client.V1ObjectMeta(name=name, namespace=namespace))
        try:
            self._call(
                "create",
                "pods/eviction",
                lambda: self.core.create_namespaced_pod_eviction(name, namespace, body),
            )
        except ApiException as exc:
            if exc.status == 429:
                raise EvictionBlocked(
                    f"{namespace}/{name}: a PodDisruptionBudget does not allow it now"
                ) from None
            if exc.status != 404:  # gone already: what an eviction wants
                raise

    def delete_node(self, node: str) -> None:
        try:
            self._call("delete", "nodes", lambda: self.core.delete_node(node))
        except ApiException as exc:
            if exc.status != 404:
                raise
