"""gather_cluster + cluster_findings end to end, against the fake Kubernetes API (`tests/fake_kube_api.py`).

The cluster is installed from the real manifests (`agent_manifests`, `controller_manifests`), and the
agent's failing log lines are the ones the agent's own code produces for each cause (its platform
client against a 401 or a closed port, its cluster reader against a 403, its discovery on the wrong
provider), written as the agent writes them (JSON lines, `agent failed: ...`).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from fake_kube_api import (
    CLUSTERROLES,
    EVENTS,
    LIST_PATHS,
    NODES,
    PODS,
    SECRETS,
    FakeApi,
    closed_port,
    serve,
    status,
    write_kubeconfig,
)
from kubewise.agent.cluster_reader import ClusterReadError, read_cluster
from kubewise.agent.controller_manifests import ControllerInstall, controller_manifests
from kubewise.agent.discovery import DiscoveryError, discover
from kubewise.agent.manifests import AgentInstall, agent_manifests
from kubewise.agent.platform_client import AgentFatal, PlatformClient
from kubewise.agent.settings import AgentSettings
from kubewise.doctor.cluster_checks import CHECKS, cluster_findings
from kubewise.doctor.cluster_evidence import ClusterEvidence
from kubewise.doctor.cluster_gather import LOG_LINES, agent_credentials, gather_cluster

NS = "kubewise-agent"
API_KEY = "kw_0123456789abcdef_Zm9vYmFyLXNlY3JldC12YWx1ZQ"
API_URL = "https://platform.example.com"
IRSA = "arn:aws:iam::111122223333:role/kubewise-agent"


def eks_node(name: str) -> dict[str, Any]:
    labels = {
        "eks.amazonaws.com/nodegroup": "ng-1",
        "topology.kubernetes.io/region": "eu-central-1",
        "node.kubernetes.io/instance-type": "m5.large",
        "kubernetes.io/hostname": name,
    }
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"providerID": f"aws:///eu-central-1a/i-0{name}"},
    }


def container_status(
    name: str, image: str, *, ready: bool = True, waiting: str = "", restarts: int = 0
) -> dict[str, Any]:
    state = {"waiting": {"reason": waiting, "message": "back-off restarting"}} if waiting else {"running": {}}
    out: dict[str, Any] = {
        "name": name,
        "image": image,
        "ready": ready,
        "restartCount": restarts,
        "state": state,
    }
    if restarts:
        out["lastState"] = {"terminated": {"reason": "Error", "exitCode": 1}}
    return out


def pod(
    app: str, name: str, containers: list[tuple[str, str]], statuses: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": NS, "labels": {"app.kubernetes.io/name": app}},
        "spec": {"nodeName": "n1", "containers": [{"name": c, "image": i} for c, i in containers]},
        "status": {"phase": "Running", "containerStatuses": statuses},
    }


AGENT_IMAGE = "ghcr.io/kubewise/kubewise:0.1.0"
AGENT_CONTAINERS = [("agent", AGENT_IMAGE), ("autoscaler", "registry.k8s.io/cpa/cpvpa:v0.8.4")]


def agent_pod(*, waiting: str = "", restarts: int = 0) -> dict[str, Any]:
    ready = not waiting
    statuses = [
        container_status("agent", AGENT_IMAGE, ready=ready, waiting=waiting, restarts=restarts),
        container_status("autoscaler", AGENT_CONTAINERS[1][1]),
    ]
    return pod("kubewise-agent", "kubewise-agent-7d9f-abcde", AGENT_CONTAINERS, statuses)


def installed(provider: str = "eks") -> FakeApi:
    """The agent and the controller installed as `kubewise connect --controller --apply` does."""
    agent = AgentInstall(
        api_url=API_URL,
        api_key=API_KEY,
        cluster_id="c-1",
        provider=provider,
        image=AGENT_IMAGE,
        version="0.1.0",
        env={"EKS_ACCOUNT_ID": "111122223333", "EKS_REGION": "eu-central-1", "EKS_CLUSTER_NAME": "prod"},
        cloud_identity=IRSA,
    )
    controller = ControllerInstall(
        api_url=API_URL,
        cluster_id="c-1",
        image=AGENT_IMAGE,
        version="0.1.0",
        region="eu-central-1",
        cluster_name="prod",
        launch_template="lt-0abc",
        subnets="eu-central-1a=subnet-1",
    )
    fake = FakeApi()
    for obj in [*agent_manifests(agent), *controller_manifests(controller)]:
        if obj["kind"] in LIST_PATHS:
            fake.objects[LIST_PATHS[obj["kind"]]].append(obj)
    for deployment in fake.objects["/apis/apps/v1/deployments"]:
        deployment["status"] = {"readyReplicas": 1}
    fake.objects[NODES] = [eks_node(f"n{i}") for i in range(3)]
    controller_pod = pod(
        "kubewise-controller",
        "kubewise-controller-5c6d-fghij",
        [("controller", AGENT_IMAGE)],
        [container_status("controller", AGENT_IMAGE)],
    )
    fake.objects[PODS] = [agent_pod(), controller_pod]
    fake.logs[(NS, "kubewise-agent-7d9f-abcde", "agent", False)] = _line("info", "sent snapshot")
    return fake


def _line(level: str, msg: str) -> str:
    """A line as the agent writes it (`agent.main`'s JSON lines)."""
    return json.dumps({"time": "2026-12-02T05:00:00+0000", "level": level, "msg": msg})


def _fatal(exc: Exception) -> str:
    message = str(exc) if str(exc).startswith("agent failed") else f"agent failed: {exc}"
    return _line("critical", message)


def crashing(fake: FakeApi, fatal_line: str) -> None:
    """The agent's container restarts, its last run ended on `fatal_line`."""
    fake.objects[PODS][0] = agent_pod(waiting="CrashLoopBackOff", restarts=6)
    fake.logs[(NS, "kubewise-agent-7d9f-abcde", "agent", True)] = "\n".join(
        [_line("info", "starting"), fatal_line]
    )
    fake.logs[(NS, "kubewise-agent-7d9f-abcde", "agent", False)] = ""


def run(
    fake: FakeApi, tmp_path: Path, context: str | None = None
) -> tuple[ClusterEvidence, list[str], list[str]]:
    with serve(fake) as url:
        config = write_kubeconfig(tmp_path / "kubeconfig", url)
        ev = gather_cluster(context, str(config))
    findings, ran = cluster_findings(ev)
    return ev, [f.check for f in findings], ran


def test_a_healthy_install_yields_no_finding_and_every_check_runs(tmp_path: Path) -> None:
    fake = installed()
    ev, checks, ran = run(fake, tmp_path)
    assert checks == []
    assert ran == ["cluster.api-reachable", *(name for name, _, _ in CHECKS), "cluster.crashloop"]
    assert ev.read_errors == {}
    assert ev.api_url == API_URL and ev.cluster_id == "c-1"
    assert ev.secrets["kubewise-agent"] == ["API_KEY"]
    assert ev.service_account("kubewise-agent").annotations == {"eks.amazonaws.com/role-arn": IRSA}  # type: ignore[union-attr]
    assert set(ev.cluster_roles) == {"kubewise-agent", "kubewise-controller"}
    assert ev.node_count == 3 and ev.region == "eu-central-1"
    assert {p.component for p in ev.pods} == {"agent", "controller"}
    assert {m for m, _, _ in fake.requests} == {"GET"}  # read-only


def test_the_evidence_never_holds_the_agent_key(tmp_path: Path) -> None:
    fake = installed()
    fake.logs[(NS, "kubewise-agent-7d9f-abcde", "agent", False)] = f"debug: using key {API_KEY}"
    ev, _, _ = run(fake, tmp_path)
    text = json.dumps(ev.to_json())
    assert API_KEY not in text
    assert base64.b64encode(API_KEY.encode()).decode() not in text
    assert "API_KEY" in text  # the key's name is kept: the checks need it


def test_evidence_round_trips_through_json(tmp_path: Path) -> None:
    ev, _, _ = run(installed(), tmp_path)
    assert ClusterEvidence.from_json(json.loads(json.dumps(ev.to_json()))) == ev


def test_invalid_api_key_from_the_agents_own_401(tmp_path: Path) -> None:
    transport = httpx.MockTransport(
        lambda _: httpx.Response(401, json={"message": "invalid or revoked API key"})
    )
    platform = PlatformClient(API_URL, "kw_revoked", transport=transport, attempts=1)
    with pytest.raises(AgentFatal) as failed:
        platform.snapshot("c-1", 1, [])
    fake = installed()
    crashing(fake, _fatal(failed.value))
    ev, checks, _ = run(fake, tmp_path)
    assert checks == ["agent.invalid-api-key"]
    finding = cluster_findings(ev)[0][0]
    assert "CrashLoopBackOff" in finding.title
    assert "kubewise connect --apply" in finding.fix
    assert any("invalid API key (401)" in e for e in finding.evidence)


def test_blocked_network_from_the_agents_own_connection_error(tmp_path: Path) -> None:
    platform = PlatformClient(f"http://127.0.0.1:{closed_port()}", "kw_x", attempts=1, max_wait=0.01)
    with pytest.raises(AgentFatal) as failed:
        platform.register({"eks": {}})
    fake = installed()
    crashing(fake, _fatal(failed.value))
    ev, checks, _ = run(fake, tmp_path)
    assert checks == ["agent.network-blocked"]
    assert "refused" in cluster_findings(ev)[0][0].cause


def test_missing_rbac_from_the_agents_own_403(tmp_path: Path) -> None:
    denied = FakeApi()
    denied.failures[PODS] = (403, status(403, "Forbidden", 'pods is forbidden: cannot list resource "pods"'))
    with serve(denied) as url, pytest.raises(ClusterReadError) as failed:
        read_cluster(None, str(write_kubeconfig(tmp_path / "denied", url)))
    fake = installed()
    crashing(fake, _fatal(failed.value))
    _, checks, _ = run(fake, tmp_path)
    assert checks == ["agent.missing-rbac"]


def test_missing_rbac_from_a_cluster_role_without_a_resource(tmp_path: Path) -> None:
    fake = installed()
    role = next(r for r in fake.objects[CLUSTERROLES] if r["metadata"]["name"] == "kubewise-agent")
    role["rules"] = [r for r in role["rules"] if "apps" not in r["apiGroups"]]
    ev, checks, _ = run(fake, tmp_path)
    assert checks == ["agent.missing-rbac"]
    evidence = cluster_findings(ev)[0][0].evidence
    assert "missing: list apps/deployments" in evidence


def test_wrong_provider_from_the_agents_own_discovery(tmp_path: Path) -> None:
    nodes = [eks_node("n1")]
    with pytest.raises(DiscoveryError) as failed:
        discover(AgentSettings(provider="gke"), nodes, None, {})
    fake = installed(provider="gke")
    crashing(fake, _fatal(failed.value))
    ev, checks, _ = run(fake, tmp_path)
    assert checks == ["agent.wrong-provider"]
    finding = cluster_findings(ev)[0][0]
    assert "PROVIDER=gke" in finding.cause and "eks" in finding.fix


def test_deleted_agent_deployment_is_not_responding(tmp_path: Path) -> None:
    fake = installed()
    fake.objects["/apis/apps/v1/deployments"] = [
        d for d in fake.objects["/apis/apps/v1/deployments"] if d["metadata"]["name"] != "kubewise-agent"
    ]
    fake.objects[PODS] = fake.objects[PODS][1:]
    ev, checks, _ = run(fake, tmp_path)
    assert checks == ["agent.not-installed"]
    finding = cluster_findings(ev)[0][0]
    assert "Not responding" in finding.title and "kubewise connect --apply" in finding.fix


def _pull_event(namespace: str, message: str) -> dict[str, Any]:
    return {
        "metadata": {"name": "web.1", "namespace": namespace},
        "involvedObject": {"kind": "Pod", "name": "web-1"},
        "reason": "Failed",
        "type": "Warning",
        "message": message,
        "lastTimestamp": "2026-12-02T04:59:00Z",
    }


_ACR_401 = (
    'Failed to pull image "acme.azurecr.io/shop/web:1.4": failed to pull and unpack image '
    '"acme.azurecr.io/shop/web:1.4": failed to resolve reference "acme.azurecr.io/shop/web:1.4": '
    "failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized"
)


def test_image_pull_401_on_aks_names_acr_pull(tmp_path: Path) -> None:
    fake = installed()
    fake.objects[NODES] = [
        {
            "metadata": {
                "name": "aks-1",
                "labels": {"kubernetes.azure.com/cluster": "MC_rg_prod_westeurope"},
            },
            "spec": {"providerID": "azure:///subscriptions/s/resourceGroups/mc/providers/x/aks-1"},
        }
    ]
    fake.objects[EVENTS] = [_pull_event("shop", _ACR_401), _pull_event("shop", "Pulling image")]
    ev, checks, _ = run(fake, tmp_path)
    assert "cluster.image-pull-unauthorized" in checks
    finding = next(f for f in cluster_findings(ev)[0] if f.check == "cluster.image-pull-unauthorized")
    assert "AcrPull" in finding.fix and "--attach-acr acme" in finding.fix
    assert "acme.azurecr.io/shop/web:1.4" in finding.cause


def test_image_pull_401_elsewhere_names_pull_secrets(tmp_path: Path) -> None:
    fake = installed()
    message = _ACR_401.replace("acme.azurecr.io", "registry.acme.internal")
    fake.objects[EVENTS] = [_pull_event("shop", message)]
    ev, checks, _ = run(fake, tmp_path)
    assert checks == ["cluster.image-pull-unauthorized"]
    assert "imagePullSecret" in cluster_findings(ev)[0][0].fix


def test_unreachable_api_server_says_check_your_firewall(tmp_path: Path) -> None:
    ev, checks, ran = run(installed(), tmp_path, context="dead")
    assert not ev.reachable and ev.error_kind == "unreachable"
    assert checks == ["cluster.api-unreachable"] and ran == ["cluster.api-reachable"]
    finding = cluster_findings(ev)[0][0]
    assert finding.title == "No access to Kubernetes API server, please check your firewall settings"


def test_rejected_kubeconfig_credentials(tmp_path: Path) -> None:
    ev, checks, _ = run(installed(), tmp_path, context="stale")
    assert checks == ["cluster.api-credentials-rejected"] and ev.error_kind == "unauthorized"


def test_missing_kubeconfig_is_recorded_not_raised(tmp_path: Path) -> None:
    ev = gather_cluster(None, str(tmp_path / "nowhere"))
    assert ev.error_kind == "kubeconfig"
    assert [f.check for f in cluster_findings(ev)[0]] == ["cluster.kubeconfig-invalid"]


def test_a_forbidden_read_is_recorded_and_its_checks_do_not_run(tmp_path: Path) -> None:
    fake = installed()
    fake.failures["/apis/apps/v1/namespaces/kubewise-agent/deployments"] = (
        403,
        status(
            403, "Forbidden", 'deployments.apps is forbidden: User "dev" cannot list resource "deployments"'
        ),
    )
    ev, checks, ran = run(fake, tmp_path)
    assert "deployments" in ev.read_errors and "403" in ev.read_errors["deployments"]
    assert checks == []  # no "not installed" from a listing doctor was not allowed to make
    assert "agent.installed" not in ran and "agent.api-key" in ran


def test_logs_tail_and_previous_run_are_recorded(tmp_path: Path) -> None:
    fake = installed()
    crashing(fake, _line("critical", "agent failed: something new"))
    fake.logs[(NS, "kubewise-agent-7d9f-abcde", "agent", False)] = "\n".join(f"line {i}" for i in range(500))
    ev, checks, _ = run(fake, tmp_path)
    agent = ev.pods_of("agent")[0].containers[0]
    assert agent.logs[0] == "line 300" and len(agent.logs) == LOG_LINES
    assert agent.previous_logs[-1].endswith('"agent failed: something new"}')
    assert agent.waiting_reason == "CrashLoopBackOff" and agent.restart_count == 6
    assert checks == ["agent.crashloop"]  # a cause doctor does not know: state and last line shown
    logs = [q for m, p, q in fake.requests if p.endswith("/log")]
    assert {q["previous"][0].lower() for q in logs} == {"true", "false"}
    assert {q["tailLines"][0] for q in logs} == {str(LOG_LINES)}


def test_agent_credentials_read_url_and_key_without_evidence(tmp_path: Path) -> None:
    fake = installed()
    with serve(fake) as url:
        config = str(write_kubeconfig(tmp_path / "kubeconfig", url))
        assert agent_credentials(None, config) == (API_URL, API_KEY)
        assert agent_credentials("dead", config) is None
        fake.objects[SECRETS] = []
        assert agent_credentials(None, config) is None
