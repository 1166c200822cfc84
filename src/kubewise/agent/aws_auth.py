"""EKS's `aws-auth` ConfigMap (kube-system) for `kubewise onboard` / `offboard`: map the platform's IAM
user and kubewise's node role into the cluster, and a ClusterRole for that user's group.

Called by `kubewise.cli.onboard` through an API client from `cluster_reader.connect_api`. The user is
mapped to the dedicated group `kubewise:platform`, not `system:masters`: the group's ClusterRole allows
what the cluster controller does (read nodes and pods, patch and delete nodes, evict pods) and the
agent's reads, nothing else, so a leaked key cannot take over the cluster. The node role is mapped as
EKS maps node roles (`system:bootstrappers`, `system:nodes`) so nodes kubewise starts can join.
Every other mapRoles/mapUsers entry is kept as it was; an unchanged mapping is not written at all;
offboarding removes only the entries with kubewise's ARNs. A dry run only reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import urllib3
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

__all__ = [
    "CLUSTER_ROLE",
    "GROUP",
    "AwsAuthError",
    "KubeChange",
    "map_identities",
    "unmap_identities",
]

NAMESPACE, NAME = "kube-system", "aws-auth"
GROUP = "kubewise:platform"
CLUSTER_ROLE = "kubewise-platform"
USERNAME = "kubewise-platform"
_NODE_GROUPS = ["system:bootstrappers", "system:nodes"]
_RULES = [
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["pods", "namespaces"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list", "watch"]},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"],
        "verbs": ["get", "list", "watch"],
    },
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": ["get", "list", "watch"]},
]
_RBAC = "rbac.authorization.k8s.io"


class AwsAuthError(RuntimeError):
    """One line: what could not be read or changed in the cluster, and what to do."""


@dataclass(frozen=True, slots=True)
class KubeChange:
    resource: str  # aws-auth, cluster-role, cluster-role-binding
    name: str
    action: str  # created | updated | unchanged | deleted | absent


def _user_entry(user_arn: str) -> dict[str, Any]:
    return {"userarn": user_arn, "username": USERNAME, "groups": [GROUP]}


def _node_entry(role_arn: str) -> dict[str, Any]:
    return {
        "rolearn": role_arn,
        "username": "system:node:{{EC2PrivateDNSName}}",
        "groups": list(_NODE_GROUPS),
    }


def _entries(data: dict[str, str], key: str) -> list[dict[str, Any]]:
    try:
        parsed = yaml.safe_load(data.get(key) or "[]")
    except yaml.YAMLError as exc:
        raise AwsAuthError(
            f"{NAMESPACE}/{NAME}: {key} is not valid YAML ({exc.__class__.__name__}): fix it first"
        ) from None
    if parsed is None:
        return []
    if not isinstance(parsed, list) or not all(isinstance(e, dict) for e in parsed):
        raise AwsAuthError(f"{NAMESPACE}/{NAME}: {key} must be a list of mappings: fix it first")
    return parsed


def _upsert(
    entries: list[dict[str, Any]], key: str, wanted: dict[str, Any]
) -> tuple[list[dict[str, Any]], str]:
    """`entries` with `wanted` in place of any entry of the same ARN (the others as they were)."""
    same = [e for e in entries if e.get(key) == wanted[key]]
    if same == [wanted]:
        return entries, "unchanged"
    out, placed = [], False
    for entry in entries:
        if entry.get(key) != wanted[key]:
            out.append(entry)
        elif not placed:
            out.append(wanted)
            placed = True
    if not placed:
        out.append(wanted)
    return out, "updated" if same else "created"


def _remove(entries: list[dict[str, Any]], key: str, arn: str) -> tuple[list[dict[str, Any]], str]:
    kept = [e for e in entries if e.get(key) != arn]
    return kept, "deleted" if len(kept) != len(entries) else "absent"


def _guard(what: str, call: Callable[[], Any]) -> Any:
    """`call()`; None on 404; every other failure an `AwsAuthError` naming `what`."""
    try:
        return call()
    except ApiException as exc:
        if exc.status == 404:
            return None
        hint = " -- your kubeconfig user needs cluster-admin to onboard" if exc.status in (401, 403) else ""
        raise AwsAuthError(f"cannot {what}: {exc.status} {exc.reason or 'error'}{hint}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise AwsAuthError(f"cannot {what}: the API server is unreachable ({type(exc).__name__})") from None


def _dump(entries: list[dict[str, Any]]) -> str:
    return yaml.safe_dump(entries, default_flow_style=False, sort_keys=False)


def _edit_config_map(
    api: client.ApiClient,
    edit: Callable[[dict[str, str]], list[KubeChange]],
    dry_run: bool,
    *,
    create: bool,
) -> list[KubeChange]:
    core = client.CoreV1Api(api)
    found = _guard(f"read {NAMESPACE}/{NAME}", lambda: core.read_namespaced_config_map(NAME, NAMESPACE))
    if found is None and not create:
        return [KubeChange("aws-auth", f"{NAMESPACE}/{NAME}", "absent")]
    data = dict((found.data if found is not None else None) or {})
    changes = edit(data)
    if dry_run or all(c.action in ("unchanged", "absent") for c in changes):
        return changes
    if found is None:
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": NAME, "namespace": NAMESPACE}}
        body["data"] = data
        _guard(f"create {NAMESPACE}/{NAME}", lambda: core.create_namespaced_config_map(NAMESPACE, body))
    else:
        found.data = data  # resourceVersion kept: a concurrent edit makes this fail (409), not vanish
        _guard(
            f"update {NAMESPACE}/{NAME}", lambda: core.replace_namespaced_config_map(NAME, NAMESPACE, found)
        )
    return changes


def _apply(data: dict[str, str], key: str, field: str, entry: dict[str, Any], label: str) -> KubeChange:
    entries, action = _upsert(_entries(data, key), field, entry)
    if action != "unchanged":
        data[key] = _dump(entries)
    return KubeChange("aws-auth", label, action)


def map_identities(
    api: client.ApiClient, *, user_arn: str | None, node_role_arn: str | None, dry_run: bool = False
) -> list[KubeChange]:
    """Map `user_arn` (to `kubewise:platform`, with its ClusterRole and binding) and `node_role_arn`
    (as a node role) in aws-auth, creating the ConfigMap when the cluster has none."""

    def edit(data: dict[str, str]) -> list[KubeChange]:
        out = []
        if node_role_arn:
            out.append(
                _apply(data, "mapRoles", "rolearn", _node_entry(node_role_arn), f"mapRoles {node_role_arn}")
            )
        if user_arn:
            out.append(_apply(data, "mapUsers", "userarn", _user_entry(user_arn), f"mapUsers {user_arn}"))
        return out

    changes = _edit_config_map(api, edit, dry_run, create=True)
    if user_arn:
        changes += _ensure_rbac(api, dry_run)
    return changes


def unmap_identities(
    api: client.ApiClient, *, user_arn: str | None, node_role_arn: str | None, dry_run: bool = False
) -> list[KubeChange]:
    """Remove kubewise's entries (and only those) from aws-auth, and the ClusterRole and binding."""

    def edit(data: dict[str, str]) -> list[KubeChange]:
        out = []
        for key, field, arn in (("mapRoles", "rolearn", node_role_arn), ("mapUsers", "userarn", user_arn)):
            if arn:
                entries, action = _remove(_entries(data, key), field, arn)
                if action == "deleted":
                    data[key] = _dump(entries)
                out.append(KubeChange("aws-auth", f"{key} {arn}", action))
        return out

    changes = _edit_config_map(api, edit, dry_run, create=False)
    return changes + _remove_rbac(api, dry_run)


