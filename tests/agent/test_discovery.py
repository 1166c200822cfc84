"""Provider discovery: environment overrides, node labels and providerIDs, the cloud for the rest."""

from __future__ import annotations

from typing import Any

import pytest

from kubewise.agent.discovery import DiscoveryError, detect_provider, discover
from kubewise.agent.settings import AgentSettings
from kubewise.cloud.metadata import CloudQueryError, InstanceIdentity


def _node(labels: dict[str, str], provider_id: str = "") -> dict[str, Any]:
    return {"kind": "Node", "metadata": {"name": "n", "labels": labels}, "spec": {"providerID": provider_id}}


EKS_NODE = _node(
    {"eks.amazonaws.com/nodegroup": "ng", "topology.kubernetes.io/region": "eu-central-1"},
    "aws:///eu-central-1a/i-0abc",
)


class FakeCloud:
    def __init__(self, tags: dict[str, str] | None = None, error: str | None = None) -> None:
        self.tags, self.error, self.asked = tags or {}, error, []

    def identity(self) -> InstanceIdentity:
        return InstanceIdentity("111122223333", "eu-central-1", "i-0self")

    def instance_tags(self, instance_id: str, region: str) -> dict[str, str]:
        self.asked.append((instance_id, region))
        if self.error:
            raise CloudQueryError(self.error, "You are not authorized to perform this operation.")
        return self.tags


def _settings(**env: str) -> AgentSettings:
    return AgentSettings(**env)  # type: ignore[arg-type]


def test_eks_overrides_need_no_cloud() -> None:
    s = _settings(
        eks_account_id="000000000000", eks_region="eu-central-1", eks_cluster_name="staging-example"
    )
    assert discover(s, [EKS_NODE], None) == {
        "eks": {"accountId": "000000000000", "region": "eu-central-1", "clusterName": "staging-example"}
    }


def test_eks_name_from_the_instance_tags() -> None:
    cloud = FakeCloud({"aws:eks:cluster-name": "prod", "Name": "x"})
    assert discover(_settings(), [EKS_NODE], cloud) == {
        "eks": {"accountId": "111122223333", "region": "eu-central-1", "clusterName": "prod"}
    }
    assert cloud.asked == [("i-0abc", "eu-central-1")]
    cloud = FakeCloud({"kubernetes.io/cluster/legacy": "owned"})
    assert discover(_settings(), [EKS_NODE], cloud)["eks"]["clusterName"] == "legacy"


def test_missing_ec2_permission_says_what_to_grant() -> None:
    with pytest.raises(DiscoveryError) as err:
        discover(_settings(), [EKS_NODE], FakeCloud(error="UnauthorizedOperation"))
    message = str(err.value)
    assert "getting cluster name: describing instance_id=i-0abc: UnauthorizedOperation" in message
    assert "AmazonEC2ReadOnlyAccess" in message and "EKS_CLUSTER_NAME" in message
    with pytest.raises(DiscoveryError, match=r"NoCredentialProviders.*AWS credentials"):
        discover(_settings(), [EKS_NODE], FakeCloud(error="NoCredentialProviders"))


@pytest.mark.parametrize(
    ("node", "provider"),
    [
        (EKS_NODE, "eks"),
        (_node({"kops.k8s.io/instancegroup": "nodes"}, "aws:///us-east-1a/i-1"), "kops"),
        (_node({"cloud.google.com/gke-nodepool": "default"}, "gce://proj/us-central1-a/vm"), "gke"),
        (_node({"kubernetes.azure.com/cluster": "MC_rg_c_eastus"}, "azure:///subscriptions/s/x"), "aks"),
    ],
)
def test_detect_provider(node: dict[str, Any], provider: str) -> None:
    assert detect_provider([node]) == provider


def test_unknown_provider_says_to_set_it() -> None:
    with pytest.raises(DiscoveryError, match="set PROVIDER"):
        detect_provider([_node({})])


