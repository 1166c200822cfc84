"""Apply the agent's manifests through the kubeconfig: create, or replace in place when they exist.

Re-running `kubewise connect --apply` upgrades the agent. A Deployment whose selector changed between
versions cannot be replaced (`field is immutable`): it is deleted and created again instead of the
command failing, which is what the reference tells users to do by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

__all__ = ["ApplyError", "apply_manifests"]

_APIS: dict[str, Callable[[client.ApiClient], Any]] = {
    "v1": client.CoreV1Api,
    "apps/v1": client.AppsV1Api,
    "rbac.authorization.k8s.io/v1": client.RbacAuthorizationV1Api,
}
_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}


class ApplyError(RuntimeError):
    """One line: which object could not be applied, and why."""


def _snake(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def _call(api: Any, verb: str, obj: dict[str, Any], *, body: bool = True) -> Any:
    kind, meta = obj["kind"], obj["metadata"]
    if kind in _CLUSTER_SCOPED:
        method = getattr(api, f"{verb}_{_snake(kind)}")
        args: list[Any] = [] if verb == "create" else [meta["name"]]
    else:
        method = getattr(api, f"{verb}_namespaced_{_snake(kind)}")
        args = [meta["namespace"]] if verb == "create" else [meta["name"], meta["namespace"]]
    return method(*args, obj) if body else method(*args)


def _apply_one(api_client: client.ApiClient, obj: dict[str, Any]) -> str:
    api = _APIS[obj["apiVersion"]](api_client)
    try:
        _call(api, "create", obj)
        return "created"
    except ApiException as exc:
        if exc.status != 409:
            raise
    try:
        _call(api, "replace", obj)
        return "configured"
    except ApiException as exc:
        if exc.status != 422 or "immutable" not in str(exc.body):
            raise
    _call(api, "delete", obj, body=False)
    _call(api, "create", obj)
    return "recreated"


def apply_manifests(api_client: client.ApiClient, objects: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """`(kind/name, what happened)` per object, in order; `ApplyError` on the first that fails."""
    done = []
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            done.append((name, _apply_one(api_client, obj)))
        except ApiException as exc:
            reason = exc.reason or "error"
            hint = (
                " -- your kubeconfig user needs to create RBAC objects (cluster-admin)"
                if exc.status == 403
                else ""
            )
            raise ApplyError(f"cannot apply {name}: {exc.status} {reason}{hint}") from None
    return done
