"""The install manifests: valid against the Kubernetes schemas, read-only RBAC, secrets where they belong."""

from __future__ import annotations

import base64

import kubernetes_validate
import pytest

from kubewise.agent.manifests import AGENT_NAME, NAMESPACE, AgentInstall, agent_manifests

SPEC = AgentInstall(
    api_url="https://kubewise.example.com",
    api_key="kw_0123456789abcdef_secret",
    cluster_id="c-1",
    provider="eks",
    image="ghcr.io/kubewise/kubewise:0.1.0",
    version="0.1.0",
    env={"EKS_ACCOUNT_ID": "111122223333", "EKS_REGION": "us-east-1", "EKS_CLUSTER_NAME": "prod"},
)


@pytest.mark.parametrize("version", ["1.29.0", kubernetes_validate.latest_version()])
def test_every_object_is_valid_for_kubernetes(version: str) -> None:
    for obj in agent_manifests(SPEC):
        kubernetes_validate.validate(obj, version, strict=True)  # raises on any schema violation


def test_kinds_in_apply_order() -> None:
    kinds = [o["kind"] for o in agent_manifests(SPEC)]
    assert kinds[0] == "Namespace" and kinds[-1] == "Deployment"
    assert set(kinds) >= {
        "ServiceAccount",
        "Secret",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ResourceQuota",
        "ConfigMap",
    }


def test_cluster_access_is_read_only() -> None:
    role = next(o for o in agent_manifests(SPEC) if o["kind"] == "ClusterRole")
    verbs = {v for rule in role["rules"] for v in rule["verbs"]}
    assert verbs == {"get", "list", "watch"}
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert {"nodes", "pods", "poddisruptionbudgets", "namespaces", "deployments", "jobs"} <= resources
    # containers' usage for rightsizing: the metrics API (metrics-server) serves get and list only
    metrics = [r for r in role["rules"] if r["apiGroups"] == ["metrics.k8s.io"]]
    assert metrics == [{"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]}]
    namespaced = next(o for o in agent_manifests(SPEC) if o["kind"] == "Role")
    writes = [r for r in namespaced["rules"] if set(r["verbs"]) - {"get", "list", "watch"}]
    assert writes == [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments"],
            "resourceNames": [AGENT_NAME],
            "verbs": ["get", "patch", "update"],
        }
    ]
    assert namespaced["metadata"]["namespace"] == NAMESPACE


def test_key_only_in_the_secret_and_identity_on_the_service_account() -> None:
    objs = agent_manifests(
        AgentInstall(**{**SPEC.__dict__, "cloud_identity": "arn:aws:iam::111122223333:role/agent"})
    )
    secret = next(o for o in objs if o["kind"] == "Secret")
    assert base64.b64decode(secret["data"]["API_KEY"]).decode() == SPEC.api_key
    assert "AWS_ACCESS_KEY_ID" not in secret["data"]
    others = [o for o in objs if o["kind"] != "Secret"]
    assert SPEC.api_key not in str(others)
    sa = next(o for o in objs if o["kind"] == "ServiceAccount")
    assert sa["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/agent"
    }
    deployment = objs[-1]["spec"]["template"]["spec"]
    assert deployment["priorityClassName"] == "system-cluster-critical"
    env = {e["name"]: e.get("value") for e in deployment["containers"][0]["env"]}
    assert env["CLUSTER_ID"] == "c-1" and env["EKS_CLUSTER_NAME"] == "prod"
    assert deployment["containers"][0]["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert deployment["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/readyz"


def _controller_objects() -> list[dict[str, object]]:
    from kubewise.agent.controller_manifests import ControllerInstall, controller_manifests

    spec = ControllerInstall(
        api_url="https://kubewise.example.com",
        cluster_id="c-1",
        image="ghcr.io/kubewise/kubewise:0.1.0",
        version="0.1.0",
        region="us-east-1",
        cluster_name="prod",
        launch_template="lt-0abc",
        subnets="us-east-1a=subnet-1,us-east-1b=subnet-2",
        cloud_identity="arn:aws:iam::111122223333:role/kubewise-controller",
    )
    return controller_manifests(spec)


@pytest.mark.parametrize("version", ["1.29.0", kubernetes_validate.latest_version()])
def test_the_controllers_objects_are_valid_and_write_only_what_it_needs(version: str) -> None:
    objects = _controller_objects()
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)
    (role,) = [o for o in objects if o["kind"] == "ClusterRole"]
    rules: list[dict[str, list[str]]] = role["rules"]  # type: ignore[assignment]
    reads = {"get", "list", "watch"}
    writes = {(r, v) for rule in rules for r in rule["resources"] for v in rule["verbs"] if v not in reads}
    assert writes == {
        ("nodes", "patch"),
        ("nodes", "delete"),
        ("pods/eviction", "create"),
        # rightsize-workload: in-place resize, or the workload's pod template
        ("pods/resize", "patch"),
        ("deployments", "patch"),
        ("statefulsets", "patch"),
        ("daemonsets", "patch"),
    }
    budgets = [r for r in rules if "poddisruptionbudgets" in r["resources"]]
    assert budgets == [
        {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list"]}
    ]
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]  # type: ignore[index]
    assert {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": AGENT_NAME, "key": "API_KEY"}}} in env
    # the key is read from the agent's Secret: the controller brings no Secret of its own
    assert [o["kind"] for o in objects] == [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
    ]
