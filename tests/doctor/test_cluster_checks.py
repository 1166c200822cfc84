"""cluster_findings on recorded ClusterEvidence: each check reproduced from the state that shows it.

The end-to-end cases (gather through the fake Kubernetes API, then the checks) are in
test_cluster_gather.py; here each failure is the recorded state doctor would have read.
"""

from __future__ import annotations

import json

import pytest

from kubewise.doctor.cluster_checks import CHECKS, cluster_findings
from kubewise.doctor.cluster_evidence import (
    ClusterEvidence,
    ContainerEvidence,
    DeploymentEvidence,
    EventEvidence,
    NodeEvidence,
    PodEvidence,
    ServiceAccountEvidence,
)
from kubewise.doctor.findings import Finding

IRSA = "eks.amazonaws.com/role-arn"
ROLE = "arn:aws:iam::111122223333:role/kubewise-agent"
SELECTOR = {"agent": {"matchLabels": {"app.kubernetes.io/name": "kubewise-agent"}}}
AGENT_RULES = [
    {"apiGroups": [""], "resources": ["nodes", "pods", "namespaces"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]},  # rightsizing usage
]
CONTROLLER_RULES = [
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
    # rightsize-workload
    {"apiGroups": [""], "resources": ["pods/resize"], "verbs": ["patch"]},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets", "daemonsets"],
        "verbs": ["get", "patch"],
    },
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list"]},
]


def deployment(name: str, container: str, version: str = "0.1.0", **env: str) -> DeploymentEvidence:
    return DeploymentEvidence(
        name=name,
        version=version,
        images={container: f"ghcr.io/kubewise/kubewise:{version}"},
        env={container: {"API_URL": "https://platform.example.com", "CLUSTER_ID": "c-1", **env}},
        selector={"matchLabels": {"app.kubernetes.io/name": name}},
        service_account=name,
        replicas=1,
        ready_replicas=1,
    )


def running(name: str, *logs: str) -> ContainerEvidence:
    return ContainerEvidence(name=name, ready=True, state="running", logs=list(logs))


def crashing(name: str, *previous: str, reason: str = "CrashLoopBackOff") -> ContainerEvidence:
    return ContainerEvidence(
        name=name,
        ready=False,
        state="waiting",
        waiting_reason=reason,
        restart_count=5,
        last_reason="Error",
        last_exit_code=1,
        previous_logs=list(previous),
    )


def healthy() -> ClusterEvidence:
    """An EKS cluster with the agent (IRSA) and the controller installed and running."""
    nodes = [
        NodeEvidence(
            f"n{i}",
            f"aws:///eu-central-1a/i-0{i}",
            {"eks.amazonaws.com/nodegroup": "ng", "topology.kubernetes.io/region": "eu-central-1"},
        )
        for i in range(3)
    ]
    return ClusterEvidence(
        server="https://k8s.example.com",
        pods=[
            PodEvidence(
                "kubewise-agent-1", "agent", "Running", "n0", containers=[running("agent", "sent snapshot")]
            ),
            PodEvidence(
                "kubewise-controller-1", "controller", "Running", "n1", containers=[running("controller")]
            ),
        ],
        deployments=[
            deployment("kubewise-agent", "agent", PROVIDER="eks", EKS_REGION="eu-central-1"),
            deployment("kubewise-controller", "controller", AWS_REGION="eu-central-1"),
        ],
        service_accounts=[
            ServiceAccountEvidence("kubewise-agent", {IRSA: ROLE}),
            ServiceAccountEvidence("kubewise-controller", {IRSA: ROLE.replace("agent", "controller")}),
        ],
        secrets={"kubewise-agent": ["API_KEY"]},
        cluster_roles={"kubewise-agent": AGENT_RULES, "kubewise-controller": CONTROLLER_RULES},
        cluster_role_bindings={
            "kubewise-agent": "kubewise-agent",
            "kubewise-controller": "kubewise-controller",
        },
        events=[
            EventEvidence("kubewise-agent", "Pod", "kubewise-agent-1", "Started", "Started container agent")
        ],
        nodes=nodes,
        node_count=3,
        api_url="https://platform.example.com",
        cluster_id="c-1",
    )


