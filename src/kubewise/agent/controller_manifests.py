"""The Kubernetes objects that install the cluster controller (`kubewise connect --controller`).

Unlike the agent, the controller writes: its ClusterRole allows patching and deleting nodes,
creating pod evictions (so PodDisruptionBudgets hold) and, for workload rightsizing, patching pods'
`resize` subresource and Deployments, StatefulSets and DaemonSets (their pod templates' requests),
and nothing else beyond reads. It runs with
the cluster's agent key (from the agent's Secret) and, on AWS, with the IAM role given by
`--controller-identity` (IRSA) to start and terminate instances from the node group's launch template.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubewise.agent.manifests import AGENT_NAME, NAMESPACE

__all__ = ["CONTROLLER_NAME", "ControllerInstall", "controller_manifests"]

CONTROLLER_NAME = "kubewise-controller"
_LABELS = {"app.kubernetes.io/name": CONTROLLER_NAME, "app.kubernetes.io/managed-by": "kubewise"}


@dataclass(frozen=True)
class ControllerInstall:
    api_url: str
    cluster_id: str
    image: str
    version: str
    region: str
    cluster_name: str
    launch_template: str
    subnets: str  # zone=subnet-id,...
    cloud_identity: str | None = None  # IAM role ARN for IRSA


def _meta(name: str, namespaced: bool = True, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(_LABELS), **extra}
    if namespaced:
        meta["namespace"] = NAMESPACE
    return meta


def _rbac() -> list[dict[str, Any]]:
    rules = [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch", "patch", "delete"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
        # rightsize-workload: pods resized in place, or the workload's pod template patched; budgets read
        {"apiGroups": [""], "resources": ["pods/resize"], "verbs": ["patch"]},
        {
            "apiGroups": ["apps"],
            "resources": ["deployments", "statefulsets", "daemonsets"],
            "verbs": ["get", "patch"],
        },
        {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list"]},
    ]
    subject = {"kind": "ServiceAccount", "name": CONTROLLER_NAME, "namespace": NAMESPACE}
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CONTROLLER_NAME}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(CONTROLLER_NAME, namespaced=False),
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(CONTROLLER_NAME, namespaced=False),
            "roleRef": role_ref,
            "subjects": [subject],
        },
    ]


def controller_manifests(spec: ControllerInstall) -> list[dict[str, Any]]:
    """ServiceAccount, ClusterRole and binding, Deployment (after the agent's objects)."""
    meta = _meta(CONTROLLER_NAME)
    if spec.cloud_identity:
        meta["annotations"] = {"eks.amazonaws.com/role-arn": spec.cloud_identity}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    env = {
        "API_URL": spec.api_url,
        "CLUSTER_ID": spec.cluster_id,
        "AWS_REGION": spec.region,
        "CLUSTER_NAME": spec.cluster_name,
        "LAUNCH_TEMPLATE": spec.launch_template,
        "SUBNETS": spec.subnets,
    }
    key = {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": AGENT_NAME, "key": "API_KEY"}}}
    container = {
        "name": "controller",
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["controller"],
        "env": [key, *({"name": k, "value": v} for k, v in sorted(env.items()))],
        "resources": {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
        },
    }
    linux = [{"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(CONTROLLER_NAME, annotations={"kubewise.dev/version": spec.version}),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},  # never two controllers acting on one cluster
            "selector": {"matchLabels": {"app.kubernetes.io/name": CONTROLLER_NAME}},
            "template": {
                "metadata": {"labels": dict(_LABELS)},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": CONTROLLER_NAME,
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": linux}
                        }
                    },
                    "containers": [container],
                },
            },
        },
    }
    return [account, *_rbac(), deployment]
