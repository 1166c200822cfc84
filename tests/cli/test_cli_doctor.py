"""`kubewise doctor` and `kubewise debug-bundle` end to end: a cluster installed by `kubewise connect --apply`
(fake Kubernetes API), a real platform (uvicorn + SQLite), the agent's real key.

What the tests break is what users break: the agent's key revoked on the platform, the agent crashing on
it, the platform out of reach. The bundle test plants every kind of secret we know of -- the user's and
the agent's API keys, AWS keys in the agent's Secret, a password and a bearer token in its log -- and
checks that none survives in any member of the archive.
"""

from __future__ import annotations

import base64
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_cluster import node
from typer.testing import CliRunner

from fake_kube_api import (
    LIST_PATHS,
    NODES,
    PODS,
    SECRETS,
    TOKEN,
    FakeApi,
    closed_port,
    serve,
    write_kubeconfig,
)
from kubewise import __version__
from kubewise.agent.platform_client import AgentFatal, PlatformClient
from kubewise.cli.main import app
from live_server import live_server

NS = "kubewise-agent"
AGENT_POD = "kubewise-agent-6f7d8-x2x9q"
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@dataclass
class World:
    fake: FakeApi
    kubeconfig: Path
    url: str
    key: str  # the user's full key
    agent_key: str
    cluster_id: str


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _agent_pod(image: str, *, crashing: bool = False) -> dict[str, Any]:
    state = {"waiting": {"reason": "CrashLoopBackOff"}} if crashing else {"running": {}}
    status = {"name": "agent", "image": image, "ready": not crashing, "restartCount": 5 if crashing else 0}
    status["state"] = state
    if crashing:
        status["lastState"] = {"terminated": {"reason": "Error", "exitCode": 1}}
    return {
        "metadata": {
            "name": AGENT_POD,
            "namespace": NS,
            "labels": {"app.kubernetes.io/name": "kubewise-agent"},
        },
        "spec": {"nodeName": "ip-10-0-0-1", "containers": [{"name": "agent", "image": image}]},
        "status": {"phase": "Running", "containerStatuses": [status]},
    }


def _install(fake: FakeApi, kubeconfig: Path, url: str, key: str) -> tuple[str, str]:
    args = ["connect", "--provider", "eks", "--kubeconfig", str(kubeconfig), "--server", url]
    args += ["--api-key", key, "--account-id", "111122223333", "--apply"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for obj in fake.stored.values():  # what was applied is what the doctor lists
        if obj["kind"] in LIST_PATHS:
            fake.objects[LIST_PATHS[obj["kind"]]].append(obj)
    deployment = next(o for o in fake.objects["/apis/apps/v1/deployments"] if o["metadata"]["name"] == NS)
    deployment["status"] = {"readyReplicas": 1}
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    fake.objects[PODS] = [_agent_pod(image)]
    secret = next(o for o in fake.objects[SECRETS] if o["metadata"]["name"] == NS)
    agent_key = base64.b64decode(secret["data"]["API_KEY"]).decode()
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    return agent_key, str(env["CLUSTER_ID"])


def _agent_reports(url: str, agent_key: str, cluster_id: str, fake: FakeApi) -> None:
    """The agent's first heartbeat and snapshot, as it sends them once it runs."""
    headers = {"X-API-Key": agent_key}
    with httpx.Client(base_url=url, headers=headers) as http:
        beat = {"agentVersion": __version__, "conditions": []}
        assert http.post(f"/v1/agent/clusters/{cluster_id}/heartbeat", json=beat).status_code == 200
        snapshot = {"sequence": 1, "items": [{"kind": "Node", "apiVersion": "v1", **fake.objects[NODES][0]}]}
        assert http.post(f"/v1/agent/clusters/{cluster_id}/snapshot", json=snapshot).status_code == 200
    fake.logs[(NS, AGENT_POD, "agent", False)] = json.dumps({"level": "info", "msg": "sent heartbeat"})


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    labels = {"alpha.eksctl.io/cluster-name": "prod"}
    fake = FakeApi({NODES: [node("ip-10-0-0-1", "m5.large", "us-east-1a", **labels)]})
    fake.writable = True
    with serve(fake) as kube_url, live_server(tmp_path) as (url, key):
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube_url)
        agent_key, cluster_id = _install(fake, kubeconfig, url, key)
        _agent_reports(url, agent_key, cluster_id, fake)
        yield World(fake, kubeconfig, url, key, agent_key, cluster_id)


def _doctor(w: World, *extra: str) -> Any:
    args = ["doctor", "--kubeconfig", str(w.kubeconfig), "--api-key", w.key, "--no-cloud", *extra]
    return CliRunner().invoke(app, args)


def _checks(result: Any) -> list[str]:
    return [f["check"] for f in json.loads(result.stdout)["findings"]]


