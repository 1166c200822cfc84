"""What the autoscaler asks the cluster controller to do, each with a reason a person can read."""

from __future__ import annotations

from dataclasses import dataclass

from kubewise.model import Taint

__all__ = ["Action", "AddNodes", "CordonNode", "DeleteNode", "DrainNode", "Unplaceable"]


@dataclass(frozen=True, slots=True)
class AddNodes:
    """Create `count` nodes of `instance_type` for the pods named in `pods` (namespace/name)."""

    instance_type: str
    capacity_type: str  # on-demand | spot
    zone: str
    template: str  # the node template whose labels and taints the nodes get
    count: int
    vcpu: int  # per node
    hourly_price: float  # per node, from the catalog
    pods: tuple[str, ...]
    reason: str
    alternatives: tuple[str, ...] = ()  # other types that run the same pods (spot diversity), cheapest first
    labels: tuple[tuple[str, str], ...] = ()  # the template's labels, which the new nodes must carry
    taints: tuple[Taint, ...] = ()  # the template's taints
    replaces: str = ""  # a node to drain once these nodes run; not drained if they cannot be started
    kind: str = "add-nodes"


@dataclass(frozen=True, slots=True)
class CordonNode:
    node: str
    reason: str
    kind: str = "cordon-node"


@dataclass(frozen=True, slots=True)
class DrainNode:
    """Evict `pods` from `node` through the Eviction API (so PodDisruptionBudgets hold)."""

    node: str
    pods: tuple[str, ...]
    reason: str
    kind: str = "drain-node"


@dataclass(frozen=True, slots=True)
class DeleteNode:
    node: str
    reason: str
    kind: str = "delete-node"


Action = AddNodes | CordonNode | DrainNode | DeleteNode


@dataclass(frozen=True, slots=True)
class Unplaceable:
    """A pending pod the autoscaler will not add a node for, and why (not retried every cycle blindly:
    the reason says what to change)."""

    pod: str  # namespace/name
    reason: str
