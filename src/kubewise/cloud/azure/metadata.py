"""`AzureMetadata`: the Azure instance metadata service (IMDS), which on an AKS node names the cluster.

AKS node VMs live in the managed resource group `MC_<group>_<cluster>_<location>` and carry the tags
`aks-managed-cluster-name` and `aks-managed-cluster-rg`; the tags win because resource group and
cluster names may themselves contain underscores. IMDS answers only requests with `Metadata: true`.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from kubewise.cloud.metadata import CloudQueryError

__all__ = ["AZURE_IMDS_URL", "AzureMetadata"]

AZURE_IMDS_URL = "http://169.254.169.254"
_API_VERSION = "2021-02-01"
_MANAGED_GROUP = re.compile(r"^MC_(?P<rg>.+)_(?P<cluster>[^_]+)_(?P<location>[^_]+)$", re.IGNORECASE)


def _tags(compute: dict[str, Any]) -> dict[str, str]:
    listed = compute.get("tagsList")
    if isinstance(listed, list):
        return {str(t.get("name")): str(t.get("value")) for t in listed if isinstance(t, dict)}
    pairs = (p.split(":", 1) for p in str(compute.get("tags") or "").split(";") if ":" in p)
    return {k: v for k, v in pairs}


class AzureMetadata:
    def __init__(self, url: str = AZURE_IMDS_URL, *, timeout: float = 2.0) -> None:
        self._url, self._timeout = url.rstrip("/"), timeout

    def cluster_fields(self) -> dict[str, str]:
        try:
            with httpx.Client(timeout=self._timeout, headers={"Metadata": "true"}) as http:
                answer = http.get(
                    f"{self._url}/metadata/instance/compute",
                    params={"api-version": _API_VERSION, "format": "json"},
                )
                answer.raise_for_status()
            compute = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise CloudQueryError(
                "MetadataUnavailable", f"Azure instance metadata at {self._url}: {type(exc).__name__}"
            ) from None
        if not isinstance(compute, dict):
            raise CloudQueryError("MetadataUnavailable", f"unexpected answer from {self._url}")
        tags = _tags(compute)
        managed = _MANAGED_GROUP.match(str(compute.get("resourceGroupName") or ""))
        found = {
            "subscriptionId": compute.get("subscriptionId"),
            "resourceGroup": tags.get("aks-managed-cluster-rg") or (managed and managed.group("rg")),
            "clusterName": tags.get("aks-managed-cluster-name") or (managed and managed.group("cluster")),
            "location": compute.get("location") or (managed and managed.group("location")),
        }
        return {k: str(v) for k, v in found.items() if v}
