"""Plan, constraints and savings-report types: the optimizer's public data.

Produced by `optimizer.planner` / `optimizer.report`; read by the CLI (JSON contract), benchmarks and,
later, the autoscaler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubewise.catalog.types import InstanceType
from kubewise.model import CAPACITY_ON_DEMAND, Pod, Taint

__all__ = ["Constraints", "NodeTemplate", "Plan", "PlannedNode", "UnschedulablePod"]


@dataclass(frozen=True, slots=True)
class NodeTemplate:
    """Labels and taints that new nodes made from this template carry (like a node group / pool)."""

    name: str = "default"
    labels: tuple[tuple[str, str], ...] = ()
    taints: tuple[Taint, ...] = ()


@dataclass(frozen=True, slots=True)
class Constraints:
    """What a plan may use. None means "no restriction"."""

    families: frozenset[str] | None = None
    exclude_families: frozenset[str] = frozenset()
    arch: frozenset[str] | None = None  # None: the current nodes' architectures (all if no nodes)
    capacity_types: tuple[str, ...] = (CAPACITY_ON_DEMAND,)
    zones: tuple[str, ...] | None = None  # None: zones of the current nodes, else the region's default
    min_vcpu: int | None = None
    max_vcpu: int | None = None
    min_memory_mib: int | None = None
    max_memory_mib: int | None = None
    allow_gpu: bool = True
    templates: tuple[NodeTemplate, ...] | None = None  # None: derived from the current nodes
    # (instance type, capacity type) pairs not to use, e.g. spot capacity the cloud has none of now
    exclude_offerings: frozenset[tuple[str, str]] = frozenset()


@dataclass(slots=True)
class PlannedNode:
    """One node of a plan: its type, capacity type, zone, template and the pods it runs."""

    instance_type: InstanceType
    capacity_type: str
    zone: str
    template: NodeTemplate
    pods: list[Pod] = field(default_factory=list)
    name: str = ""

    @property
    def hourly_price(self) -> float:
        price = self.instance_type.price(self.capacity_type)
        assert price is not None, "planner only uses types offered at the capacity type"
        return price


@dataclass(frozen=True, slots=True)
class UnschedulablePod:
    pod: Pod
    reason: str


@dataclass(slots=True)
class Plan:
    """A verified node set. `lower_bound` <= cost of any valid plan for the same pods and constraints."""

    name: str  # "on-demand" | "spot"
    nodes: list[PlannedNode]
    unschedulable: list[UnschedulablePod]
    lower_bound: float
    daemonset_pods_per_node: dict[str, list[Pod]] = field(default_factory=dict)  # node name -> DS pods
    stats: dict[str, float] = field(default_factory=dict)  # timings and sizes, for benchmarks

    @property
    def hourly_cost(self) -> float:
        return sum(n.hourly_price for n in self.nodes)

    @property
    def gap(self) -> float:
        """hourly_cost / lower_bound - 1 (0 when both are 0)."""
        if self.lower_bound <= 0:
            return 0.0 if self.hourly_cost <= 0 else float("inf")
        return self.hourly_cost / self.lower_bound - 1.0
