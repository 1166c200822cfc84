"""The one interface through which kubewise creates and removes nodes in a cloud.

Implemented by `cloud.simulated.SimulatedCloud` (in memory, for tests, `kubewise demo` and what-ifs)
and `cloud.aws.provider` (RunInstances / CreateFleet / TerminateInstances). The cluster controller
calls it to carry out the autoscaler's `add-nodes` and `delete-node` actions. A request carries a
client token (the action's id): asking twice with the same token creates the nodes once, so a
controller that crashed mid-action can simply ask again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["CapacityError", "CloudProvider", "Instance", "NodeRequest"]


@dataclass(frozen=True, slots=True)
class NodeRequest:
    client_token: str  # idempotency: the same token never creates nodes twice
    instance_types: tuple[str, ...]  # the preferred type first, then alternatives (a diverse fleet)
    capacity_type: str  # on-demand | spot
    zone: str
    count: int
    labels: tuple[tuple[str, str], ...] = ()  # what the node template puts on the nodes
    taints: tuple[tuple[str, str, str], ...] = ()  # ... and its taints, as (key, value, effect)


@dataclass(frozen=True, slots=True)
class Instance:
    instance_id: str
    instance_type: str
    capacity_type: str
    zone: str
    state: str  # pending | running | terminated
    provider_id: str  # as the node's spec.providerID will say
    labels: tuple[tuple[str, str], ...] = ()  # what the request asked the node to carry
    taints: tuple[tuple[str, str, str], ...] = ()


class CapacityError(RuntimeError):
    """The cloud had no capacity for any of the requested offerings; `offerings` lists them as
    (instance type, capacity type), for the autoscaler to leave out for a while."""

    def __init__(self, message: str, offerings: tuple[tuple[str, str], ...]) -> None:
        super().__init__(message)
        self.offerings = offerings


class CloudProvider(Protocol):
    def create_nodes(self, request: NodeRequest) -> list[Instance]:
        """Start `request.count` instances (fewer only when capacity ran out part-way; none: raises
        `CapacityError`)."""
        ...

    def terminate(self, instance_ids: list[str]) -> None:
        """Terminate the instances; unknown or already terminated ids are not an error."""
        ...

    def describe(self, instance_ids: list[str]) -> list[Instance]: ...

    def spot_prices(self, zones: Sequence[str]) -> dict[str, float]:
        """What spot capacity costs now, USD/h per instance type (averaged over `zones`)."""
        ...
