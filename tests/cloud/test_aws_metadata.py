"""`AwsMetadata` against moto (EC2) and a small IMDSv2 stand-in on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws

from kubewise.cloud.aws.metadata import AwsMetadata
from kubewise.cloud.metadata import CloudQueryError

TOKEN = "imds-token"


class _Imds(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        body = TOKEN.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:  # IMDSv2: no token, no answer
            self.send_response(401)
            self.end_headers()
            return
        doc = {"accountId": "111122223333", "region": "eu-central-1", "instanceId": "i-0self"}
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def imds() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Imds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_identity_document_through_imdsv2(imds: str) -> None:
    got = AwsMetadata(imds).identity()
    assert (got.account_id, got.region, got.instance_id) == ("111122223333", "eu-central-1", "i-0self")


def test_no_metadata_endpoint_is_a_cloud_error() -> None:
    with pytest.raises(CloudQueryError) as err:
        AwsMetadata("http://127.0.0.1:9", timeout=0.5).identity()
    assert err.value.code == "MetadataUnavailable"


@mock_aws
def test_instance_tags_from_describe_instances(aws_env: None) -> None:
    ec2 = boto3.client("ec2", region_name="eu-central-1")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    tags = [
        {"Key": "aws:eks:cluster-name", "Value": "prod"},
        {"Key": "kubernetes.io/cluster/prod", "Value": "owned"},
    ]
    instance = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=[{"ResourceType": "instance", "Tags": tags}]
    )["Instances"][0]["InstanceId"]
    got = AwsMetadata().instance_tags(instance, "eu-central-1")
    assert got["aws:eks:cluster-name"] == "prod" and got["kubernetes.io/cluster/prod"] == "owned"
    with pytest.raises(CloudQueryError) as err:
        AwsMetadata().instance_tags("i-0000000000000dead", "eu-central-1")
    assert "NotFound" in err.value.code


def test_no_credentials_is_no_credential_providers(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CloudQueryError) as err:
        AwsMetadata().instance_tags("i-0abc", "eu-central-1")
    assert err.value.code == "NoCredentialProviders"
    assert "no valid providers in chain" in str(err.value)


@mock_aws
def test_spot_instances_from_their_lifecycle(aws_env: None) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    spot = ec2.run_instances(
        ImageId=image, MinCount=2, MaxCount=2, InstanceMarketOptions={"MarketType": "spot"}
    )
    plain = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
    spot_ids = {i["InstanceId"] for i in spot["Instances"]}
    ids = [*spot_ids, plain["Instances"][0]["InstanceId"]]
    assert AwsMetadata().spot_instances(ids, "us-east-1") == spot_ids
    assert AwsMetadata().spot_instances([], "us-east-1") == set()