def test_a_healthy_install_exits_0_and_says_what_ran(world: World) -> None:
    result = _doctor(world, "-o", "json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 0, doc["findings"]
    assert doc["healthy"] is True and doc["findings"] == []
    assert {"platform.api-key", "cluster.status", "platform.agent-key"} <= set(doc["checked"])
    assert {s["what"] for s in doc["skipped"]} == {"cloud"}  # --no-cloud is said, not hidden


def test_a_revoked_agent_key_and_the_crash_it_causes(world: World, tmp_path: Path) -> None:
    database = {"KUBEWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'server.db'}"}  # live_server's
    key_id = world.agent_key.split("_")[1]
    revoked = CliRunner().invoke(app, ["admin", "revoke-api-key", "--org", "acme", key_id], env=database)
    assert revoked.exit_code == 0, revoked.output
    result = _doctor(world, "-o", "json")
    assert result.exit_code == 1
    assert "agent.invalid-api-key" in _checks(result)
    # the agent then crashes on the platform's 401: the same cause, reported once, from its own log
    world.fake.objects[PODS] = [_agent_pod("ghcr.io/kubewise/kubewise:x", crashing=True)]
    with pytest.raises(AgentFatal) as failed:  # what the agent's own client says to the platform's 401
        PlatformClient(world.url, world.agent_key, attempts=1).heartbeat(world.cluster_id, __version__, [])
    line = json.dumps({"level": "critical", "msg": f"agent failed: {failed.value}"})
    world.fake.logs[(NS, AGENT_POD, "agent", True)] = line
    crashed = _doctor(world, "-o", "json")
    assert crashed.exit_code == 1
    assert _checks(crashed).count("agent.invalid-api-key") == 1 and "agent.crashloop" not in _checks(crashed)
    table = _doctor(world)
    assert "cause" in table.stdout and "fix" in table.stdout and "kubewise connect" in table.stdout
    assert world.agent_key not in table.output and world.key not in table.output


def test_a_platform_out_of_reach_and_a_wrong_user_key(world: World) -> None:
    gone = f"http://127.0.0.1:{closed_port()}"
    result = _doctor(world, "--server", gone, "-o", "json")
    assert result.exit_code == 1 and "platform.unreachable" in _checks(result)
    wrong = CliRunner().invoke(
        app,
        ["doctor", "--no-cluster", "--no-cloud", "--server", world.url, "--api-key", "kw_0000000000000000_x"],
    )
    assert wrong.exit_code == 1 and "401" in wrong.stdout


def test_bad_usage_exits_2(world: World) -> None:
    assert _doctor(world, "-o", "yaml").exit_code == 2


def _plant_secrets(w: World) -> list[str]:
    secret = next(o for o in w.fake.objects[SECRETS] if o["metadata"]["name"] == NS)
    secret["data"].update({"AWS_ACCESS_KEY_ID": _b64(AWS_ID), "AWS_SECRET_ACCESS_KEY": _b64(AWS_SECRET)})
    password, bearer = "pg-pass-83hd72", "dG9rZW4tZm9yLXRoZS1hcGktc2VydmVy"
    lines = [
        json.dumps({"level": "info", "msg": f"connecting with key {w.agent_key}"}),
        json.dumps(
            {"level": "debug", "msg": f"database url postgresql://app:{password}@db/app password={password}"}
        ),
        json.dumps({"level": "debug", "msg": f"Authorization: Bearer {bearer}"}),
    ]
    w.fake.logs[(NS, AGENT_POD, "agent", False)] = "\n".join(lines)
    return [w.key, w.agent_key, AWS_ID, AWS_SECRET, password, bearer, TOKEN]


def test_debug_bundle_holds_everything_and_no_secret(world: World, tmp_path: Path) -> None:
    secrets = _plant_secrets(world)
    target = tmp_path / "bundle.tar.gz"
    args = ["debug-bundle", "--kubeconfig", str(world.kubeconfig), "--api-key", world.key, "--no-cloud"]
    result = CliRunner().invoke(app, [*args, "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert str(target) in result.stdout
    with tarfile.open(target) as tar:
        members = {m.name.split("/", 1)[1]: tar.extractfile(m).read().decode() for m in tar.getmembers()}  # type: ignore[union-attr]
    for name in (
        "README.txt",
        "versions.json",
        "doctor.json",
        "cluster/evidence.json",
        "platform/policies.json",
    ):
        assert name in members
    assert f"cluster/logs/{AGENT_POD}/agent.log" in members
    assert "cluster/manifests/deployments.yaml" in members and "cluster/manifests/secrets.yaml" in members
    assert json.loads(members["versions.json"])["platform"] == __version__
    assert "API_KEY: '[REDACTED]'" in members["cluster/manifests/secrets.yaml"]
    for name, text in members.items():
        for secret in secrets:
            assert secret not in text, f"{secret[:6]}... survived in {name}"
            assert _b64(secret) not in text, f"base64 of {secret[:6]}... survived in {name}"


def test_debug_bundle_refuses_a_directory(world: World, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["debug-bundle", "--no-cluster", "--no-cloud", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "directory" in result.stderr
