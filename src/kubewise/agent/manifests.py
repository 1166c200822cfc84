"""The Kubernetes objects that install the agent (`kubewise connect` prints or applies them).

Read-only by design: the ClusterRole grants get/list/watch and nothing else (get/list only on
`metrics.k8s.io` pods, the containers' usage that rightsizing learns from: the metrics API has no
watch). The only write the agent's pod is allowed is its own sidecar's: the proportional vertical
autoscaler may patch the agent's Deployment, in the agent's namespace only (the Role). Cloud access
is either a static key in the Secret or, better, an annotation on the ServiceAccount (EKS IRSA,
GKE workload identity).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AGENT_NAME", "NAMESPACE", "AgentInstall", "agent_manifests"]

NAMESPACE = "kubewise-agent"
AGENT_NAME = "kubewise-agent"
HEALTH_PORT = 9876
_LABELS = {"app.kubernetes.io/name": AGENT_NAME, "app.kubernetes.io/managed-by": "kubewise"}
_READ = ["get", "list", "watch"]
_WATCHED = [
    ("", ["nodes", "pods", "namespaces"]),
    ("policy", ["poddisruptionbudgets"]),
    ("apps", ["deployments", "replicasets", "statefulsets", "daemonsets"]),
    ("batch", ["jobs", "cronjobs"]),
]
_IDENTITY_ANNOTATION = {
    "eks": "eks.amazonaws.com/role-arn",
    "kops": "eks.amazonaws.com/role-arn",
    "gke": "iam.gke.io/gcp-service-account",
}


@dataclass(frozen=True)
class AgentInstall:
    api_url: str
    api_key: str
    cluster_id: str
    provider: str  # eks | gke | aks | kops
    image: str
    version: str
    env: dict[str, str] = field(default_factory=dict)  # e.g. EKS_ACCOUNT_ID / EKS_REGION / EKS_CLUSTER_NAME
    cloud_identity: str | None = None  # IAM role ARN (IRSA) or GCP service account, instead of static keys
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None


def _meta(name: str, namespaced: bool = True, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(_LABELS)}
    if namespaced:
        meta["namespace"] = NAMESPACE
    meta.update(extra)
    return meta


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _secret(spec: AgentInstall) -> dict[str, Any]:
    data = {"API_KEY": _b64(spec.api_key)}
    if spec.aws_access_key_id and spec.aws_secret_access_key:
        data["AWS_ACCESS_KEY_ID"] = _b64(spec.aws_access_key_id)
        data["AWS_SECRET_ACCESS_KEY"] = _b64(spec.aws_secret_access_key)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(AGENT_NAME),
        "type": "Opaque",
        "data": data,
    }


def _service_account(spec: AgentInstall) -> dict[str, Any]:
    meta = _meta(AGENT_NAME)
    key = _IDENTITY_ANNOTATION.get(spec.provider)
    if spec.cloud_identity and key:
        meta["annotations"] = {key: spec.cloud_identity}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}


def _rbac() -> list[dict[str, Any]]:
    subject = [{"kind": "ServiceAccount", "name": AGENT_NAME, "namespace": NAMESPACE}]
    rules = [{"apiGroups": [group], "resources": resources, "verbs": _READ} for group, resources in _WATCHED]
    rules.append({"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]})
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(AGENT_NAME, namespaced=False),
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(AGENT_NAME, namespaced=False),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": AGENT_NAME},
            "subjects": subject,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(AGENT_NAME),
            "rules": [
                {
                    "apiGroups": ["apps"],
                    "resources": ["deployments"],
                    "resourceNames": [AGENT_NAME],
                    "verbs": ["get", "patch", "update"],
                },  # the sidecar resizes the agent, nothing else
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": _READ},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(AGENT_NAME),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": AGENT_NAME},
            "subjects": subject,
        },
    ]


def _autoscaler_config() -> dict[str, Any]:
    # cluster-proportional-vertical-autoscaler: requests grow with the number of nodes
    ladder = (
        '{"agent": {"requests": {"cpu": {"base": "100m", "step": "100m", "nodesPerStep": 20, "max": "2"},'
        ' "memory": {"base": "256Mi", "step": "256Mi", "nodesPerStep": 20, "max": "8Gi"}}}}'
    )
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(f"{AGENT_NAME}-autoscaler"),
        "data": {"agent-autoscaler": ladder},
    }


def _quota() -> dict[str, Any]:
    # namespaces other than kube-system may only run system-cluster-critical pods within a quota
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _meta(f"{AGENT_NAME}-critical-pods"),
        "spec": {
            "hard": {"pods": "2"},
            "scopeSelector": {
                "matchExpressions": [
                    {"scopeName": "PriorityClass", "operator": "In", "values": ["system-cluster-critical"]}
                ]
            },
        },
    }


def _deployment(spec: AgentInstall) -> dict[str, Any]:
    env = [
        {"name": "API_URL", "value": spec.api_url},
        {"name": "CLUSTER_ID", "value": spec.cluster_id},
        {"name": "PROVIDER", "value": spec.provider},
        {"name": "HEALTH_PORT", "value": str(HEALTH_PORT)},
    ]
    env += [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
    probe = {"periodSeconds": 15, "timeoutSeconds": 3}
    live = {"httpGet": {"path": "/healthz", "port": HEALTH_PORT}}  # the loop is running
    ready = {"httpGet": {"path": "/readyz", "port": HEALTH_PORT}}  # and reaching the platform
    linux = [{"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]
    agent = {
        "name": "agent",
        "image": spec.image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["agent"],
        "env": env,
        "envFrom": [{"secretRef": {"name": AGENT_NAME}}],
        "ports": [{"name": "health", "containerPort": HEALTH_PORT}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "2Gi"},
        },
        "livenessProbe": {**probe, **live, "initialDelaySeconds": 30, "failureThreshold": 4},
        "readinessProbe": {**probe, **ready, "initialDelaySeconds": 5},
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
        },
    }
    autoscaler = {
        "name": "autoscaler",
        "image": "registry.k8s.io/cpa/cpvpa:v0.8.4",
        "command": [
            "/cpvpa",
            f"--target=deployment/{AGENT_NAME}",
            f"--namespace={NAMESPACE}",
            "--poll-period-seconds=300",
            "--config-file=/etc/config/agent-autoscaler",
        ],
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
        "volumeMounts": [{"name": "autoscaler-config", "mountPath": "/etc/config"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(AGENT_NAME, annotations={"kubewise.dev/version": spec.version}),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": AGENT_NAME}},
            "template": {
                "metadata": {"labels": dict(_LABELS)},
                "spec": {
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": AGENT_NAME,
                    "affinity": {
                        "nodeAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": linux}
                        }
                    },
                    "containers": [agent, autoscaler],
                    "volumes": [
                        {
                            "name": "autoscaler-config",
                            "configMap": {
                                "name": f"{AGENT_NAME}-autoscaler",
                                "items": [{"key": "agent-autoscaler", "path": "agent-autoscaler"}],
                            },
                        }
                    ],
                },
            },
        },
    }


def agent_manifests(spec: AgentInstall) -> list[dict[str, Any]]:
    """In apply order: the namespace first, the Deployment last."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(NAMESPACE, namespaced=False)}
    return [
        namespace,
        _service_account(spec),
        _secret(spec),
        *_rbac(),
        _quota(),
        _autoscaler_config(),
        _deployment(spec),
    ]