def test_gke_and_aks_from_the_nodes() -> None:
    gke = _node(
        {
            "cloud.google.com/gke-nodepool": "p",
            "cloud.google.com/gke-cluster-name": "g1",
            "topology.kubernetes.io/region": "us-central1",
        },
        "gce://my-proj/us-central1-a/vm-1",
    )
    assert discover(_settings(), [gke], None) == {
        "gke": {"projectId": "my-proj", "location": "us-central1", "clusterName": "g1"}
    }
    aks = _node(
        {"kubernetes.azure.com/cluster": "MC_prod-rg_aks1_eastus", "topology.kubernetes.io/region": "eastus"},
        "azure:///subscriptions/sub-1/resourceGroups/mc_prod-rg_aks1_eastus/providers/x/vm-0",
    )
    assert discover(_settings(), [aks], None) == {
        "aks": {
            "subscriptionId": "sub-1",
            "resourceGroup": "prod-rg",
            "location": "eastus",
            "clusterName": "aks1",
        }
    }
    with pytest.raises(DiscoveryError, match="GKE_CLUSTER_NAME"):
        discover(_settings(provider="gke"), [_node({})], None)


def test_kops_name_from_the_kubernetes_cluster_tag() -> None:
    node = _node(
        {"kops.k8s.io/instancegroup": "nodes", "topology.kubernetes.io/region": "us-west-2"},
        "aws:///us-west-2a/i-0k",
    )
    cloud = FakeCloud({"KubernetesCluster": "k.example.com"})
    assert discover(_settings(), [node], cloud) == {
        "kops": {"cloud": "aws", "region": "us-west-2", "clusterName": "k.example.com"}
    }
    with pytest.raises(DiscoveryError, match="KOPS_CLUSTER_NAME"):
        discover(_settings(), [node], None)


def test_gke_cluster_from_the_metadata_server_when_the_nodes_do_not_say() -> None:
    from kubewise.cloud.gcp.metadata import GcpMetadata
    from metadata_servers import gce_metadata

    bare = _node({"cloud.google.com/gke-nodepool": "p"}, "gce://my-proj/europe-west1-b/vm-1")
    values = {
        "project/project-id": "my-proj",
        "instance/attributes/cluster-name": "g1",
        "instance/attributes/cluster-location": "europe-west1-b",
    }
    with gce_metadata(values) as url:
        got = discover(_settings(), [bare], None, {"gke": GcpMetadata(url)})
        assert got == {"gke": {"projectId": "my-proj", "location": "europe-west1-b", "clusterName": "g1"}}
        # a zonal cluster: the server's zone wins over the nodes' region label, the environment over both
        labelled = _node(
            {"cloud.google.com/gke-cluster-name": "g1", "topology.kubernetes.io/region": "europe-west1"},
            "gce://my-proj/europe-west1-b/vm-1",
        )
        assert discover(_settings(), [labelled], None, {"gke": GcpMetadata(url)})["gke"]["location"] == (
            "europe-west1-b"
        )
        pinned = discover(_settings(gke_location="europe-west1"), [labelled], None, {"gke": GcpMetadata(url)})
        assert pinned["gke"]["location"] == "europe-west1"
    # the nodes said everything: an unreachable server changes nothing
    unreachable = {"gke": GcpMetadata("http://127.0.0.1:9", timeout=0.5)}
    assert discover(_settings(), [labelled], None, unreachable)["gke"]["location"] == "europe-west1"
    with pytest.raises(DiscoveryError) as err:
        discover(_settings(), [bare], None, unreachable)
    assert "getting cluster metadata: MetadataUnavailable" in str(err.value)
    assert "set GKE_PROJECT_ID, GKE_LOCATION and GKE_CLUSTER_NAME" in str(err.value)


def test_aks_cluster_from_the_instance_metadata_when_the_nodes_do_not_say() -> None:
    from kubewise.cloud.azure.metadata import AzureMetadata
    from metadata_servers import azure_imds

    bare = _node(
        {"kubernetes.azure.com/agentpool": "pool1"}, "azure:///subscriptions/sub-1/resourceGroups/x/vm-0"
    )
    compute = {
        "subscriptionId": "sub-1",
        "resourceGroupName": "MC_prod_rg_aks_1_westeurope",
        "location": "westeurope",
        "tagsList": [
            {"name": "aks-managed-cluster-name", "value": "aks_1"},
            {"name": "aks-managed-cluster-rg", "value": "prod_rg"},
        ],
    }
    with azure_imds(compute) as url:
        got = discover(_settings(), [bare], None, {"aks": AzureMetadata(url)})
    assert got == {
        "aks": {
            "subscriptionId": "sub-1",
            "resourceGroup": "prod_rg",
            "location": "westeurope",
            "clusterName": "aks_1",
        }
    }
    with pytest.raises(DiscoveryError, match="AKS_RESOURCE_GROUP"):
        discover(_settings(), [bare], None, {"aks": AzureMetadata("http://127.0.0.1:9", timeout=0.5)})
