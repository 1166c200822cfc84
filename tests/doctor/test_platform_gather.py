"""`gather_platform` end to end against a real server (uvicorn + SQLite): what it records, that it never
raises for what doctor diagnoses, that the key never appears in the evidence; and the findings on it."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import httpx

from kube_objects import node_json
from kubewise import __version__
from kubewise.controller.platform import ControllerPlatform
from kubewise.doctor.platform_checks import platform_findings
from kubewise.doctor.platform_evidence import PlatformEvidence
from kubewise.doctor.platform_gather import gather_platform
from live_server import live_server

EKS = {"name": "prod", "eks": {"accountId": "111122223333", "region": "us-east-1", "clusterName": "prod"}}
NO_EC2 = {
    "type": "CloudReadAccess",
    "status": "False",
    "reason": "UnauthorizedOperation",
    "message": "ec2:DescribeInstances denied",
}


def _pod(name: str, cpu: str, node: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]
    }
    if node:
        spec["nodeName"] = node
    owner = {
        "kind": "ReplicaSet",
        "name": f"{name}-rs",
        "controller": True,
        "apiVersion": "apps/v1",
        "uid": "u",
    }
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default", "ownerReferences": [owner]},
        "spec": spec,
        "status": {"phase": "Running" if node else "Pending"},
    }


def _connect(
    url: str,
    key: str,
    *,
    agent_version: str,
    conditions: list[dict[str, str]],
    items: list[dict[str, Any]],
    policies: Any,
) -> str:
    """A cluster as `kubewise connect` and its agent and controller leave it; returns its id."""
    with httpx.Client(base_url=url, headers={"X-API-Key": key}) as http:
        cluster_id = str(http.post("/v1/kubernetes/external-clusters", json=EKS).json()["id"])
        agent_key = http.post(f"/v1/kubernetes/external-clusters/{cluster_id}/agent-key").json()["apiKey"]
        agent = {"X-API-Key": agent_key}
        beat = {"agentVersion": agent_version, "conditions": conditions}
        assert (
            http.post(f"/v1/agent/clusters/{cluster_id}/heartbeat", json=beat, headers=agent).status_code
            == 200
        )
        snap = {"sequence": 1, "items": items}
        assert (
            http.post(f"/v1/agent/clusters/{cluster_id}/snapshot", json=snap, headers=agent).status_code
            == 200
        )
        assert http.put(f"/v1/kubernetes/clusters/{cluster_id}/policies", json=policies).status_code == 200
    controller = ControllerPlatform(url, agent_key, cluster_id)  # sends its version with each call
    controller.pending()
    controller.close()
    return cluster_id


HEALTHY = {"enabled": True, "unschedulablePods": {"enabled": True}}


def test_a_healthy_platform_and_cluster_yield_no_finding(tmp_path: Path) -> None:
    with live_server(tmp_path) as (url, key):
        items = [node_json("n1"), _pod("busy", "1800m", "n1")]
        cluster_id = _connect(
            url, key, agent_version=__version__, conditions=[], items=items, policies=HEALTHY
        )
        ev = gather_platform(url, key, None)  # the organization's only cluster
    assert ev.reachable and ev.platform_version == __version__ and ev.auth_status == 200
    assert ev.scope == "full" and ev.cluster_id == cluster_id and ev.key_id == key.split("_")[1]
    assert ev.cluster is not None and ev.cluster["status"] == "Connected"
    assert ev.cluster["controllerVersion"] == __version__ and ev.cluster["controllerLastSeenAt"]
    assert ev.policies is not None and ev.policies["enabled"] is True
    assert ev.diagnosis == [] and ev.actions == []
    findings, checked = platform_findings(ev)
    assert findings == []
    assert {"platform.reachable", "platform.api-key", "cluster.status", "policy.diagnosis"} <= set(checked)
    assert key not in json.dumps(ev.to_json())
    assert PlatformEvidence.from_json(json.loads(json.dumps(ev.to_json()))) == ev


def test_old_agent_no_ec2_access_and_scale_up_off_are_found(tmp_path: Path) -> None:
    with live_server(tmp_path) as (url, key):
        items = [node_json("n1"), _pod("busy", "1800m", "n1"), _pod("web-0", "1500m")]
        cluster_id = _connect(
            url, key, agent_version="0.0.1", conditions=[NO_EC2], items=items, policies={"enabled": True}
        )
        ev = gather_platform(url, key, cluster_id)
    checks = sorted(f.check for f in platform_findings(ev)[0])
    assert checks == [
        "agent.version-mismatch",
        "cluster.cloud-read-access",
        "policy.unschedulable-pods-disabled",
    ]
    (ec2,) = [f for f in platform_findings(ev)[0] if f.check == "cluster.cloud-read-access"]
    assert "spot nodes are shown as on-demand" in ec2.title and "AmazonEC2ReadOnlyAccess" in ec2.fix


def test_a_wrong_key_is_recorded_as_the_platforms_401(tmp_path: Path) -> None:
    with live_server(tmp_path) as (url, key):
        wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
        ev = gather_platform(url, wrong, None)
    assert ev.reachable and ev.auth_status == 401 and ev.cluster is None
    assert wrong not in json.dumps(ev.to_json()) and wrong.split("_", 2)[2] not in json.dumps(ev.to_json())
    (finding,) = platform_findings(ev)[0]
    assert finding.check == "platform.invalid-api-key" and "kubewise admin create-api-key" in finding.fix


def test_an_unknown_cluster_id_and_an_agent_key(tmp_path: Path) -> None:
    with live_server(tmp_path) as (url, key):
        ev = gather_platform(url, key, "no-such-cluster")
        with httpx.Client(base_url=url, headers={"X-API-Key": key}) as http:
            cluster_id = http.post("/v1/kubernetes/external-clusters", json=EKS).json()["id"]
            agent_key = http.post(f"/v1/kubernetes/external-clusters/{cluster_id}/agent-key").json()["apiKey"]
        agent = gather_platform(url, agent_key, None)
    (finding,) = platform_findings(ev)[0]
    assert finding.check == "platform.cluster-not-found" and "404" in finding.cause
    assert agent.scope == "agent" and agent.cluster_id == cluster_id and "agent key" in agent.cluster_error
    assert platform_findings(agent)[0] == []


def test_an_unreachable_platform_is_recorded_not_raised() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ev = gather_platform(
        f"http://user:hunter2@127.0.0.1:{port}", "kw_0123456789abcdef_secret", None, timeout=2
    )
    assert not ev.reachable and "cannot reach" in ev.error
    assert ev.api_url == f"http://127.0.0.1:{port}" and "hunter2" not in json.dumps(ev.to_json())
    (finding,) = platform_findings(ev)[0]
    assert finding.check == "platform.unreachable" and finding.severity == "error"
    bad = gather_platform("ftp://nowhere", "k", None)
    assert not bad.reachable and bad.error


def test_a_platform_that_stops_answering_or_answers_garbage_is_recorded() -> None:
    def dies(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/version":
            return httpx.Response(200, json={"version": __version__})
        raise httpx.ConnectError("connection refused", request=request)

    ev = gather_platform(
        "http://platform", "kw_0123456789abcdef_secret", None, transport=httpx.MockTransport(dies)
    )
    assert not ev.reachable and "stopped answering" in ev.error
    assert [f.check for f in platform_findings(ev)[0]] == ["platform.unreachable"]

    def garbage(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/version":
            return httpx.Response(200, json={"version": __version__})
        return httpx.Response(200, text="<html>a proxy's login page</html>")

    ev = gather_platform(
        "http://platform", "kw_0123456789abcdef_secret", None, transport=httpx.MockTransport(garbage)
    )
    assert not ev.reachable and "cannot read" in ev.error
    assert [f.check for f in platform_findings(ev)[0]] == ["platform.unreachable"]
    other = gather_platform(
        "http://platform",
        "k",
        None,
        transport=httpx.MockTransport(lambda r: httpx.Response(404, text="nope")),
    )
    assert not other.reachable and "not with a kubewise platform's version" in other.error
