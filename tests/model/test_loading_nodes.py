"""Node loading: resources, taints, provider / region / zone / instance type, spot detection."""

from __future__ import annotations

import pytest
from model_k8s_objects import node_obj

from kubewise.model import (
    CAPACITY_ON_DEMAND,
    CAPACITY_SPOT,
    Node,
    Resources,
    Taint,
    capacity_type_from_labels,
    load_snapshot_from_objects,
)
from kubewise.model.kubectl_nodes import region_from_zone, zone_from_provider_id

GI = 1024**3


def load_node(obj: dict) -> Node:
    (node,) = load_snapshot_from_objects([obj]).nodes
    return node


def test_allocatable_and_capacity() -> None:
    node = load_node(
        node_obj(
            capacity={
                "cpu": "4",
                "memory": "16Gi",
                "pods": "110",
                "ephemeral-storage": "100Gi",
                "nvidia.com/gpu": "1",
            },
            allocatable={"cpu": "3920m", "memory": "15Gi", "pods": "110", "nvidia.com/gpu": "1"},
        )
    )
    assert node.capacity == Resources(
        {"cpu": 4000, "memory": 16 * GI, "pods": 110, "ephemeral-storage": 100 * GI, "nvidia.com/gpu": 1}
    )
    assert node.allocatable == Resources({"cpu": 3920, "memory": 15 * GI, "pods": 110, "nvidia.com/gpu": 1})


def test_missing_allocatable_falls_back_to_capacity() -> None:
    node = load_node(node_obj(capacity={"cpu": "2", "memory": "4Gi", "pods": "58"}))
    assert node.allocatable == node.capacity == Resources({"cpu": 2000, "memory": 4 * GI, "pods": 58})


def test_taints_and_unschedulable() -> None:
    spec = {
        "unschedulable": True,
        "taints": [
            {
                "key": "node.kubernetes.io/unschedulable",
                "effect": "NoSchedule",
                "timeAdded": "2024-01-01T00:00:00Z",
            },
            {"key": "dedicated", "value": "gpu", "effect": "NoExecute"},
        ],
    }
    node = load_node(node_obj(spec=spec))
    assert node.unschedulable
    assert node.taints == (
        Taint("node.kubernetes.io/unschedulable", "", "NoSchedule"),
        Taint("dedicated", "gpu", "NoExecute"),
    )


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"eks.amazonaws.com/capacityType": "SPOT"}, CAPACITY_SPOT),
        ({"eks.amazonaws.com/capacityType": "ON_DEMAND"}, CAPACITY_ON_DEMAND),
        ({"karpenter.sh/capacity-type": "spot"}, CAPACITY_SPOT),
        ({"karpenter.sh/capacity-type": "on-demand"}, CAPACITY_ON_DEMAND),
        ({"karpenter.sh/capacity-type": "reserved"}, CAPACITY_ON_DEMAND),
        ({"cloud.google.com/gke-spot": "true"}, CAPACITY_SPOT),
        ({"cloud.google.com/gke-spot": "false"}, CAPACITY_ON_DEMAND),
        ({"cloud.google.com/gke-preemptible": "true"}, CAPACITY_SPOT),
        ({"kubernetes.azure.com/scalesetpriority": "spot"}, CAPACITY_SPOT),
        ({"kubernetes.azure.com/scalesetpriority": "regular"}, CAPACITY_ON_DEMAND),
        ({"node-role.kubernetes.io/spot-worker": ""}, CAPACITY_SPOT),  # kOps: presence is enough
        ({"spot": "true"}, CAPACITY_SPOT),
        ({"spot": "false"}, CAPACITY_ON_DEMAND),
        ({"node.kubernetes.io/lifecycle": "spot"}, CAPACITY_SPOT),
        ({"node.kubernetes.io/lifecycle": "Ec2Spot"}, CAPACITY_SPOT),
        ({"node.kubernetes.io/lifecycle": "normal"}, CAPACITY_ON_DEMAND),
        ({"lifecycle": "Ec2Spot"}, CAPACITY_SPOT),
        ({"lifecycle": "OnDemand"}, CAPACITY_ON_DEMAND),
        ({"spotinst.io/node-lifecycle": "spot"}, CAPACITY_SPOT),
        ({"spotinst.io/node-lifecycle": "od"}, CAPACITY_ON_DEMAND),
        ({"scheduling.kubewise.dev/spot": "true"}, CAPACITY_SPOT),
        ({}, CAPACITY_ON_DEMAND),
    ],
)
def test_capacity_type(labels: dict[str, str], expected: str) -> None:
    assert capacity_type_from_labels(labels) == expected
    assert load_node(node_obj(labels=labels)).capacity_type == expected


