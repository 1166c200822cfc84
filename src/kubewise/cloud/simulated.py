"""`SimulatedCloud`: a cloud in memory, priced from the catalog, with the failures real ones have.

Used by tests, the simulator and `kubewise demo`, behind the same `CloudProvider` interface the real
clouds implement. Configurable: offerings with no capacity (`shortages`, as (type, capacity type)),
how long an instance stays `pending` (`provisioning_seconds`, on the given clock), and spot
interruptions (`interrupt`): a notice (`notices`) some time before the instance is terminated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from kubewise.catalog.types import RegionCatalog
from kubewise.cloud.provider import CapacityError, Instance, NodeRequest

__all__ = ["SimulatedCloud"]


class SimulatedCloud:
    def __init__(
        self,
        catalog: RegionCatalog,
        clock: Callable[[], float],
        *,
        shortages: set[tuple[str, str]] | None = None,
        provisioning_seconds: float = 0.0,
    ) -> None:
        self.catalog, self.clock = catalog, clock
        self.shortages = shortages if shortages is not None else set()
        self.provisioning_seconds = provisioning_seconds
        self.spot_price_factor = 1.0
        self.instances: dict[str, Instance] = {}
        self.started_at: dict[str, float] = {}
        self.notices: dict[str, float] = {}  # instance -> when it is reclaimed (spot interruption notice)
        self._tokens: dict[str, list[str]] = {}
        self._next = 0

    def create_nodes(self, request: NodeRequest) -> list[Instance]:
        if request.client_token in self._tokens:  # a retry of a request already served
            return [self.instances[i] for i in self._tokens[request.client_token]]
        offered = [t for t in request.instance_types if self._offered(t, request.capacity_type)]
        if not offered:
            raise ValueError(
                f"none of {', '.join(request.instance_types)} is offered as {request.capacity_type}"
            )
        available = [t for t in offered if (t, request.capacity_type) not in self.shortages]
        if not available:
            raise CapacityError(
                f"insufficient {request.capacity_type} capacity for {', '.join(offered)} in {request.zone}",
                tuple((t, request.capacity_type) for t in offered),
            )
        made = []
        for n in range(request.count):
            self._next += 1
            iid = f"i-sim{self._next:08d}"
            itype = available[n % len(available)]  # a diverse request is spread over its types
            made.append(
                Instance(
                    iid,
                    itype,
                    request.capacity_type,
                    request.zone,
                    "pending",
                    f"aws:///{request.zone}/{iid}",
                    request.labels,
                    request.taints,
                )
            )
            self.instances[iid] = made[-1]
            self.started_at[iid] = self.clock()
        self._tokens[request.client_token] = [i.instance_id for i in made]
        return made

    def adopt(self, instance_id: str, instance_type: str, capacity_type: str, zone: str) -> None:
        """Take an instance that already runs (a node of the starting cluster) into the simulation."""
        self.instances[instance_id] = Instance(
            instance_id, instance_type, capacity_type, zone, "running", f"aws:///{zone}/{instance_id}"
        )
        self.started_at[instance_id] = self.clock()

    def _offered(self, name: str, capacity_type: str) -> bool:
        itype = self.catalog.get(name)
        return itype is not None and itype.price(capacity_type) is not None

    def terminate(self, instance_ids: list[str]) -> None:
        for iid in instance_ids:
            if iid in self.instances:
                self.instances[iid] = dataclasses.replace(self.instances[iid], state="terminated")

    def describe(self, instance_ids: list[str]) -> list[Instance]:
        self.tick()
        return [self.instances[i] for i in instance_ids if i in self.instances]

    def spot_prices(self, zones: Sequence[str]) -> dict[str, float]:
        """The catalog's spot prices, times `spot_price_factor` (a market that moved)."""
        return {
            t.name: round(t.spot_price * self.spot_price_factor, 6)
            for t in self.catalog
            if t.spot_price is not None
        }

    def interrupt(self, instance_id: str, grace_seconds: float = 120.0) -> None:
        """Announce that a spot instance will be reclaimed after `grace_seconds` (AWS gives two minutes)."""
        self.notices[instance_id] = self.clock() + grace_seconds

    def tick(self) -> None:
        """Advance instance states to the clock: pending ones run after the delay; reclaimed ones end."""
        now = self.clock()
        for iid, inst in list(self.instances.items()):
            if inst.state == "pending" and now - self.started_at[iid] >= self.provisioning_seconds:
                self.instances[iid] = dataclasses.replace(inst, state="running")
        for iid, at in sorted(self.notices.items()):
            if now >= at:
                self.terminate([iid])
                del self.notices[iid]

    def hourly_cost(self) -> float:
        """What the running and pending instances cost per hour, at the catalog's prices."""
        total = 0.0
        for inst in self.instances.values():
            itype = self.catalog.get(inst.instance_type)
            if inst.state != "terminated" and itype is not None:
                total += itype.price(inst.capacity_type) or 0.0
        return total
