"""`kubewise onboard` / `offboard` end to end: moto (IAM, STS, EC2, EKS), the fake Kubernetes API for
aws-auth, and a live platform server that stores the credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import yaml
from moto import mock_aws
from typer.testing import CliRunner

from aws_world import REGION, aws_env, eks_cluster, kops_cluster
from fake_kube_api import FakeApi, serve, write_kubeconfig
from kubewise.cli.main import app
from kubewise.server.app import open_database
from kubewise.server.db.engine import transaction
from kubewise.server.services.cloud_credentials import load_credentials
from kubewise.server.settings import ServerSettings
from live_server import live_server

CM = "/api/v1/namespaces/kube-system/configmaps/aws-auth"
THEIRS = [
    {"rolearn": "arn:aws:iam::123456789012:role/eks-nodes", "username": "n", "groups": ["system:nodes"]}
]


@dataclass
class World:
    url: str
    key: str
    cluster_id: str
    kube: FakeApi
    kubeconfig: Path
    db: str

    def cli(self, command: str, *extra: str, provider: str = "eks", name: str = "prod") -> Any:
        args = [command, "--provider", provider, "--cluster-name", name, "--region", REGION]
        args += ["--cluster-id", self.cluster_id, "--server", self.url, "--api-key", self.key]
        if provider == "eks":
            args += ["--kubeconfig", str(self.kubeconfig)]
        return CliRunner().invoke(app, [*args, *extra])

    def held(self) -> httpx.Response:
        return httpx.get(
            f"{self.url}/v1/kubernetes/clusters/{self.cluster_id}/cloud-credentials",
            headers={"X-API-Key": self.key},
        )

    def stored_secret(self) -> str:
        sessions = open_database(self.db, migrate=False)
        with transaction(sessions) as session:
            creds = load_credentials(session, self.cluster_id, ServerSettings(database_url=self.db))
        assert creds is not None
        return creds.secret.get_secret_value()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    aws_env(monkeypatch)
    monkeypatch.delenv("KUBEWISE_SECRET_KEY", raising=False)
    kube = FakeApi()
    kube.writable = True
    kube.stored[CM] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapRoles": yaml.safe_dump(THEIRS)},
    }
    with mock_aws(), serve(kube) as kube_url, live_server(tmp_path) as (url, key):
        eks_cluster("prod")
        body = {"eks": {"accountId": "123456789012", "region": REGION, "clusterName": "prod"}}
        r = httpx.post(f"{url}/v1/kubernetes/external-clusters", json=body, headers={"X-API-Key": key})
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube_url)
        yield World(url, key, str(r.json()["id"]), kube, kubeconfig, f"sqlite:///{tmp_path / 'server.db'}")


def _iam_names() -> set[str]:
    iam = boto3.client("iam", region_name=REGION)
    return (
        {u["UserName"] for u in iam.list_users()["Users"]}
        | {r["RoleName"] for r in iam.list_roles()["Roles"]}
        | {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]}
        | {p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]}
    )


def _mapped(world: World) -> list[dict[str, Any]]:
    data = world.kube.stored[CM]["data"]
    return list(yaml.safe_load(data.get("mapRoles") or "[]")) + list(
        yaml.safe_load(data.get("mapUsers") or "[]")
    )


def test_dry_run_then_onboard_then_again_unchanged(world: World) -> None:
    planned = world.cli("onboard", "--dry-run", "-o", "json")
    assert planned.exit_code == 0, planned.output
    doc = json.loads(planned.stdout)
    assert doc["dryRun"] is True and {c["where"] for c in doc["changes"]} == {"aws", "kubernetes", "platform"}
    assert _iam_names() == set() and _mapped(world) == THEIRS and world.held().status_code == 404
    done = world.cli("onboard", "-o", "json")
    assert done.exit_code == 0, done.output
    changes = json.loads(done.stdout)["changes"]
    assert [(c["where"], c["resource"], c["action"]) for c in changes] == [
        (c["where"], c["resource"], c["action"]) for c in doc["changes"]
    ]
    secret = world.stored_secret()
    assert secret not in done.output  # never printed without --show-credentials
    held = world.held().json()
    keys = boto3.client("iam", region_name=REGION).list_access_keys(UserName="kubewise-prod")[
        "AccessKeyMetadata"
    ]
    assert held["type"] == "access-key" and [k["AccessKeyId"] for k in keys] == [held["accessKeyId"]]
    assert _mapped(world)[0] == THEIRS[0] and any(
        e.get("userarn", "").endswith("user/kubewise-prod") for e in _mapped(world)
    )
    again = world.cli("onboard", "-o", "json")
    assert again.exit_code == 0, again.output
    assert {c["action"] for c in json.loads(again.stdout)["changes"]} == {"unchanged"}
    assert world.held().json() == held


def test_show_credentials_prints_the_new_secret_once(world: World) -> None:
    world.cli("onboard")
    rotated = world.cli("onboard", "--rotate-key", "--show-credentials", "-o", "json")
    assert rotated.exit_code == 0, rotated.output
    creds = json.loads(rotated.stdout)["credentials"]
    assert creds["secretAccessKey"] == world.stored_secret()
    assert creds["accessKeyId"] == world.held().json()["accessKeyId"]
    table = world.cli("onboard")  # the table output, key unchanged
    assert table.exit_code == 0 and world.stored_secret() not in table.output and "unchanged" in table.stdout


def test_offboard_dry_run_then_offboard_leaves_nothing(world: World) -> None:
    assert world.cli("onboard").exit_code == 0
    names = _iam_names()
    planned = world.cli("offboard", "--dry-run")
    assert planned.exit_code == 0, planned.output
    assert "would be deleted" in planned.stdout
    assert _iam_names() == names and world.held().status_code == 200 and len(_mapped(world)) == 3
    done = world.cli("offboard", "-o", "json")
    assert done.exit_code == 0, done.output
    assert _iam_names() == set() and _mapped(world) == THEIRS and world.held().status_code == 404
    assert not [p for p in world.kube.stored if "clusterrole" in p]
    again = world.cli("offboard", "-o", "json")
    assert {c["action"] for c in json.loads(again.stdout)["changes"]} == {"absent"}


def test_kops_cross_account_role(world: World) -> None:
    kops_cluster("k8s.example.com")
    principal = "arn:aws:iam::999988887777:role/kubewise-platform"
    args = ("--cross-account-role", "--trusted-principal", principal, "-o", "json")
    done = world.cli("onboard", *args, provider="kops", name="k8s.example.com")
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert "externalId" not in doc["credentials"] and world.stored_secret() not in done.stdout
    assert doc["credentials"]["roleArn"] == world.held().json()["roleArn"]
    assert not [c for c in doc["changes"] if c["where"] == "kubernetes"]  # aws-auth is EKS's
    shown = world.cli("onboard", *args, "--show-credentials", provider="kops", name="k8s.example.com")
    assert json.loads(shown.stdout)["credentials"]["externalId"] == world.stored_secret()
    assert {c["action"] for c in json.loads(shown.stdout)["changes"]} == {"unchanged"}


def test_errors_are_one_line_and_change_nothing(world: World) -> None:
    missing = world.cli("onboard", name="staging")
    assert missing.exit_code == 1 and "EKS cluster 'staging' not found" in missing.stderr
    assert "Traceback" not in missing.output and _iam_names() == set()
    world.cluster_id = "00000000-0000-0000-0000-000000000000"
    unknown = world.cli("onboard")
    assert unknown.exit_code == 1 and "404" in unknown.stderr and _iam_names() == set()
    usage = world.cli("onboard", "--cross-account-role")
    assert usage.exit_code == 2 and "--trusted-principal" in usage.stderr
