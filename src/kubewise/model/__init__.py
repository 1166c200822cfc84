"""Domain model: quantities, pods, nodes, PDBs and the cluster snapshot (pure data)."""

from kubewise.model.objects import (
    CAPACITY_ON_DEMAND,
    CAPACITY_SPOT,
    Node,
    OwnerKind,
    Pod,
    PodAffinityTerm,
    PodDisruptionBudget,
    Snapshot,
    TopologySpreadConstraint,
)
from kubewise.model.resources import CPU, EPHEMERAL_STORAGE, GPU_NVIDIA, MEMORY, PODS, Resources
from kubewise.model.selectors import (
    LabelRequirement,
    LabelSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Taint,
    Toleration,
)

__all__ = [
    "CAPACITY_ON_DEMAND",
    "CAPACITY_SPOT",
    "CPU",
    "EPHEMERAL_STORAGE",
    "GPU_NVIDIA",
    "MEMORY",
    "PODS",
    "LabelRequirement",
    "LabelSelector",
    "Node",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "OwnerKind",
    "Pod",
    "PodAffinityTerm",
    "PodDisruptionBudget",
    "Resources",
    "Snapshot",
    "Taint",
    "Toleration",
    "TopologySpreadConstraint",
]
