"""`AwsMetadata`: the instance identity document (IMDSv2) and EC2 DescribeInstances tags.

Used by the agent on EKS and kOps nodes. boto3 finds credentials the usual way (environment,
IRSA web identity, instance profile); "no credentials" and "not authorized" come back as
`CloudQueryError` with AWS's code, so the agent can say what to grant.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from kubewise.cloud.metadata import CloudQueryError, InstanceIdentity

__all__ = ["IMDS_URL", "AwsMetadata"]

IMDS_URL = "http://169.254.169.254"
_RETRIES = Config(retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=5, read_timeout=15)


class AwsMetadata:
    def __init__(
        self, imds_url: str = IMDS_URL, *, endpoint_url: str | None = None, timeout: float = 2.0
    ) -> None:
        self._imds = imds_url.rstrip("/")
        self._endpoint = endpoint_url  # tests point boto3 at a mock
        self._timeout = timeout

    def identity(self) -> InstanceIdentity:
        try:
            with httpx.Client(timeout=self._timeout) as http:
                token = http.put(
                    f"{self._imds}/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}
                )
                token.raise_for_status()
                doc = http.get(
                    f"{self._imds}/latest/dynamic/instance-identity/document",
                    headers={"X-aws-ec2-metadata-token": token.text},
                )
                doc.raise_for_status()
            body: dict[str, Any] = json.loads(doc.text)
            return InstanceIdentity(str(body["accountId"]), str(body["region"]), str(body["instanceId"]))
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise CloudQueryError(
                "MetadataUnavailable", f"instance metadata at {self._imds}: {type(exc).__name__}"
            ) from None

    def _describe(self, instance_ids: list[str], region: str) -> list[dict[str, Any]]:
        try:
            ec2 = boto3.client("ec2", region_name=region, endpoint_url=self._endpoint, config=_RETRIES)
            instances = []
            for start in range(0, len(instance_ids), 500):  # DescribeInstances takes ids in batches
                answer = ec2.describe_instances(InstanceIds=instance_ids[start : start + 500])
                instances += [i for r in answer.get("Reservations", []) for i in r.get("Instances", [])]
            return instances
        except NoCredentialsError:
            raise CloudQueryError("NoCredentialProviders", "no valid providers in chain") from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise CloudQueryError(
                str(error.get("Code", "ClientError")), str(error.get("Message", ""))
            ) from None
        except BotoCoreError as exc:
            raise CloudQueryError(type(exc).__name__, str(exc)) from None

    def instance_tags(self, instance_id: str, region: str) -> dict[str, str]:
        for instance in self._describe([instance_id], region):
            return {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
        raise CloudQueryError("InvalidInstanceID.NotFound", f"no instance {instance_id} in {region}")

    def spot_instances(self, instance_ids: list[str], region: str) -> set[str]:
        if not instance_ids:
            return set()
        found = self._describe(instance_ids, region)
        return {str(i["InstanceId"]) for i in found if i.get("InstanceLifecycle") == "spot"}