def checks(ev: ClusterEvidence) -> list[str]:
    return [f.check for f in cluster_findings(ev)[0]]


def only(ev: ClusterEvidence, check: str) -> Finding:
    findings = cluster_findings(ev)[0]
    assert [f.check for f in findings] == [check]
    return findings[0]


def agent_failing(*previous: str, reason: str = "CrashLoopBackOff") -> ClusterEvidence:
    ev = healthy()
    ev.pods[0] = PodEvidence(
        "kubewise-agent-1", "agent", "Running", containers=[crashing("agent", *previous, reason=reason)]
    )
    return ev


def controller_failing(*previous: str) -> ClusterEvidence:
    ev = healthy()
    ev.pods[1] = PodEvidence(
        "kubewise-controller-1", "controller", "Running", containers=[crashing("controller", *previous)]
    )
    return ev


def test_healthy_cluster_yields_nothing_and_every_check_ran() -> None:
    findings, ran = cluster_findings(healthy())
    assert findings == []
    assert ran == ["cluster.api-reachable", *(name for name, _, _ in CHECKS), "cluster.crashloop"]


def test_recorded_evidence_round_trips_through_json() -> None:
    ev = agent_failing('{"level": "critical", "msg": "agent failed: x"}')
    again = ClusterEvidence.from_json(json.loads(json.dumps(ev.to_json())))
    assert again == ev and checks(again) == checks(ev)


def test_errors_a_healthy_agent_logged_once_are_not_findings() -> None:
    ev = healthy()
    ev.pods[0].containers[0].logs = ["sending snapshot: cannot reach the platform at https://p (timed out)"]
    assert checks(ev) == []


def test_ec2_read_denied_from_the_reference_line() -> None:
    line = (
        "agent failed: registering cluster: getting cluster name: describing "
        "instance_id=i-026b5fadab5b69d67: UnauthorizedOperation: You are not authorized to perform "
        "this operation.\n\tstatus code: 403"
    )
    finding = only(agent_failing(line), "agent.ec2-read-denied")
    assert "on-demand" in finding.cause and "AmazonEC2ReadOnlyAccess" in finding.fix
    assert ROLE in finding.cause  # the role the agent runs as, from the IRSA annotation


def test_no_aws_credentials_without_keys_or_irsa() -> None:
    ev = agent_failing(
        "agent failed: getting provider: configuring aws client: NoCredentialProviders: "
        "no valid providers in chain"
    )
    ev.service_accounts = [s for s in ev.service_accounts if s.name != "kubewise-agent"]
    finding = only(ev, "agent.no-aws-credentials")
    assert "holds no AWS_ACCESS_KEY_ID" in finding.cause and "no eks.amazonaws.com/role-arn" in finding.cause
    assert "kubectl annotate serviceaccount -n kubewise-agent kubewise-agent" in finding.fix


def test_no_aws_credentials_with_an_irsa_annotation_points_at_the_trust_policy() -> None:
    ev = agent_failing("agent failed: NoCredentialProviders: no valid providers in chain")
    assert "trust policy" in only(ev, "agent.no-aws-credentials").cause


def test_tls_handshake_timeout_to_the_api_server_means_delete_the_pod() -> None:
    line = (
        'agent failed: registering cluster: getting namespace "kube-system": Get '
        '"https://100.10.1.0:443/api/v1/namespaces/kube-system": net/http: TLS handshake timeout'
    )
    finding = only(agent_failing(line), "agent.tls-handshake-timeout")
    assert "kubectl delete pod -n kubewise-agent -l app.kubernetes.io/name=kubewise-agent" in finding.fix


