"""Domain model: quantities, pods, nodes, PDBs and the cluster snapshot (pure data)."""

from kubewise.model.capacity_type import capacity_type_from_labels
from kubewise.model.errors import SnapshotLoadError
from kubewise.model.kube_selectors import MATCH_NOTHING
from kubewise.model.loading import load_snapshot_from_objects, load_snapshot_from_path
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
    "MATCH_NOTHING",
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
    "SnapshotLoadError",
    "Taint",
    "Toleration",
    "TopologySpreadConstraint",
    "capacity_type_from_labels",
    "load_snapshot_from_objects",
    "load_snapshot_from_path",
]
