"""The instance metadata the agent needs to identify its cluster, as a protocol with its error type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["CloudMetadata", "CloudQueryError", "InstanceIdentity"]


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
