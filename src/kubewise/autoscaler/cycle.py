"""One autoscaler cycle: the policy's strategies run on one cluster state, at one time.

Called by the platform's planning loop (and the simulator). Scale-up first, then the downscaler on
the same state (a node that pending pods can use is never removed in the cycle that needs it), then,
every `evictor_interval_seconds`, the evictor on what the downscaler leaves, and every
`spot_backup_restore_rate_seconds`, when nothing else is drained, one on-demand fallback node back
to spot (`autoscaler.spot_restore`). A node with an
interruption notice (`autoscaler.spot`) is planned away first: its pods are scaled up for as if
pending, and it is cordoned, drained and deleted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from kubewise.autoscaler.actions import Action, CordonNode, DeleteNode, DrainNode, Unplaceable
from kubewise.autoscaler.downscaler import empty_nodes
from kubewise.autoscaler.evictor import consolidate
from kubewise.autoscaler.policy import AutoscalerPolicy
from kubewise.autoscaler.scale_up import scale_up
from kubewise.autoscaler.spot import INTERRUPTION_TAINTS, interrupted
from kubewise.autoscaler.spot_restore import fallback_nodes, restore_spot
from kubewise.catalog.types import RegionCatalog
from kubewise.model import Node, Snapshot
from kubewise.optimizer import Constraints, NodeTemplate
from kubewise.optimizer.templates import derive_templates

__all__ = ["CycleResult", "plan_cycle"]


@dataclass(frozen=True, slots=True)
class CycleResult:
    actions: tuple[Action, ...]
    unplaceable: tuple[Unplaceable, ...]
    empty_since: dict[str, float]  # the downscaler's memory, for the next cycle
    notes: dict[str, str]  # nodes left alone and why, pods waiting for room that exists
    evictor_ran_at: float | None = None  # when the evictor last ran, for the next cycle
    spot_restored_at: float | None = None  # when fallback nodes were last tried back on spot


def plan_cycle(
    snapshot: Snapshot,
    catalog: RegionCatalog,
    constraints: Constraints,
    policy: AutoscalerPolicy,
    now: float,
    empty_since: Mapping[str, float] | None = None,
    evictor_ran_at: float | None = None,
    unavailable: frozenset[tuple[str, str]] = frozenset(),
    in_flight: frozenset[str] = frozenset(),
    spot_restored_at: float | None = None,
) -> CycleResult:
    """`unavailable`: (instance type, capacity type) offerings the cloud recently had no capacity for;
    `in_flight`: pending pods (namespace/name) whose nodes were already asked for and are starting."""
    if not policy.enabled:
        return CycleResult((), (), dict(empty_since or {}), {}, evictor_ran_at, spot_restored_at)
    actions: list[Action] = []
    unplaceable: tuple[Unplaceable, ...] = ()
    notes: dict[str, str] = {}
    noticed = [n for n in snapshot.nodes if interrupted(n)]
    if constraints.templates is None:  # from every node, noticed ones too (their pool must live on)
        constraints = dataclasses.replace(constraints, templates=_templates(snapshot))
    if policy.unschedulable_pods:
        view, displaced = _without(snapshot, noticed)
        up = scale_up(
            view,
            catalog,
            constraints,
            policy,
            unavailable,
            displaced,
            frozenset(in_flight - displaced.keys()),
        )
        actions += up.actions
        unplaceable = up.unplaceable
        notes |= {pod: "an existing node has room: the scheduler will place it" for pod in up.fits_existing}
        notes |= {pod: "a node for it was asked for and is starting" for pod in up.waiting_for_nodes}
        for node in noticed:  # its pods have somewhere to go (or are reported): let it go first
            why = f"{node.name} has an interruption notice from its provider: replaced ahead of time"
            pods = tuple(sorted(k for k, n in displaced.items() if n == node.name))
            actions += [
                CordonNode(node.name, why),
                DrainNode(node.name, pods, why),
                DeleteNode(node.name, why),
            ]
        snapshot = view
    down = empty_nodes(snapshot, policy, now, empty_since or {})
    actions += down.actions
    notes |= down.kept
    gone = {a.node for a in down.actions if isinstance(a, DeleteNode)}
    rest = Snapshot(
        tuple(n for n in snapshot.nodes if n.name not in gone),
        tuple(p for p in snapshot.pods if p.node_name not in gone),
        snapshot.pdbs,
        snapshot.namespace_labels,
    )
    due = evictor_ran_at is None or now - evictor_ran_at >= policy.evictor_interval_seconds
    if policy.evictor and due:
        moved = consolidate(rest, catalog, policy, constraints, unavailable)
        actions += moved.actions
        notes |= moved.kept
        evictor_ran_at = now
    restore_due = (
        spot_restored_at is None or now - spot_restored_at >= policy.spot_backup_restore_rate_seconds
    )
    draining = any(isinstance(a, DrainNode) for a in actions)  # one disruption at a time
    if policy.spot and policy.spot_backups and restore_due and not draining and fallback_nodes(rest):
        back = restore_spot(rest, catalog, constraints, policy, unavailable)
        actions += back.actions
        notes |= back.notes
        spot_restored_at = now
    return CycleResult(tuple(actions), unplaceable, down.empty_since, notes, evictor_ran_at, spot_restored_at)


def _without(snapshot: Snapshot, nodes: list[Node]) -> tuple[Snapshot, dict[str, str]]:
    """The cluster as it will be once `nodes` are gone: their workload pods pending again (pod ->
    the node it leaves), their DaemonSet and static pods gone with them."""
    if not nodes:
        return snapshot, {}
    gone = {n.name for n in nodes}
    displaced: dict[str, str] = {}
    pods = []
    for pod in snapshot.pods:
        if pod.node_name not in gone:
            pods.append(pod)
        elif not (pod.is_daemonset or pod.is_mirror):
            displaced[pod.key] = pod.node_name
            pods.append(dataclasses.replace(pod, node_name="", phase="Pending"))
    kept = tuple(n for n in snapshot.nodes if n.name not in gone)
    return Snapshot(kept, tuple(pods), snapshot.pdbs, snapshot.namespace_labels), displaced


def _templates(snapshot: Snapshot) -> tuple[NodeTemplate, ...]:
    """The node pools of the cluster, without the taints an interruption notice puts on a node."""
    clean = [
        dataclasses.replace(n, taints=tuple(t for t in n.taints if t.key not in INTERRUPTION_TAINTS))
        for n in snapshot.nodes
    ]
    workload = [p for p in snapshot.active_pods if not (p.is_daemonset or p.is_mirror)]
    return derive_templates(clean, workload)