def test_a_tls_timeout_to_the_platform_is_a_network_finding() -> None:
    line = (
        "agent failed: registering cluster: the platform at https://p did not complete the connection "
        "within 10s (TCP or TLS handshake timeout) -- check API_URL and the network to the platform"
    )
    assert "times out" in only(agent_failing(line), "agent.network-blocked").cause


def test_network_blocked_by_dns() -> None:
    line = (
        "agent failed: sending heartbeat: cannot reach the platform at https://p "
        "([Errno -2] Name or service not known)"
    )
    ev = agent_failing(line, reason="")
    ev.pods[0].containers[0].state, ev.pods[0].containers[0].waiting_reason = "running", ""
    assert "DNS" in only(ev, "agent.network-blocked").cause
    assert "is failing" in only(ev, "agent.network-blocked").title  # running, not ready: no CrashLoopBackOff


def test_api_key_of_another_cluster_or_read_scope() -> None:
    line = (
        "agent failed: sending snapshot: forbidden (403): cluster not found "
        "-- use a 'full' or the cluster's agent key"
    )
    assert only(agent_failing(line), "agent.api-key-forbidden").fix.startswith(
        "Run `kubewise connect --apply`"
    )


def test_discovery_failed_without_a_provider_mismatch() -> None:
    line = (
        "agent failed: registering cluster: cannot tell the kOps cluster's name or region "
        "-- set KOPS_CLUSTER_NAME"
    )
    assert "EKS_ACCOUNT_ID" in only(agent_failing(line), "agent.discovery-failed").fix


def test_wrong_provider_even_while_the_agent_runs() -> None:
    ev = healthy()
    ev.agent.env["agent"]["PROVIDER"] = "aks"  # type: ignore[union-attr]
    finding = only(ev, "agent.wrong-provider")
    assert "PROVIDER=aks" in finding.cause and "PROVIDER=eks" in finding.fix


def test_unrecognised_crash_shows_state_and_last_line() -> None:
    finding = only(
        agent_failing('{"level": "critical", "msg": "agent failed: disk on fire"}'), "agent.crashloop"
    )
    assert "CrashLoopBackOff" in finding.title
    assert finding.evidence[-1] == "agent failed: disk on fire"  # the JSON line's message
    assert "5 restarts, last exit 1 (Error)" in finding.evidence[0]


def test_selector_changed_between_versions_is_an_immutable_field_upgrade_error() -> None:
    ev = healthy()
    ev.agent.selector = {"matchLabels": {"app.kubernetes.io/name": "kubewise-agent", "app": "old"}}  # type: ignore[union-attr]
    finding = only(ev, "agent.selector-immutable")
    assert "kubectl delete deployment -n kubewise-agent kubewise-agent" in finding.fix
    assert "kubewise connect --apply" in finding.fix and "immutable" in finding.cause


def test_controller_forbidden_by_the_platform() -> None:
    line = (
        "controller failed: the platform rejected the API key (401): it was revoked or is wrong "
        "-- set API_KEY to the cluster's current agent key; the controller stops"
    )
    finding = only(controller_failing(line), "controller.api-key-rejected")
    assert "forbids" in finding.title and "rollout restart deployment kubewise-controller" in finding.fix


def test_controller_missing_rbac_from_its_log_and_from_its_role() -> None:
    line = (
        "controller failed: forbidden (403) to create pods/eviction "
        '-- give the controller\'s ClusterRole "create"'
    )
    assert only(controller_failing(line), "controller.missing-rbac").evidence == (line,)
    ev = healthy()
    kept = [r for r in CONTROLLER_RULES if r["resources"] != ["pods/eviction"]]
    ev.cluster_roles["kubewise-controller"] = kept
    assert only(ev, "controller.missing-rbac").evidence == ("missing: create pods/eviction",)


