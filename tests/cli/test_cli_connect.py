"""`kubewise connect`: register from the kubeconfig's nodes, print or apply the agent's manifests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cli_cluster import node
from typer.testing import CliRunner

from fake_kube_api import NODES, FakeApi, serve, write_kubeconfig
from kubewise.cli.main import app
from live_server import live_server


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[FakeApi, Path, str, str]]:
    labels = {"alpha.eksctl.io/cluster-name": "prod"}
    fake = FakeApi({NODES: [node("ip-10-0-0-1", "m5.large", "us-east-1a", **labels)]})
    with serve(fake) as kube_url, live_server(tmp_path) as (url, key):
        yield fake, write_kubeconfig(tmp_path / "kubeconfig", kube_url), url, key


def _connect(kubeconfig: Path, url: str, key: str, *extra: str) -> Any:
    args = [
        "connect",
        "--provider",
        "eks",
        "--kubeconfig",
        str(kubeconfig),
        "--server",
        url,
        "--api-key",
        key,
        "--account-id",
        "111122223333",
        *extra,
    ]
    return CliRunner().invoke(app, args)


def test_prints_manifests_with_a_cluster_scoped_key(world: tuple[FakeApi, Path, str, str]) -> None:
    fake, kubeconfig, url, key = world
    r = _connect(kubeconfig, url, key)
    assert r.exit_code == 0, r.output
    docs = list(yaml.safe_load_all(r.stdout))
    assert docs[0]["kind"] == "Namespace" and docs[-1]["kind"] == "Deployment"
    env = {e["name"]: e.get("value") for e in docs[-1]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["EKS_CLUSTER_NAME"] == "prod" and env["EKS_REGION"] == "us-east-1"
    clusters = httpx.get(f"{url}/v1/kubernetes/external-clusters", headers={"X-API-Key": key}).json()["items"]
    assert [c["id"] for c in clusters] == [env["CLUSTER_ID"]]
    assert "registered" in r.stderr
    assert {m for m, _, _ in fake.requests} == {"GET"}  # printing changes nothing in the cluster
    again = _connect(kubeconfig, url, key)
    env2 = {
        e["name"]: e.get("value")
        for e in list(yaml.safe_load_all(again.stdout))[-1]["spec"]["template"]["spec"]["containers"][0][
            "env"
        ]
    }
    assert env2["CLUSTER_ID"] == env["CLUSTER_ID"]  # re-running registers the same cluster


def test_apply_creates_then_upgrades_in_place_and_recreates_on_immutable_fields(
    world: tuple[FakeApi, Path, str, str],
) -> None:
    fake, kubeconfig, url, key = world
    fake.writable = True
    r = _connect(kubeconfig, url, key, "--apply")
    assert r.exit_code == 0, r.output
    assert all(line.endswith(" created") for line in r.stdout.splitlines())
    deployment = "/apis/apps/v1/namespaces/kubewise-agent/deployments/kubewise-agent"
    assert (
        deployment in fake.stored
        and "/apis/rbac.authorization.k8s.io/v1/clusterroles/kubewise-agent" in fake.stored
    )
    r = _connect(kubeconfig, url, key, "--apply")
    assert r.exit_code == 0 and all(line.endswith(" configured") for line in r.stdout.splitlines())
    fake.stored[deployment]["spec"]["selector"] = {"matchLabels": {"app": "old-agent"}}  # an older install
    r = _connect(kubeconfig, url, key, "--apply")
    assert r.exit_code == 0
    assert "Deployment/kubewise-agent recreated" in r.stdout
    assert fake.stored[deployment]["spec"]["selector"] == {
        "matchLabels": {"app.kubernetes.io/name": "kubewise-agent"}
    }


def test_apply_without_rights_says_so(world: tuple[FakeApi, Path, str, str]) -> None:
    fake, kubeconfig, url, key = world
    fake.writable, fake.forbid_writes = True, True
    r = _connect(kubeconfig, url, key, "--apply")
    assert r.exit_code == 1
    assert "cannot apply Namespace/kubewise-agent: 403" in r.stderr and "cluster-admin" in r.stderr


def test_missing_identity_asks_for_the_flags(world: tuple[FakeApi, Path, str, str]) -> None:
    _, kubeconfig, url, key = world
    r = CliRunner().invoke(
        app,
        ["connect", "--provider", "eks", "--kubeconfig", str(kubeconfig), "--server", url, "--api-key", key],
    )
    assert r.exit_code == 1 and "EKS_ACCOUNT_ID" in r.stderr


def test_controller_manifests_come_with_the_cluster_identity(world: tuple[FakeApi, Path, str, str]) -> None:
    _, kubeconfig, url, key = world
    r = _connect(
        kubeconfig,
        url,
        key,
        "--controller",
        "--launch-template",
        "lt-0abc",
        "--subnets",
        "us-east-1a=subnet-1",
    )
    assert r.exit_code == 0, r.output
    docs = list(yaml.safe_load_all(r.stdout))
    (deployment,) = [
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "kubewise-controller"
    ]
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (
        env["CLUSTER_NAME"] == "prod"
        and env["AWS_REGION"] == "us-east-1"
        and env["SUBNETS"] == "us-east-1a=subnet-1"
    )
    assert env["LAUNCH_TEMPLATE"] == "lt-0abc" and env["CLUSTER_ID"]
    missing = _connect(kubeconfig, url, key, "--controller")
    assert missing.exit_code == 2 and "--controller needs" in missing.output
