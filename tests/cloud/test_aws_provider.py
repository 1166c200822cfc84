"""`AwsProvider` on moto (EC2): instances from the launch template, idempotent per token, spot,
termination; EC2 capacity errors (injected with botocore's Stubber) become one `CapacityError`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from kubewise.cloud.aws.provider import REQUEST_TAG, AwsProvider
from kubewise.cloud.metadata import CloudQueryError
from kubewise.cloud.provider import CapacityError, NodeRequest

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsProvider]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ec2.create_launch_template(LaunchTemplateName="prod-nodes", LaunchTemplateData={"ImageId": image})
        subnets = {s["AvailabilityZone"]: s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
        yield AwsProvider(REGION, "prod", "prod-nodes", subnets)


def test_nodes_are_created_once_per_token_tagged_and_terminated(aws: AwsProvider) -> None:
    request = NodeRequest("action-1", ("m5.large",), "on-demand", "us-east-1a", 2)
    made = aws.create_nodes(request)
    assert len(made) == 2 and {i.instance_type for i in made} == {"m5.large"}
    assert all(i.zone == "us-east-1a" and i.provider_id == f"aws:///us-east-1a/{i.instance_id}" for i in made)
    assert {i.instance_id for i in aws.create_nodes(request)} == {i.instance_id for i in made}
    ec2 = boto3.client("ec2", region_name=REGION)
    tagged = ec2.describe_instances(Filters=[{"Name": f"tag:{REQUEST_TAG}", "Values": ["action-1"]}])
    assert sum(len(r["Instances"]) for r in tagged["Reservations"]) == 2  # the retry created nothing
    tags = {t["Key"]: t["Value"] for t in tagged["Reservations"][0]["Instances"][0]["Tags"]}
    assert tags["kubernetes.io/cluster/prod"] == "owned"
    aws.terminate([made[0].instance_id, "i-0000000000000000"])
    states = {i.instance_id: i.state for i in aws.describe([i.instance_id for i in made])}
    assert states[made[0].instance_id] == "terminated" and states[made[1].instance_id] != "terminated"


def test_spot_requests_use_the_spot_market(aws: AwsProvider) -> None:
    (inst,) = aws.create_nodes(NodeRequest("s-1", ("m5.large",), "spot", "us-east-1b", 1))
    assert inst.capacity_type == "spot"


def test_a_capacity_error_for_the_one_type_asked_is_a_capacity_error(aws: AwsProvider) -> None:
    stub = Stubber(aws._ec2)  # the one way to make EC2 say it has no capacity
    stub.add_response("describe_instances", {"Reservations": []})
    stub.add_client_error(
        "run_instances", "InsufficientInstanceCapacity", "We currently do not have sufficient capacity"
    )
    with stub, pytest.raises(CapacityError) as err:
        aws.create_nodes(NodeRequest("c-1", ("m5.large",), "spot", "us-east-1a", 1))
    assert err.value.offerings == (("m5.large", "spot"),)
    other = Stubber(aws._ec2)
    other.add_response("describe_instances", {"Reservations": []})
    other.add_client_error(
        "run_instances", "UnauthorizedOperation", "You are not authorized to perform this operation."
    )
    with other, pytest.raises(CloudQueryError, match="UnauthorizedOperation"):
        aws.create_nodes(NodeRequest("c-2", ("m5.large",), "on-demand", "us-east-1a", 1))


def test_a_diverse_request_is_one_instant_fleet_over_all_its_types(aws: AwsProvider) -> None:
    request = NodeRequest("f-1", ("m5.large", "m6i.large", "m5a.large"), "spot", "us-east-1a", 3)
    made = aws.create_nodes(request)
    assert len(made) == 3 and all(i.capacity_type == "spot" and i.zone == "us-east-1a" for i in made)
    assert {i.instance_type for i in made} <= set(request.instance_types)
    ec2 = boto3.client("ec2", region_name=REGION)
    (fleet,) = ec2.describe_fleets()["Fleets"]
    assert fleet["Type"] == "instant"
    overrides = fleet["LaunchTemplateConfigs"][0]["Overrides"]
    assert [o["InstanceType"] for o in overrides] == list(request.instance_types)
    assert {i.instance_id for i in aws.create_nodes(request)} == {i.instance_id for i in made}  # once


def test_a_fleet_without_capacity_in_any_pool_is_one_capacity_error(aws: AwsProvider) -> None:
    pools = ("m5.large", "m5a.large")
    no_capacity = {
        "FleetId": "fleet-1",
        "Instances": [],
        "Errors": [
            {"ErrorCode": "InsufficientInstanceCapacity", "ErrorMessage": "no capacity", "Lifecycle": "spot"}
        ],
    }
    stub = Stubber(aws._ec2)
    stub.add_response("describe_instances", {"Reservations": []})
    stub.add_response("create_fleet", no_capacity)
    with stub, pytest.raises(CapacityError) as err:
        aws.create_nodes(NodeRequest("f-2", pools, "spot", "us-east-1a", 1))
    assert err.value.offerings == (("m5.large", "spot"), ("m5a.large", "spot"))
    refused = {**no_capacity, "Errors": [{"ErrorCode": "InvalidLaunchTemplateName.NotFoundException",
                                           "ErrorMessage": "no such template"}]}  # fmt: skip
    other = Stubber(aws._ec2)
    other.add_response("describe_instances", {"Reservations": []})
    other.add_response("create_fleet", refused)
    with other, pytest.raises(CloudQueryError, match="InvalidLaunchTemplateName"):
        aws.create_nodes(NodeRequest("f-3", pools, "on-demand", "us-east-1a", 1))


def test_a_zone_without_a_subnet_is_a_clear_error(aws: AwsProvider) -> None:
    with pytest.raises(CloudQueryError, match="no subnet configured for zone mars-1a"):
        aws.create_nodes(NodeRequest("z-1", ("m5.large",), "on-demand", "mars-1a", 1))


def test_spot_prices_are_the_newest_quote_per_zone_averaged_over_the_zones(aws: AwsProvider) -> None:
    assert aws.spot_prices(["us-east-1a"])  # moto answers with its own quotes: the call is well formed
    old, new = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, 11, tzinfo=dt.UTC)
    quotes = [
        {
            "InstanceType": "m5.large",
            "AvailabilityZone": "us-east-1a",
            "SpotPrice": "0.050",
            "Timestamp": old,
        },
        {
            "InstanceType": "m5.large",
            "AvailabilityZone": "us-east-1a",
            "SpotPrice": "0.030",
            "Timestamp": new,
        },
        {
            "InstanceType": "m5.large",
            "AvailabilityZone": "us-east-1b",
            "SpotPrice": "0.040",
            "Timestamp": new,
        },
        {
            "InstanceType": "c5.large",
            "AvailabilityZone": "us-east-1b",
            "SpotPrice": "0.020",
            "Timestamp": new,
        },
    ]
    stub = Stubber(aws._ec2)
    stub.add_response("describe_spot_price_history", {"SpotPriceHistory": quotes})
    with stub:
        assert aws.spot_prices(["us-east-1a", "us-east-1b"]) == {"c5.large": 0.02, "m5.large": 0.035}
    denied = Stubber(aws._ec2)
    denied.add_client_error("describe_spot_price_history", "UnauthorizedOperation", "not authorized")
    with denied, pytest.raises(CloudQueryError, match="UnauthorizedOperation"):
        aws.spot_prices(["us-east-1a"])