def test_agent_cluster_role_missing_entirely_or_unbound() -> None:
    ev = healthy()
    del ev.cluster_roles["kubewise-agent"]
    assert only(ev, "agent.missing-rbac").evidence == ("missing: no ClusterRole kubewise-agent",)
    ev = healthy()
    ev.cluster_role_bindings["kubewise-agent"] = "view"
    assert only(ev, "agent.missing-rbac").evidence == (
        "missing: no ClusterRoleBinding kubewise-agent of ClusterRole kubewise-agent",
    )


def test_controller_missing_settings() -> None:
    line = "controller failed: set LAUNCH_TEMPLATE, SUBNETS on the controller"
    assert "LAUNCH_TEMPLATE, SUBNETS" in only(controller_failing(line), "controller.missing-settings").cause


def test_agent_and_controller_versions_differ() -> None:
    ev = healthy()
    ev.deployments[1] = deployment("kubewise-controller", "controller", version="0.2.0")
    finding = only(ev, "controller.version-mismatch")
    assert finding.severity == "warning" and finding.evidence == ("agent: 0.1.0", "controller: 0.2.0")


def test_versions_from_image_tags_when_there_is_no_annotation() -> None:
    ev = healthy()
    for d in ev.deployments:
        d.version = ""
    ev.controller.images["controller"] = "registry:5000/kubewise/kubewise:0.3.1@sha256:abc"  # type: ignore[union-attr]
    assert only(ev, "controller.version-mismatch").evidence == ("agent: 0.1.0", "controller: 0.3.1")


@pytest.mark.parametrize(
    ("keys", "check"), [(None, "agent.secret-missing"), (["AWS_ACCESS_KEY_ID"], "agent.secret-missing")]
)
def test_agent_secret_missing_or_without_a_key(keys: list[str] | None, check: str) -> None:
    ev = healthy()
    if keys is None:
        del ev.secrets["kubewise-agent"]
    else:
        ev.secrets["kubewise-agent"] = keys
    assert check in checks(ev)


def test_half_an_aws_key_pair_in_the_secret() -> None:
    ev = healthy()
    ev.secrets["kubewise-agent"] = ["API_KEY", "AWS_SECRET_ACCESS_KEY"]
    assert "without AWS_ACCESS_KEY_ID" in only(ev, "agent.aws-keys-incomplete").cause


def test_irsa_annotation_that_is_not_a_role_arn() -> None:
    ev = healthy()
    ev.service_accounts[0].annotations[IRSA] = "kubewise-agent-role"
    assert "kubewise-agent-role" in only(ev, "cluster.irsa-annotation-invalid").cause


def test_agent_scaled_to_zero_or_without_pods() -> None:
    ev = healthy()
    ev.pods = ev.pods[1:]
    ev.agent.replicas = 0  # type: ignore[union-attr]
    assert only(ev, "agent.no-pod").title == "The agent is scaled to zero"
    ev.agent.replicas = 1  # type: ignore[union-attr]
    ev.events.append(
        EventEvidence(
            "kubewise-agent", "ReplicaSet", "kubewise-agent-7d", "FailedCreate", "exceeded quota", "Warning"
        )
    )
    assert only(ev, "agent.no-pod").evidence == ("FailedCreate: exceeded quota",)


def test_agent_image_that_does_not_exist() -> None:
    ev = agent_failing(reason="ImagePullBackOff")
    ev.pods[0].containers[
        0
    ].waiting_message = 'Back-off pulling image "ghcr.io/kubewise/kubewise:9.9": not found'
    assert "not found" in only(ev, "agent.image-pull-failed").cause


def test_agent_oom_killed_is_a_warning() -> None:
    ev = healthy()
    ev.pods[0].containers[0].last_reason = "OOMKilled"
    assert only(ev, "agent.oom-killed").severity == "warning"


def test_unreachable_api_server_runs_no_other_check() -> None:
    ev = ClusterEvidence(
        reachable=False, error_kind="timeout", error="the API server at https://k did not answer"
    )
    findings, ran = cluster_findings(ev)
    assert [f.check for f in findings] == ["cluster.api-unreachable"] and ran == ["cluster.api-reachable"]
    assert "firewall" in findings[0].title
