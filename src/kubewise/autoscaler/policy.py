"""The policies the autoscaler reads, as plain values (the platform's policy document maps onto it).

Field names follow the platform's policies (`unschedulablePods`, `nodeDownscaler.emptyNodes`,
`clusterLimits.cpu`, `spotInstances`); everything is off by default, as there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["AutoscalerPolicy", "policy_from_document"]


@dataclass(frozen=True, slots=True)
class AutoscalerPolicy:
    enabled: bool = False
    unschedulable_pods: bool = False  # add nodes for pending pods
    node_downscaler: bool = False
    empty_nodes: bool = False  # remove nodes that hold only DaemonSet pods
    empty_delay_seconds: float = 300.0
    cluster_limits: bool = False
    min_cores: int = 1
    max_cores: int = 20
    spot: bool = False  # new nodes may be spot
    spot_diversity: bool = False  # offer the cloud other spot types too (a diverse fleet)
    spot_diversity_price_increase_limit_percent: float = 20.0  # ... costing at most this much more
    spot_backups: bool = False  # on-demand when no spot type can be had
    spot_backup_restore_rate_seconds: float = 1800.0  # how often a fallback node is tried back on spot
    evictor: bool = False  # consolidation: drain and remove nodes whose pods fit elsewhere
    aggressive_mode: bool = False  # also move bare pods, pods with local storage, single replicas
    evictor_interval_seconds: float = 300.0
    evictor_nodes_per_cycle: int = 1  # nodes drained per evictor run: disruption comes in small steps
    evictor_min_saving_percent: float = 20.0  # a node is replaced only when that saves this much of it
    evictor_replacement_tries: int = 3  # nodes per run whose replacement is planned (most expensive first)

    def __post_init__(self) -> None:
        if self.min_cores > self.max_cores:
            raise ValueError(f"min_cores ({self.min_cores}) must not exceed max_cores ({self.max_cores})")
        if self.empty_delay_seconds < 0:
            raise ValueError("empty_delay_seconds must be >= 0")
        if self.spot_diversity_price_increase_limit_percent < 0:
            raise ValueError("spot_diversity_price_increase_limit_percent must be >= 0")


def _get(doc: Mapping[str, Any], *path: str, default: Any) -> Any:
    for key in path:
        if not isinstance(doc, Mapping) or key not in doc:
            return default
        doc = doc[key]
    return doc


def policy_from_document(doc: Mapping[str, Any]) -> AutoscalerPolicy:
    """The platform's policy document (camelCase, as `GET .../policies` answers it) as a policy; what
    it leaves out is off, as there. The platform validates documents; the simulator reads them too."""
    return AutoscalerPolicy(
        enabled=bool(_get(doc, "enabled", default=False)),
        unschedulable_pods=bool(_get(doc, "unschedulablePods", "enabled", default=False)),
        node_downscaler=bool(_get(doc, "nodeDownscaler", "enabled", default=False)),
        empty_nodes=bool(_get(doc, "nodeDownscaler", "emptyNodes", "enabled", default=False)),
        empty_delay_seconds=float(_get(doc, "nodeDownscaler", "emptyNodes", "delaySeconds", default=300)),
        cluster_limits=bool(_get(doc, "clusterLimits", "enabled", default=False)),
        min_cores=int(_get(doc, "clusterLimits", "cpu", "minCores", default=1)),
        max_cores=int(_get(doc, "clusterLimits", "cpu", "maxCores", default=20)),
        spot=bool(_get(doc, "spotInstances", "enabled", default=False)),
        spot_diversity=bool(_get(doc, "spotInstances", "spotDiversityEnabled", default=False)),
        spot_diversity_price_increase_limit_percent=float(
            _get(doc, "spotInstances", "spotDiversityPriceIncreaseLimitPercent", default=20)
        ),
        spot_backups=bool(_get(doc, "spotInstances", "spotBackups", "enabled", default=False)),
        spot_backup_restore_rate_seconds=float(
            _get(doc, "spotInstances", "spotBackups", "spotBackupRestoreRateSeconds", default=1800)
        ),
        evictor=bool(_get(doc, "evictor", "enabled", default=False)),
        aggressive_mode=bool(_get(doc, "evictor", "aggressiveMode", default=False)),
        evictor_interval_seconds=float(_get(doc, "evictor", "cycleInterval", default=300)),
    )
