"""The instance metadata the agent needs to identify its cluster, as protocols with their error type.

`CloudMetadata` is AWS's shape (an identity document, then EC2 calls); `ClusterMetadata` is what the
GKE and AKS metadata servers answer directly: the cluster's own fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["CloudMetadata", "CloudQueryError", "ClusterMetadata", "InstanceIdentity"]


class CloudQueryError(RuntimeError):
    """A metadata or API call failed. `code` is the cloud's own (e.g. `UnauthorizedOperation`,
    `NoCredentialProviders`); the message is the cloud's words, without credentials."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True, slots=True)
class InstanceIdentity:
    account_id: str
    region: str
    instance_id: str


class CloudMetadata(Protocol):
    def identity(self) -> InstanceIdentity:
        """The node the caller runs on: account, region, instance id."""
        ...

    def instance_tags(self, instance_id: str, region: str) -> dict[str, str]:
        """An instance's tags (EC2 DescribeInstances)."""
        ...

    def spot_instances(self, instance_ids: list[str], region: str) -> set[str]:
        """Which of these instances are spot (EC2 DescribeInstances' InstanceLifecycle)."""
        ...


class ClusterMetadata(Protocol):
    def cluster_fields(self) -> dict[str, str]:
        """What the node's metadata server says of its cluster, named as in the platform's registration
        body (GKE: projectId, location, clusterName; AKS: subscriptionId, resourceGroup, location,
        clusterName); fields it does not know are left out."""
        ...
