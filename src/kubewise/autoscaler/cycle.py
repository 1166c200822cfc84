"""One autoscaler cycle: the policy's strategies run on one cluster state, at one time.

Called by the platform's planning loop (and the simulator). Scale-up first, then the downscaler on
the same state (a node that pending pods can use is never removed in the cycle that needs it), then,
every `evictor_interval_seconds`, the evictor on what the downscaler leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubewise.autoscaler.actions import Action, Unplaceable
from kubewise.autoscaler.downscaler import empty_nodes
from kubewise.autoscaler.evictor import consolidate
from kubewise.autoscaler.policy import AutoscalerPolicy
from kubewise.autoscaler.scale_up import scale_up
from kubewise.catalog.types import RegionCatalog
from kubewise.model import Snapshot
from kubewise.optimizer import Constraints

__all__ = ["CycleResult", "plan_cycle"]


@dataclass(frozen=True, slots=True)
class CycleResult:
    actions: tuple[Action, ...]
    unplaceable: tuple[Unplaceable, ...]
    empty_since: dict[str, float]  # the downscaler's memory, for the next cycle
    notes: dict[str, str]  # nodes left alone and why, pods waiting for room that exists
    evictor_ran_at: float | None = None  # when the evictor last ran, for the next cycle


def plan_cycle(
    snapshot: Snapshot,
    catalog: RegionCatalog,
    constraints: Constraints,
    policy: AutoscalerPolicy,
    now: float,
    empty_since: Mapping[str, float] | None = None,
    evictor_ran_at: float | None = None,
) -> CycleResult:
    if not policy.enabled:
        return CycleResult((), (), dict(empty_since or {}), {}, evictor_ran_at)
    actions: list[Action] = []
    unplaceable: tuple[Unplaceable, ...] = ()
    notes: dict[str, str] = {}
    if policy.unschedulable_pods:
        up = scale_up(snapshot, catalog, constraints, policy)
        actions += up.actions
        unplaceable = up.unplaceable
        notes |= {pod: "an existing node has room: the scheduler will place it" for pod in up.fits_existing}
    down = empty_nodes(snapshot, policy, now, empty_since or {})
    actions += down.actions
    notes |= down.kept
    due = evictor_ran_at is None or now - evictor_ran_at >= policy.evictor_interval_seconds
    if policy.evictor and due:
        gone = {a.node for a in down.actions}
        rest = Snapshot(
            tuple(n for n in snapshot.nodes if n.name not in gone),
            tuple(p for p in snapshot.pods if p.node_name not in gone),
            snapshot.pdbs,
            snapshot.namespace_labels,
        )
        moved = consolidate(rest, catalog, policy)
        actions += moved.actions
        notes |= moved.kept
        evictor_ran_at = now
    return CycleResult(tuple(actions), unplaceable, down.empty_since, notes, evictor_ran_at)
