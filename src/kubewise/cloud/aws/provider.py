"""`AwsProvider`: nodes as EC2 instances from the node group's launch template (boto3).

A request for one instance type is RunInstances (spot through InstanceMarketOptions); a diverse
request (the preferred type and the spot-diversity alternatives) is one instant CreateFleet over all
of them in the request's subnet: spot with the price-capacity-optimized strategy, on-demand in the
order asked (prioritized), so EC2 picks among pools and one pool's shortage does not stop it.
Each instance is tagged with the request's client token (`kubewise.dev/request`) and the cluster's
ownership tag, so asking again with the same token finds what the first ask created instead of
creating more (what a controller restarted mid-action does). EC2 capacity errors
(InsufficientInstanceCapacity, SpotMaxPriceTooLow, MaxSpotInstanceCountExceeded, Unsupported) for
every type asked become one `CapacityError`; other errors keep AWS's code and message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from kubewise.cloud.metadata import CloudQueryError
from kubewise.cloud.provider import CapacityError, Instance, NodeRequest

__all__ = ["REQUEST_TAG", "AwsProvider"]

REQUEST_TAG = "kubewise.dev/request"
_CAPACITY_CODES = {
    "InsufficientInstanceCapacity",
    "SpotMaxPriceTooLow",
    "MaxSpotInstanceCountExceeded",
    "InsufficientCapacity",
    "Unsupported",
}
_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"})


class AwsProvider:
    def __init__(
        self,
        region: str,
        cluster_name: str,
        launch_template: str,
        subnets: Mapping[str, str],
        *,
        endpoint_url: str | None = None,
    ) -> None:
        """`launch_template`: the node group's template id (lt-...) or name; `subnets`: zone -> subnet."""
        self.region, self.cluster_name = region, cluster_name
        self.launch_template, self.subnets = launch_template, dict(subnets)
        self._ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint_url, config=_RETRIES)

    def _template(self) -> dict[str, str]:
        key = "LaunchTemplateId" if self.launch_template.startswith("lt-") else "LaunchTemplateName"
        return {key: self.launch_template, "Version": "$Default"}

    def create_nodes(self, request: NodeRequest) -> list[Instance]:
        made = self._by_token(request.client_token)
        if len(made) >= request.count:
            return made
        subnet = self.subnets.get(request.zone)
        if subnet is None:
            raise CloudQueryError("InvalidSubnet", f"no subnet configured for zone {request.zone}")
        if len(request.instance_types) > 1:
            return made + self._fleet(request, subnet, request.count - len(made))
        short: list[tuple[str, str]] = []
        for itype in request.instance_types:
            if len(made) >= request.count:
                break
            try:
                while len(made) < request.count:  # EC2 may start fewer than asked (MinCount 1)
                    got = self._run(request, itype, subnet, request.count - len(made))
                    if not got:
                        break
                    made += got
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code not in _CAPACITY_CODES:
                    raise _query_error(exc) from None
                short.append((itype, request.capacity_type))
        if not made:
            raise CapacityError(
                f"EC2 has no {request.capacity_type} capacity for {', '.join(request.instance_types)} "
                f"in {request.zone}",
                tuple(short),
            )
        return made

    def _tags(self, request: NodeRequest) -> list[dict[str, str]]:
        return [
            {"Key": REQUEST_TAG, "Value": request.client_token},
            {"Key": f"kubernetes.io/cluster/{self.cluster_name}", "Value": "owned"},
            *({"Key": k, "Value": v} for k, v in request.labels),
        ]

    def _fleet(self, request: NodeRequest, subnet: str, count: int) -> list[Instance]:
        overrides = [
            {"InstanceType": t, "SubnetId": subnet, "Priority": float(i)}
            for i, t in enumerate(request.instance_types)
        ]
        args: dict[str, Any] = {
            "Type": "instant",
            "LaunchTemplateConfigs": [
                {"LaunchTemplateSpecification": self._template(), "Overrides": overrides}
            ],
            "TargetCapacitySpecification": {
                "TotalTargetCapacity": count,
                "DefaultTargetCapacityType": request.capacity_type,
            },
            "TagSpecifications": [{"ResourceType": "instance", "Tags": self._tags(request)}],
        }
        if request.capacity_type == "spot":
            args["SpotOptions"] = {"AllocationStrategy": "price-capacity-optimized"}
        else:
            args["OnDemandOptions"] = {"AllocationStrategy": "prioritized"}
        try:
            answer = self._ec2.create_fleet(**args)
        except ClientError as exc:
            raise _query_error(exc) from None
        except (NoCredentialsError, BotoCoreError) as exc:
            raise CloudQueryError(type(exc).__name__, str(exc)) from None
        ids = [i for group in answer.get("Instances", []) for i in group.get("InstanceIds", [])]
        if ids:
            return self.describe(ids)
        errors = answer.get("Errors", [])
        other = next((e for e in errors if e.get("ErrorCode") not in _CAPACITY_CODES), None)
        if other is not None:
            raise CloudQueryError(str(other.get("ErrorCode")), str(other.get("ErrorMessage", "")))
        raise CapacityError(
            f"EC2 has no {request.capacity_type} capacity for {', '.join(request.instance_types)} "
            f"in {request.zone}",
            tuple((t, request.capacity_type) for t in request.instance_types),
        )

    def _run(self, request: NodeRequest, itype: str, subnet: str, count: int) -> list[Instance]:
        args: dict[str, Any] = {
            "LaunchTemplate": self._template(),
            "InstanceType": itype,
            "MinCount": 1,
            "MaxCount": count,
            "SubnetId": subnet,
            "TagSpecifications": [{"ResourceType": "instance", "Tags": self._tags(request)}],
        }
        if request.capacity_type == "spot":
            args["InstanceMarketOptions"] = {
                "MarketType": "spot",
                "SpotOptions": {"SpotInstanceType": "one-time"},
            }
        try:
            answer = self._ec2.run_instances(**args)
        except (NoCredentialsError, BotoCoreError) as exc:
            raise CloudQueryError(type(exc).__name__, str(exc)) from None
        return [_instance(i) for i in answer.get("Instances", [])]

    def _by_token(self, token: str) -> list[Instance]:
        found = self._describe([{"Name": f"tag:{REQUEST_TAG}", "Values": [token]}], None)
        return [i for i in found if i.state != "terminated"]

    def _describe(self, filters: list[dict[str, Any]] | None, ids: list[str] | None) -> list[Instance]:
        args: dict[str, Any] = {}
        if filters:
            args["Filters"] = filters
        if ids:
            args["InstanceIds"] = ids
        try:
            pages = self._ec2.get_paginator("describe_instances").paginate(**args)
            return [
                _instance(i) for page in pages for r in page.get("Reservations", []) for i in r["Instances"]
            ]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidInstanceID.NotFound":
                return []
            raise _query_error(exc) from None
        except (NoCredentialsError, BotoCoreError) as exc:
            raise CloudQueryError(type(exc).__name__, str(exc)) from None

    def describe(self, instance_ids: list[str]) -> list[Instance]:
        # a filter, not InstanceIds: one unknown id would fail the whole call
        return self._describe([{"Name": "instance-id", "Values": instance_ids}], None) if instance_ids else []

    def spot_prices(self, zones: Sequence[str]) -> dict[str, float]:
        """DescribeSpotPriceHistory from now: the newest Linux price of each type in each of `zones`,
        averaged over the zones."""
        args: dict[str, Any] = {
            "ProductDescriptions": ["Linux/UNIX", "Linux/UNIX (Amazon VPC)"],
            "StartTime": dt.datetime.now(dt.UTC),
        }
        if zones:
            args["Filters"] = [{"Name": "availability-zone", "Values": list(zones)}]
        newest: dict[tuple[str, str], tuple[dt.datetime, float]] = {}
        try:
            for page in self._ec2.get_paginator("describe_spot_price_history").paginate(**args):
                for quote in page.get("SpotPriceHistory", []):
                    key = (str(quote["InstanceType"]), str(quote.get("AvailabilityZone", "")))
                    when, price = quote["Timestamp"], float(quote["SpotPrice"])
                    if key not in newest or when > newest[key][0]:
                        newest[key] = (when, price)
        except ClientError as exc:
            raise _query_error(exc) from None
        except (NoCredentialsError, BotoCoreError) as exc:
            raise CloudQueryError(type(exc).__name__, str(exc)) from None
        by_type: dict[str, list[float]] = {}
        for (itype, _), (_, price) in newest.items():
            by_type.setdefault(itype, []).append(price)
        return {t: round(sum(p) / len(p), 6) for t, p in sorted(by_type.items())}

    def terminate(self, instance_ids: list[str]) -> None:
        known = [i.instance_id for i in self.describe(instance_ids)]  # unknown ids would fail the call
        if not known:
            return
        try:
            self._ec2.terminate_instances(InstanceIds=known)
        except ClientError as exc:
            raise _query_error(exc) from None


def _instance(raw: Mapping[str, Any]) -> Instance:
    zone = str(raw.get("Placement", {}).get("AvailabilityZone", ""))
    iid = str(raw["InstanceId"])
    return Instance(
        iid,
        str(raw.get("InstanceType", "")),
        "spot" if raw.get("InstanceLifecycle") == "spot" else "on-demand",
        zone,
        {"shutting-down": "terminated", "stopped": "terminated"}.get(
            str(raw.get("State", {}).get("Name", "pending")), str(raw.get("State", {}).get("Name", "pending"))
        ),
        f"aws:///{zone}/{iid}",
    )


def _query_error(exc: ClientError) -> CloudQueryError:
    error = exc.response.get("Error", {})
    return CloudQueryError(str(error.get("Code", "ClientError")), str(error.get("Message", "")))