def _objects() -> list[tuple[str, dict[str, Any]]]:
    role = {
        "apiVersion": f"{_RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": {"name": CLUSTER_ROLE, "labels": {"app.kubernetes.io/managed-by": "kubewise"}},
        "rules": _RULES,
    }
    binding = {
        "apiVersion": f"{_RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": CLUSTER_ROLE, "labels": {"app.kubernetes.io/managed-by": "kubewise"}},
        "roleRef": {"apiGroup": _RBAC, "kind": "ClusterRole", "name": CLUSTER_ROLE},
        "subjects": [{"apiGroup": _RBAC, "kind": "Group", "name": GROUP}],
    }
    return [("cluster-role", role), ("cluster-role-binding", binding)]


def _verb(rbac: client.RbacAuthorizationV1Api, verb: str, kind: str, *args: Any) -> Callable[[], Any]:
    """`rbac.<verb>_cluster_role[_binding](*args)`, to call later (through `_guard`)."""
    method = getattr(rbac, f"{verb}_{'cluster_role' if kind == 'ClusterRole' else 'cluster_role_binding'}")
    return partial(method, *args)


def _ensure_rbac(api: client.ApiClient, dry_run: bool) -> list[KubeChange]:
    rbac = client.RbacAuthorizationV1Api(api)
    out = []
    for resource, obj in _objects():
        kind, what = obj["kind"], f"{obj['kind']} {CLUSTER_ROLE}"
        found = _guard(f"read {what}", _verb(rbac, "read", kind, CLUSTER_ROLE))
        wanted = {k: v for k, v in obj.items() if k in ("rules", "roleRef", "subjects")}
        if found is not None:
            have = api.sanitize_for_serialization(found)
            if all(have.get(k) == v for k, v in wanted.items()):
                out.append(KubeChange(resource, CLUSTER_ROLE, "unchanged"))
                continue
        out.append(KubeChange(resource, CLUSTER_ROLE, "created" if found is None else "updated"))
        if dry_run:
            continue
        if found is None:
            _guard(f"create {what}", _verb(rbac, "create", kind, obj))
        else:
            _guard(f"update {what}", _verb(rbac, "replace", kind, CLUSTER_ROLE, obj))
    return out


def _remove_rbac(api: client.ApiClient, dry_run: bool) -> list[KubeChange]:
    rbac = client.RbacAuthorizationV1Api(api)
    out = []
    for resource, obj in reversed(_objects()):
        kind, what = obj["kind"], f"{obj['kind']} {CLUSTER_ROLE}"
        if _guard(f"read {what}", _verb(rbac, "read", kind, CLUSTER_ROLE)) is None:
            out.append(KubeChange(resource, CLUSTER_ROLE, "absent"))
            continue
        out.append(KubeChange(resource, CLUSTER_ROLE, "deleted"))
        if not dry_run:
            _guard(f"delete {what}", _verb(rbac, "delete", kind, CLUSTER_ROLE))
    return out
