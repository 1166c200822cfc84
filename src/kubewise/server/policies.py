"""The cluster policies document: fields as the reference system names them, validated, safe defaults.

Automation is off until the user turns it on: every `enabled` defaults to false.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

__all__ = ["Policies", "Rightsizing"]


class _Doc(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class UnschedulablePods(_Doc):
    enabled: bool = False


class EmptyNodes(_Doc):
    enabled: bool = False
    delay_seconds: int = Field(default=300, ge=0, le=7 * 24 * 3600)


class NodeDownscaler(_Doc):
    enabled: bool = False
    empty_nodes: EmptyNodes = Field(default_factory=EmptyNodes)


class CpuLimits(_Doc):
    min_cores: int = Field(default=1, ge=0)
    max_cores: int = Field(default=20, ge=1)


class ClusterLimits(_Doc):
    enabled: bool = False
    cpu: CpuLimits = Field(default_factory=CpuLimits)

    @model_validator(mode="after")
    def _ordered(self) -> ClusterLimits:
        if self.cpu.min_cores > self.cpu.max_cores:
            raise ValueError(
                f"cpu.minCores ({self.cpu.min_cores}) must not exceed cpu.maxCores ({self.cpu.max_cores})"
            )
        return self


class SpotBackups(_Doc):
    enabled: bool = False
    spot_backup_restore_rate_seconds: int = Field(default=1800, ge=60)


class SpotInstances(_Doc):
    enabled: bool = False
    spot_diversity_enabled: bool = False
    spot_diversity_price_increase_limit_percent: int = Field(default=20, ge=0, le=1000)
    spot_backups: SpotBackups = Field(default_factory=SpotBackups)


class Evictor(_Doc):
    enabled: bool = False
    aggressive_mode: bool = False  # also moves pods of single-replica workloads and bare pods
    cycle_interval: int = Field(default=300, ge=10, le=24 * 3600, description="seconds between evictor runs")


class Rightsizing(_Doc):
    """Workload rightsizing: recommendations for opted-in workloads (annotation) when `enabled`;
    workloads in mode "apply" get their requests changed only when `applyEnabled` too."""

    enabled: bool = False
    apply_enabled: bool = False
    cpu_percentile: float = Field(default=90.0, gt=0, le=100, description="percentile of CPU usage, e.g. 90")
    memory_percentile: float = Field(default=95.0, gt=0, le=100, description="percentile of memory peaks")
    safety_margin_percent: float = Field(default=15.0, ge=0, le=1000)
    min_data_hours: float = Field(default=24.0, ge=0, le=24 * 90)
    min_cpu_millicores: int = Field(default=25, ge=1)
    max_cpu_millicores: int = Field(default=64_000, ge=1)
    min_memory_bytes: int = Field(default=64 * 2**20, ge=2**20)
    max_memory_bytes: int = Field(default=256 * 2**30, ge=2**20)
    memory_limit_policy: Literal["keep-ratio", "remove", "equal-to-request"] = "keep-ratio"

    @model_validator(mode="after")
    def _ordered(self) -> Rightsizing:
        if self.min_cpu_millicores > self.max_cpu_millicores:
            raise ValueError(
                f"minCpuMillicores ({self.min_cpu_millicores}) must not exceed maxCpuMillicores"
                f" ({self.max_cpu_millicores})"
            )
        if self.min_memory_bytes > self.max_memory_bytes:
            raise ValueError(
                f"minMemoryBytes ({self.min_memory_bytes}) must not exceed maxMemoryBytes"
                f" ({self.max_memory_bytes})"
            )
        return self


class Policies(_Doc):
    enabled: bool = False
    unschedulable_pods: UnschedulablePods = Field(default_factory=UnschedulablePods)
    node_downscaler: NodeDownscaler = Field(default_factory=NodeDownscaler)
    cluster_limits: ClusterLimits = Field(default_factory=ClusterLimits)
    spot_instances: SpotInstances = Field(default_factory=SpotInstances)
    evictor: Evictor = Field(default_factory=Evictor)
    rightsizing: Rightsizing = Field(default_factory=Rightsizing)