def test_aws_eks_node() -> None:
    labels = {
        "node.kubernetes.io/instance-type": "m5.xlarge",
        "topology.kubernetes.io/zone": "eu-west-1b",
        "topology.kubernetes.io/region": "eu-west-1",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "eks.amazonaws.com/capacityType": "SPOT",
    }
    node = load_node(
        node_obj(
            "ip-10-0-1-2.eu-west-1.compute.internal",
            labels=labels,
            provider_id="aws:///eu-west-1b/i-0123456789abcdef0",
        )
    )
    assert (node.provider, node.instance_type, node.region, node.zone) == (
        "aws",
        "m5.xlarge",
        "eu-west-1",
        "eu-west-1b",
    )
    assert (node.arch, node.os, node.capacity_type) == ("amd64", "linux", "spot")
    assert node.provider_id == "aws:///eu-west-1b/i-0123456789abcdef0"


def test_aws_zone_and_region_from_provider_id_when_labels_are_missing() -> None:
    node = load_node(node_obj(provider_id="aws:///us-east-1a/i-0abc"))
    assert (node.provider, node.zone, node.region) == ("aws", "us-east-1a", "us-east-1")


def test_gce_node_zone_from_provider_id_and_region_from_zone() -> None:
    node = load_node(
        node_obj(
            provider_id="gce://my-project/us-central1-a/gke-pool-1-abcd",
            labels={"cloud.google.com/gke-nodepool": "pool-1"},
        )
    )
    assert (node.provider, node.zone, node.region) == ("gcp", "us-central1-a", "us-central1")


def test_azure_node_from_provider_id() -> None:
    pid = "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/vmss/virtualMachines/0"
    labels = {
        "topology.kubernetes.io/zone": "eastus-1",
        "beta.kubernetes.io/instance-type": "Standard_D4s_v5",
    }
    node = load_node(node_obj(provider_id=pid, labels=labels))
    assert (node.provider, node.zone, node.region, node.instance_type) == (
        "azure",
        "eastus-1",
        "eastus",
        "Standard_D4s_v5",
    )


@pytest.mark.parametrize(
    ("labels", "provider"),
    [
        ({"eks.amazonaws.com/nodegroup": "ng-1"}, "aws"),
        ({"karpenter.k8s.aws/instance-family": "m5"}, "aws"),
        ({"cloud.google.com/gke-nodepool": "default-pool"}, "gcp"),
        ({"kubernetes.azure.com/agentpool": "nodepool1"}, "azure"),
        ({"kubernetes.io/hostname": "kind-control-plane"}, ""),
    ],
)
def test_provider_from_labels_without_provider_id(labels: dict[str, str], provider: str) -> None:
    assert load_node(node_obj(labels=labels)).provider == provider


def test_unknown_provider_id_scheme() -> None:
    node = load_node(node_obj(provider_id="kind://docker/kind/kind-worker"))
    assert (node.provider, node.zone, node.region) == ("", "", "")


def test_beta_labels_and_node_info_fallbacks() -> None:
    labels = {
        "beta.kubernetes.io/instance-type": "c5.large",
        "failure-domain.beta.kubernetes.io/zone": "us-west-2c",
        "failure-domain.beta.kubernetes.io/region": "us-west-2",
        "beta.kubernetes.io/arch": "arm64",
    }
    status = {"nodeInfo": {"architecture": "amd64", "operatingSystem": "linux"}}
    node = load_node(node_obj(labels=labels, status=status, provider_id="aws:///us-west-2c/i-1"))
    assert (node.instance_type, node.zone, node.region) == ("c5.large", "us-west-2c", "us-west-2")
    assert node.arch == "arm64"  # label wins over nodeInfo
    assert node.os == "linux"  # from nodeInfo


def test_labels_win_over_provider_id_for_zone() -> None:
    node = load_node(
        node_obj(labels={"topology.kubernetes.io/zone": "us-east-1b"}, provider_id="aws:///us-east-1a/i-1")
    )
    assert node.zone == "us-east-1b" and node.region == "us-east-1"


@pytest.mark.parametrize(
    ("provider", "zone", "region"),
    [
        ("aws", "us-east-1a", "us-east-1"),
        ("aws", "us-west-2-lax-1a", "us-west-2"),  # local zone
        ("aws", "us-gov-west-1a", "us-gov-west-1"),
        ("aws", "ap-southeast-2c", "ap-southeast-2"),
        ("gcp", "europe-west4-b", "europe-west4"),
        ("azure", "westeurope-3", "westeurope"),
        ("azure", "0", ""),  # non-zonal AKS node
        ("", "zone-a", ""),
    ],
)
def test_region_from_zone(provider: str, zone: str, region: str) -> None:
    assert region_from_zone(provider, zone) == region


@pytest.mark.parametrize(
    ("provider_id", "zone"),
    [
        ("aws:///us-east-1a/i-0abc", "us-east-1a"),
        ("aws:///us-east-1a/fargate-ip-10-0-1-2/x", "us-east-1a"),
        ("aws:///i-0abc", ""),
        ("gce://proj/asia-east1-c/vm-1", "asia-east1-c"),
        ("gce://proj", ""),
        ("", ""),
    ],
)
def test_zone_from_provider_id(provider_id: str, zone: str) -> None:
    assert zone_from_provider_id(provider_id) == zone
