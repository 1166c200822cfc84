"""The installed objects of kubewise, as the API server holds them, for `kubewise debug-bundle`.

Reads (never writes) the agent's namespace -- Deployments, ServiceAccounts, ConfigMaps, Secrets,
Roles, RoleBindings -- and kubewise's ClusterRoles and ClusterRoleBindings. The objects come back
whole, Secrets included: the bundle's `Redactor` replaces every Secret value before anything is
written. What cannot be read is returned as an error line instead of stopping the bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from kubewise.agent.cluster_reader import ClusterReadError, connect_api
from kubewise.agent.manifests import NAMESPACE

__all__ = ["read_manifests"]

_TIMEOUT = 10.0
_MANAGED = "app.kubernetes.io/managed-by=kubewise"


def _namespaced(api: client.ApiClient) -> dict[str, tuple[str, Callable[..., Any]]]:
    core, apps, rbac = client.CoreV1Api(api), client.AppsV1Api(api), client.RbacAuthorizationV1Api(api)
    return {
        "deployments": ("Deployment", apps.list_namespaced_deployment),
        "serviceaccounts": ("ServiceAccount", core.list_namespaced_service_account),
        "configmaps": ("ConfigMap", core.list_namespaced_config_map),
        "secrets": ("Secret", core.list_namespaced_secret),
        "roles": ("Role", rbac.list_namespaced_role),
        "rolebindings": ("RoleBinding", rbac.list_namespaced_role_binding),
    }


def _cluster_scoped(api: client.ApiClient) -> dict[str, tuple[str, Callable[..., Any]]]:
    rbac = client.RbacAuthorizationV1Api(api)
    return {
        "clusterroles": ("ClusterRole", rbac.list_cluster_role),
        "clusterrolebindings": ("ClusterRoleBinding", rbac.list_cluster_role_binding),
    }


def _listed(api: client.ApiClient, kind: str, method: Callable[..., Any], *args: Any, **kw: Any) -> list[Any]:
    result = method(*args, _request_timeout=_TIMEOUT, **kw)
    objects = []
    for item in result.items or []:
        obj = api.sanitize_for_serialization(item)
        obj["kind"] = kind  # list items come without it, and the Redactor recognises Secrets by it
        obj.get("metadata", {}).pop("managedFields", None)
        objects.append(obj)
    return objects


def read_manifests(
    context: str | None, kubeconfig: str | None, namespace: str = NAMESPACE
) -> tuple[dict[str, list[Any]], list[str]]:
    """`({"deployments": [...], ...}, errors)`: the objects by kind, and what could not be read."""
    try:
        api = connect_api(context, kubeconfig)
    except ClusterReadError as exc:
        return {}, [str(exc)]
    found: dict[str, list[Any]] = {}
    errors: list[str] = []
    try:
        reads: list[tuple[str, str, Callable[..., Any], tuple[str, ...], dict[str, str]]] = [
            (n, k, m, (namespace,), {}) for n, (k, m) in _namespaced(api).items()
        ]
        reads += [(n, k, m, (), {"label_selector": _MANAGED}) for n, (k, m) in _cluster_scoped(api).items()]
        for name, kind, method, args, kwargs in reads:
            try:
                found[name] = _listed(api, kind, method, *args, **kwargs)
            except ApiException as exc:
                errors.append(f"{name}: {exc.status} {exc.reason or ''}".strip())
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                errors.append(f"{name}: cannot reach the API server: {type(exc).__name__}")
                break  # the others would fail the same way, each after its timeout
    finally:
        api.close()
    return found, errors
