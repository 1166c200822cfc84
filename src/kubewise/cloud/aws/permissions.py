"""`probe_ec2_read`: may the AWS credentials at hand read what kubewise reads from EC2?

Called by `kubewise doctor` (`doctor.cloud_gather`) with boto3's default credential chain
(environment, shared files, SSO, web identity, instance profile). It makes read calls only --
`sts:GetCallerIdentity`, `ec2:DescribeInstances`, `ec2:DescribeSpotPriceHistory`, each asking for
one item -- and reports each action's outcome with AWS's own error code, never a credential.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

__all__ = ["EC2_READ_ACTIONS", "OK", "AwsReadAccess", "probe_ec2_read"]

OK = "ok"
EC2_READ_ACTIONS = ("ec2:DescribeInstances", "ec2:DescribeSpotPriceHistory")
_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=15)


@dataclass(frozen=True)
class AwsReadAccess:
    region: str
    credentials: bool  # did the default chain find any
    identity: str = ""  # the caller's ARN, when STS said
    outcomes: dict[str, str] = field(default_factory=dict)  # action -> OK or AWS's error code
    messages: dict[str, str] = field(default_factory=dict)  # action -> AWS's message, when it failed


def _outcome(call: Callable[[], Any]) -> tuple[str, str, Any]:
    try:
        return OK, "", call()
    except NoCredentialsError:
        return "NoCredentialProviders", "no valid providers in chain", None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return str(error.get("Code") or "ClientError"), str(error.get("Message") or ""), None
    except BotoCoreError as exc:
        return type(exc).__name__, " ".join(str(exc).split())[:300], None


def probe_ec2_read(region: str, *, endpoint_url: str | None = None) -> AwsReadAccess:
    """The outcome of each EC2 read kubewise needs, in `region`, with the default credentials."""
    session = boto3.session.Session(region_name=region)
    if session.get_credentials() is None:
        return AwsReadAccess(region, credentials=False)
    sts = session.client("sts", endpoint_url=endpoint_url, config=_CONFIG)
    ec2 = session.client("ec2", endpoint_url=endpoint_url, config=_CONFIG)
    _, _, who = _outcome(sts.get_caller_identity)
    calls: dict[str, Callable[[], Any]] = {
        "ec2:DescribeInstances": lambda: ec2.describe_instances(MaxResults=5),
        "ec2:DescribeSpotPriceHistory": lambda: ec2.describe_spot_price_history(
            MaxResults=1, StartTime=dt.datetime.now(dt.UTC), ProductDescriptions=["Linux/UNIX"]
        ),
    }
    outcomes, messages = {}, {}
    for action, call in calls.items():
        outcome, message, _ = _outcome(call)
        outcomes[action] = outcome
        if message:
            messages[action] = message
    return AwsReadAccess(
        region,
        credentials=True,
        identity=str((who or {}).get("Arn", "")),
        outcomes=outcomes,
        messages=messages,
    )
