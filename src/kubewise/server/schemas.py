"""Wire shapes of the API (pydantic v2), named and cased like the reference system's public API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "AksCluster",
    "ClusterList",
    "ClusterRegistration",
    "ClusterView",
    "Condition",
    "Delta",
    "EksCluster",
    "GkeCluster",
    "Heartbeat",
    "KopsCluster",
    "PodUsage",
    "Snapshot",
    "UsageReport",
]

_NAME = Field(min_length=1, max_length=200)
_ID = Field(min_length=1, max_length=128)


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class EksCluster(Wire):
    account_id: str = _ID
    region: str = _ID
    cluster_name: str = _NAME


class GkeCluster(Wire):
    project_id: str = _ID
    location: str = _ID  # a region or a zone
    cluster_name: str = _NAME


class AksCluster(Wire):
    subscription_id: str = _ID
    resource_group: str = _ID
    location: str = _ID
    cluster_name: str = _NAME


class KopsCluster(Wire):
    cloud: Literal["aws", "gcp", "azure"] = "aws"
    region: str = _ID
    cluster_name: str = _NAME
    state_store: str | None = Field(default=None, max_length=500)


PROVIDERS = ("eks", "gke", "aks", "kops")


class ClusterRegistration(Wire):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    eks: EksCluster | None = None
    gke: GkeCluster | None = None
    aks: AksCluster | None = None
    kops: KopsCluster | None = None

    @model_validator(mode="after")
    def _one_provider(self) -> ClusterRegistration:
        given = [p for p in PROVIDERS if getattr(self, p) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(PROVIDERS)} (got {len(given) or 'none'})")
        return self

    @property
    def provider(self) -> str:
        return next(p for p in PROVIDERS if getattr(self, p) is not None)

    @property
    def details(self) -> EksCluster | GkeCluster | AksCluster | KopsCluster:
        detail = getattr(self, self.provider)
        assert detail is not None
        return detail  # type: ignore[no-any-return]


class ClusterView(Wire):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)
    id: str
    name: str
    organization_id: str
    provider_type: str
    status: str
    region: str
    created_at: dt.datetime
    last_heartbeat_at: dt.datetime | None
    agent_snapshot_received_at: dt.datetime | None
    agent_version: str | None
    controller_version: str | None = None  # the X-Kubewise-Version of its controller's calls
    controller_last_seen_at: dt.datetime | None = None
    conditions: list[Condition] = Field(default_factory=list)
    eks: EksCluster | None = None
    gke: GkeCluster | None = None
    aks: AksCluster | None = None
    kops: KopsCluster | None = None


class ClusterList(Wire):
    items: list[ClusterView]


class Condition(Wire):
    """Something the agent found about the cluster, e.g. `CloudReadAccess` False without EC2 read access."""

    type: str = Field(min_length=1, max_length=100)
    status: Literal["True", "False", "Unknown"]
    reason: str = Field(default="", max_length=200)
    message: str = Field(default="", max_length=2000)


class Heartbeat(Wire):
    agent_version: str | None = Field(default=None, max_length=100)
    conditions: list[Condition] | None = Field(default=None, max_length=50)


class Snapshot(Wire):
    """The agent's full view: every object it watches, and the sequence number deltas continue from.
    Sent whole (the defaults) or in pages 0, 1, ... of one sequence, the final one with `last`."""

    sequence: int = Field(ge=0)
    items: list[dict[str, Any]] = Field(max_length=2_000_000)
    page: int = Field(default=0, ge=0)
    last: bool = True


class Change(Wire):
    op: Literal["upsert", "delete"]
    object: dict[str, Any]


class Delta(Wire):
    sequence: int = Field(ge=1)  # the last applied sequence + 1
    changes: list[Change] = Field(max_length=100_000)


class ActionResult(Wire):
    """The cluster controller's word on one action."""

    status: Literal["done", "failed"]
    message: str = Field(default="", max_length=2000)


class Offering(Wire):
    instance_type: str = Field(min_length=1, max_length=100)
    capacity_type: Literal["on-demand", "spot"]


class SpotPriceReport(Wire):
    """What spot capacity costs now in the cluster's region, USD per hour by instance type."""

    prices: dict[str, float] = Field(max_length=20_000)

    @field_validator("prices")
    @classmethod
    def _sane(cls, prices: dict[str, float]) -> dict[str, float]:
        for name, price in prices.items():
            if not name or len(name) > 100:
                raise ValueError(f"instance type {name[:100]!r}: must be 1-100 characters")
            if not 0 < price < 10_000:
                raise ValueError(f"{name}: price {price} is not a positive hourly price")
        return prices


class CapacityReport(Wire):
    """Offerings the cloud just had no capacity for: left out of plans for `seconds`."""

    unavailable: list[Offering] = Field(max_length=500)
    seconds: int = Field(default=1800, ge=60, le=7 * 24 * 3600)


class PodUsage(Wire):
    """One pod's containers as the metrics API measured them: name -> [cpu millicores, memory bytes]."""

    namespace: str = Field(min_length=1, max_length=253)
    name: str = Field(min_length=1, max_length=253)
    containers: dict[str, tuple[float, float]] = Field(max_length=100)

    @field_validator("containers")
    @classmethod
    def _sane(cls, containers: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (cpu, memory) in containers.items():
            if not name or len(name) > 253:
                raise ValueError(f"container name {name[:253]!r}: must be 1-253 characters")
            if not (0 <= cpu < 1e9 and 0 <= memory < 1e18):  # also refuses NaN
                raise ValueError(f"{name}: [{cpu}, {memory}] is not [cpu millicores, memory bytes] >= 0")
        return containers


class UsageReport(Wire):
    """What the agent's metrics collector measured at `at` (a timezone-aware time)."""

    at: dt.datetime
    pods: list[PodUsage] = Field(max_length=200_000)

    @field_validator("at")
    @classmethod
    def _aware(cls, at: dt.datetime) -> dt.datetime:
        if at.tzinfo is None:
            raise ValueError("must carry a time zone, e.g. 2026-01-01T12:00:00Z")
        return at
