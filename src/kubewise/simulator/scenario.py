"""`kubewise simulate`: a what-if -- a cluster, workload changes over time, spot interruptions, and
what the autoscaler with given policies would cost, keep pending and disrupt, before it is turned on.

A scenario is YAML:
    duration_minutes: 240          # simulated time
    step_seconds: 60               # the clock's step; the autoscaler runs every `cycle_seconds`
    cycle_seconds: 60
    provisioning_seconds: 90       # how long a new instance takes to join
    policies: {enabled: true, unschedulablePods: {enabled: true}, ...}   # as `kubewise policies`
    events:
      - {at_minute: 30, scale: {namespace: shop, owner: web, replicas: 40}}
      - {at_minute: 90, interrupt_spot: 2}
The run is deterministic: the same scenario and cluster give the same figures.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubewise.autoscaler import AutoscalerPolicy, plan_cycle, policy_from_document
from kubewise.catalog.types import RegionCatalog
from kubewise.cloud.simulated import SimulatedCloud
from kubewise.model import Snapshot
from kubewise.optimizer import Constraints
from kubewise.optimizer.templates import derive_templates
from kubewise.simulator.cluster import SimCluster

__all__ = ["Outcome", "Scenario", "ScenarioError", "parse_scenario", "simulate"]


class ScenarioError(ValueError):
    """The scenario is malformed; the message names the field."""


@dataclass(frozen=True, slots=True)
class Event:
    at_seconds: float
    scale: tuple[str, str, int] | None = None  # namespace, owner, replicas
    interrupt_spot: int = 0


@dataclass(frozen=True, slots=True)
class Scenario:
    duration_seconds: float
    step_seconds: float
    cycle_seconds: float
    provisioning_seconds: float
    policies: Mapping[str, Any]
    events: tuple[Event, ...] = ()


@dataclass(slots=True)
class Outcome:
    timeline: list[tuple[float, float, int, int]] = field(default_factory=list)  # t, $/h, pending, nodes
    evictions: int = 0
    lost_pods: int = 0
    interruptions: int = 0

    @property
    def average_hourly_cost(self) -> float:
        return sum(c for _, c, _, _ in self.timeline) / max(1, len(self.timeline))

    def pending_pod_minutes(self, step_seconds: float) -> float:
        return sum(p for _, _, p, _ in self.timeline) * step_seconds / 60


def _number(doc: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ScenarioError(f"{where}{key}: must be a positive number, not {value!r}")
    return float(value)


def parse_scenario(doc: Any) -> Scenario:
    if not isinstance(doc, Mapping):
        raise ScenarioError("the scenario must be a mapping (duration_minutes, policies, events, ...)")
    policies = doc.get("policies", {})
    if not isinstance(policies, Mapping):
        raise ScenarioError("policies: must be a mapping, as `kubewise policies get` prints it")
    events = []
    for i, raw in enumerate(doc.get("events") or []):
        where = f"events[{i}]."
        if not isinstance(raw, Mapping):
            raise ScenarioError(f"events[{i}]: must be a mapping")
        at = _number(raw, "at_minute", 0.0001, where) * 60 if "at_minute" in raw else 0.0
        if "scale" in raw:
            scale = raw["scale"]
            if not isinstance(scale, Mapping) or not {"owner", "replicas"} <= scale.keys():
                raise ScenarioError(
                    f"{where}scale: needs owner and replicas (and namespace, default 'default')"
                )
            replicas = scale["replicas"]
            if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
                raise ScenarioError(f"{where}scale.replicas: must be a whole number >= 0")
            events.append(
                Event(at, scale=(str(scale.get("namespace", "default")), str(scale["owner"]), replicas))
            )
        elif "interrupt_spot" in raw:
            events.append(Event(at, interrupt_spot=int(_number(raw, "interrupt_spot", 1, where))))
        else:
            raise ScenarioError(f"events[{i}]: needs scale or interrupt_spot")
    return Scenario(
        duration_seconds=_number(doc, "duration_minutes", 240, "") * 60,
        step_seconds=_number(doc, "step_seconds", 60, ""),
        cycle_seconds=_number(doc, "cycle_seconds", 60, ""),
        provisioning_seconds=_number(doc, "provisioning_seconds", 90, ""),
        policies=policies,
        events=tuple(sorted(events, key=lambda e: e.at_seconds)),
    )


def simulate(
    scenario: Scenario,
    snapshot: Snapshot,
    catalog: RegionCatalog,
    policy: AutoscalerPolicy | None = None,
    observe: Callable[[float, Snapshot], None] | None = None,
    shortages: set[tuple[str, str]] | None = None,
) -> Outcome:
    """Run `scenario` on `snapshot` with `policy` (default: the scenario's policies); `observe(t,
    cluster)` is called after every step (benchmarks measure the cluster with it); `shortages`:
    (instance type, capacity type) offerings the simulated cloud has no capacity for."""
    policy = policy if policy is not None else policy_from_document(scenario.policies)
    clock = [0.0]
    cloud = SimulatedCloud(
        catalog, lambda: clock[0], shortages=shortages, provisioning_seconds=scenario.provisioning_seconds
    )
    cluster = SimCluster(snapshot, catalog, cloud)
    # the node pools are configuration: they outlive their last node (as node groups do)
    workload = [p for p in snapshot.active_pods if not (p.is_daemonset or p.is_mirror)]
    constraints = Constraints(templates=derive_templates(snapshot.nodes, workload))
    outcome = Outcome()
    empty_since: dict[str, float] = {}
    evictor_ran_at: float | None = None
    spot_restored_at: float | None = None
    asked: list[tuple[float, tuple[str, ...]]] = []  # when pods' nodes were asked for
    pending_events = list(scenario.events)
    next_cycle, step = 0.0, 0
    while clock[0] <= scenario.duration_seconds:
        while pending_events and pending_events[0].at_seconds <= clock[0]:
            event = pending_events.pop(0)
            if event.scale is not None:
                cluster.scale(*event.scale)
            if event.interrupt_spot:
                outcome.interruptions += len(cluster.interrupt_spot(event.interrupt_spot, 120.0))
        cluster.tick()
        if clock[0] >= next_cycle:
            window = scenario.provisioning_seconds + 2 * scenario.step_seconds
            in_flight = frozenset(p for t, pods in asked if clock[0] - t < window for p in pods)
            result = plan_cycle(
                cluster.snapshot(),
                catalog,
                constraints,
                policy,
                clock[0],
                empty_since,
                evictor_ran_at,
                cluster.unavailable_at(clock[0]),
                in_flight,
                spot_restored_at,
            )
            empty_since, evictor_ran_at = result.empty_since, result.evictor_ran_at
            spot_restored_at = result.spot_restored_at
            started = cluster.apply(result.actions, f"cycle-{step}")
            asked += [(clock[0], a.pods) for a in started]  # a failed request is planned again
            cluster.schedule()
            next_cycle = clock[0] + scenario.cycle_seconds
        outcome.timeline.append((clock[0], cluster.hourly_cost(), cluster.pending(), len(cluster.nodes)))
        if observe is not None:
            observe(clock[0], cluster.snapshot())
        clock[0] += scenario.step_seconds
        step += 1
    outcome.evictions, outcome.lost_pods = cluster.evictions, cluster.lost_pods
    return outcome
