"""`AzureMetadata` against a stand-in Azure instance metadata service on loopback."""

from __future__ import annotations

import pytest

from kubewise.cloud.azure.metadata import AzureMetadata
from kubewise.cloud.metadata import CloudQueryError
from metadata_servers import azure_imds

COMPUTE = {
    "subscriptionId": "sub-1",
    "resourceGroupName": "MC_prod_rg_aks_1_westeurope",
    "location": "westeurope",
    "name": "aks-nodepool1-12345678-vmss_0",
    "tagsList": [
        {"name": "aks-managed-cluster-name", "value": "aks_1"},
        {"name": "aks-managed-cluster-rg", "value": "prod_rg"},
    ],
}


def test_the_cluster_tags_win_over_the_managed_group_name() -> None:
    # MC_prod_rg_aks_1_westeurope cannot be split right: the names contain underscores
    with azure_imds(COMPUTE) as url:
        got = AzureMetadata(url).cluster_fields()
    assert got == {
        "subscriptionId": "sub-1",
        "resourceGroup": "prod_rg",
        "clusterName": "aks_1",
        "location": "westeurope",
    }


def test_without_tags_the_managed_resource_group_is_parsed() -> None:
    compute = {**COMPUTE, "tagsList": [], "resourceGroupName": "MC_prod-rg_aks1_westeurope"}
    with azure_imds(compute) as url:
        got = AzureMetadata(url).cluster_fields()
    assert got["resourceGroup"] == "prod-rg" and got["clusterName"] == "aks1"


def test_the_older_semicolon_tags_string_is_read_too() -> None:
    compute = {**COMPUTE, "tagsList": None, "tags": "aks-managed-cluster-name:c9;aks-managed-cluster-rg:r9"}
    with azure_imds(compute) as url:
        got = AzureMetadata(url).cluster_fields()
    assert got["clusterName"] == "c9" and got["resourceGroup"] == "r9"


def test_no_metadata_service_is_a_clear_error() -> None:
    with pytest.raises(CloudQueryError, match=r"MetadataUnavailable: Azure instance metadata"):
        AzureMetadata("http://127.0.0.1:9", timeout=0.5).cluster_fields()
