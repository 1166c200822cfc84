"""gather_cloud + cloud_findings on moto (EC2, IAM, STS), with IAM enforced where permissions matter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from kubewise.doctor.cloud_checks import cloud_findings
from kubewise.doctor.cloud_evidence import CloudEvidence
from kubewise.doctor.cloud_gather import cloud_target, gather_cloud
from kubewise.doctor.cluster_evidence import ClusterEvidence, DeploymentEvidence, NodeEvidence

REGION = "eu-central-1"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """Only the environment's credentials: no shared files, no profile, no instance metadata."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    yield monkeypatch


def _user(monkeypatch: pytest.MonkeyPatch, actions: list[str]) -> str:
    """An IAM user allowed `actions` only; the environment switches to its keys. Returns its secret."""
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="doctor")
    if actions:
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
        iam.put_user_policy(UserName="doctor", PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="doctor")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    return str(key["SecretAccessKey"])


def test_full_ec2_read_yields_nothing(aws_env: pytest.MonkeyPatch) -> None:
    with mock_aws():
        ev = gather_cloud("eks", REGION)
    assert ev.probed and ev.credentials
    assert ev.outcomes == {"ec2:DescribeInstances": "ok", "ec2:DescribeSpotPriceHistory": "ok"}
    assert cloud_findings(ev) == ([], ["cloud.aws-credentials", "cloud.ec2-read"])


@set_initial_no_auth_action_count(3)  # creating the user, its policy and key is not checked, the probe is
def test_user_without_ec2_read_is_missing_the_permission(aws_env: pytest.MonkeyPatch) -> None:
    with mock_aws():
        secret = _user(aws_env, ["s3:ListAllMyBuckets"])
        ev = gather_cloud("eks", REGION)
    assert set(ev.outcomes.values()) <= {"UnauthorizedOperation", "AccessDenied"}
    findings, _ = cloud_findings(ev)
    assert [f.check for f in findings] == ["cloud.ec2-read-denied"]
    assert "on-demand" in findings[0].title and "AmazonEC2ReadOnlyAccess" in findings[0].fix
    assert "user/doctor" in findings[0].cause
    assert secret not in json.dumps(ev.to_json())


@set_initial_no_auth_action_count(3)
def test_user_with_instances_but_not_spot_prices(aws_env: pytest.MonkeyPatch) -> None:
    with mock_aws():
        _user(aws_env, ["ec2:DescribeInstances"])
        ev = gather_cloud("eks", REGION)
    assert ev.outcomes["ec2:DescribeInstances"] == "ok"
    findings, _ = cloud_findings(ev)
    assert [f.check for f in findings] == ["cloud.ec2-read-denied"]
    assert findings[0].evidence[0].startswith("ec2:DescribeSpotPriceHistory: ")


@set_initial_no_auth_action_count(0)
def test_unknown_access_key_is_rejected(aws_env: pytest.MonkeyPatch) -> None:
    aws_env.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    with mock_aws():
        ev = gather_cloud("kops", REGION)
    assert [f.check for f in cloud_findings(ev)[0]] == ["cloud.aws-credentials-rejected"]


def test_no_credentials_at_all(aws_env: pytest.MonkeyPatch) -> None:
    aws_env.delenv("AWS_ACCESS_KEY_ID")
    aws_env.delenv("AWS_SECRET_ACCESS_KEY")
    ev = gather_cloud("eks", REGION)
    assert ev.probed and not ev.credentials and ev.outcomes == {}
    findings, ran = cloud_findings(ev)
    assert [f.check for f in findings] == ["cloud.no-aws-credentials"] and ran == ["cloud.aws-credentials"]


def test_other_clouds_and_unknown_regions_are_skipped() -> None:
    gke = gather_cloud("gke", "europe-west1")
    assert not gke.probed and "AWS only" in gke.skipped
    assert cloud_findings(gke) == ([], [])
    assert "region is unknown" in gather_cloud("eks", None).skipped


def test_an_endpoint_that_does_not_answer_is_a_warning() -> None:
    ev = CloudEvidence(
        "eks",
        REGION,
        probed=True,
        credentials=True,
        outcomes={"ec2:DescribeInstances": "EndpointConnectionError", "ec2:DescribeSpotPriceHistory": "ok"},
    )
    (finding,), _ = cloud_findings(ev)
    assert (finding.check, finding.severity) == ("cloud.ec2-unanswered", "warning")
    assert CloudEvidence.from_json(json.loads(json.dumps(ev.to_json()))) == ev


def test_target_from_the_cluster_evidence() -> None:
    nodes = [NodeEvidence("n", "aws:///eu-west-1a/i-0", {"topology.kubernetes.io/region": "eu-west-1"})]
    assert cloud_target(ClusterEvidence(nodes=nodes)) == ("eks", "eu-west-1")
    agent = DeploymentEvidence(
        "kubewise-agent", env={"agent": {"PROVIDER": "kops", "KOPS_REGION": "us-east-2"}}
    )
    assert cloud_target(ClusterEvidence(deployments=[agent])) == ("kops", "us-east-2")
    agent.env["agent"]["KOPS_CLOUD"] = "gcp"
    assert cloud_target(ClusterEvidence(deployments=[agent]))[0] == "kops/gcp"
