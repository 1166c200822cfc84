"""`kubewise agent --once` end to end: a fake Kubernetes API, a real platform server, env configuration."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cli_cluster import node, pod
from typer.testing import CliRunner

from fake_kube_api import METRICS, NODES, PODS, FakeApi, serve, write_kubeconfig
from kubewise.cli.main import app
from live_server import live_server


@pytest.fixture
def kube(tmp_path: Path):  # type: ignore[no-untyped-def]
    fake = FakeApi(
        {
            NODES: [node("ip-10-0-0-1", "m5.large", "us-east-1a")],
            PODS: [pod("api-0", "shop", node_name="ip-10-0-0-1")],
        }
    )
    with serve(fake) as url:
        yield fake, write_kubeconfig(tmp_path / "kubeconfig", url)


def test_once_registers_and_sends_a_read_only_snapshot(
    kube,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    fake, kubeconfig = kube
    with live_server(tmp_path) as (url, key):
        for name, value in {
            "API_URL": url,
            "API_KEY": key,
            "PROVIDER": "eks",
            "EKS_ACCOUNT_ID": "111122223333",
            "EKS_REGION": "us-east-1",
            "EKS_CLUSTER_NAME": "prod",
        }.items():
            monkeypatch.setenv(name, value)
        r = CliRunner().invoke(app, ["agent", "--once", "--kubeconfig", str(kubeconfig)])
        assert r.exit_code == 0, r.output
        listed = httpx.get(f"{url}/v1/kubernetes/external-clusters", headers={"X-API-Key": key}).json()[
            "items"
        ]
        assert [(c["name"], c["status"]) for c in listed] == [("prod", "Connected")]
        cost = httpx.get(
            f"{url}/v1/kubernetes/clusters/{listed[0]['id']}/cost", headers={"X-API-Key": key}
        ).json()
        assert [n["name"] for n in cost["nodes"]] == ["ip-10-0-0-1"]
        assert {method for method, _, _ in fake.requests} == {"GET"}  # it only reads the cluster
        assert "/apis/apps/v1/deployments" in {path for _, path, _ in fake.requests}
        assert METRICS in {path for _, path, _ in fake.requests}  # one round of usage too
        conditions = {c["type"]: c["status"] for c in listed[0]["conditions"]}
        assert conditions["MetricsAvailable"] == "True"
        monkeypatch.setenv("API_KEY", "kw_0123456789abcdef_wrong")
        r = CliRunner().invoke(app, ["agent", "--once", "--kubeconfig", str(kubeconfig)])
        assert r.exit_code == 1
        assert "agent failed: registering cluster: invalid API key (401)" in r.stderr
        assert "wrong" not in r.stderr


def test_bad_configuration_and_rbac_forbidden(kube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    fake, kubeconfig = kube
    monkeypatch.setenv("PROVIDER", "openstack")
    r = CliRunner().invoke(app, ["agent", "--once", "--kubeconfig", str(kubeconfig)])
    assert r.exit_code == 2 and "provider" in r.stderr.lower()
    monkeypatch.setenv("PROVIDER", "eks")
    monkeypatch.setenv("API_KEY", "kw_0123456789abcdef_x")
    fake.failures[NODES] = (
        403,
        {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "nodes is forbidden"},
    )
    r = CliRunner().invoke(app, ["agent", "--once", "--kubeconfig", str(kubeconfig)])
    assert r.exit_code == 1 and "cannot list nodes: forbidden (403)" in r.stderr
