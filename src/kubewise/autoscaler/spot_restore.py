"""Back to spot: on-demand nodes started because spot could not be had are moved back to spot.

Called by `autoscaler.cycle` every `spot_backup_restore_rate_seconds` when spot and spotBackups are
on. Scale-up labels the on-demand nodes it plans under a spot policy `SPOT_FALLBACK_LABEL=true`.
The most expensive such node whose pods may move (the evictor's rules: PodDisruptionBudgets, the
removal-disabled label, pods that must stay unless aggressiveMode) is replaced the way the evictor
replaces a node -- its pods planned without it, on the other nodes' room first, then on new nodes,
spot only, leaving out the offerings still unavailable -- when that costs no more than the node.
One node per run, and none while pods are pending (the room is theirs).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kubewise.autoscaler.actions import Action, CordonNode, DeleteNode, DrainNode
from kubewise.autoscaler.evictor import (
    budget_spent,
    disruptions_left,
    replacement_for,
    why_node_stays,
    workload_replicas,
)
from kubewise.autoscaler.policy import AutoscalerPolicy
from kubewise.autoscaler.scale_up import SPOT_FALLBACK_LABEL, pending_pods
from kubewise.catalog import price_node
from kubewise.catalog.types import RegionCatalog
from kubewise.model import CAPACITY_ON_DEMAND, Snapshot
from kubewise.optimizer import Constraints

__all__ = ["SpotRestore", "fallback_nodes", "restore_spot"]


@dataclass(frozen=True, slots=True)
class SpotRestore:
    actions: tuple[Action, ...]
    notes: dict[str, str]  # fallback nodes left on-demand and why


def fallback_nodes(snapshot: Snapshot) -> list[str]:
    return sorted(
        n.name
        for n in snapshot.nodes
        if n.labels.get(SPOT_FALLBACK_LABEL) == "true" and n.capacity_type == CAPACITY_ON_DEMAND
    )


def restore_spot(
    snapshot: Snapshot,
    catalog: RegionCatalog,
    constraints: Constraints,
    policy: AutoscalerPolicy,
    unavailable: frozenset[tuple[str, str]] = frozenset(),
) -> SpotRestore:
    names = set(fallback_nodes(snapshot))
    candidates = [n for n in snapshot.nodes if n.name in names and not n.unschedulable]
    if not candidates:
        return SpotRestore((), {})
    if pending_pods(snapshot):
        return SpotRestore((), {n.name: "stays on-demand: pods are pending" for n in candidates})
    spot_only = dataclasses.replace(policy, spot_backups=False, evictor_min_saving_percent=0.0)
    active = snapshot.active_pods
    replicas = workload_replicas(active)
    budgets = {(b.namespace, b.name): disruptions_left(b, active) for b in snapshot.pdbs}
    priced = [(price_node(n, catalog).hourly_price, n) for n in candidates]
    notes: dict[str, str] = {}
    for price, node in sorted(priced, key=lambda pn: (-(pn[0] or 0.0), pn[1].name)):
        pods = [p for p in active if p.node_name == node.name and not (p.is_daemonset or p.is_mirror)]
        why = why_node_stays(
            node, pods, replicas, budgets, budget_spent(snapshot, pods), policy.aggressive_mode
        )
        found = (
            why
            if why is not None
            else replacement_for(snapshot, node, catalog, constraints, spot_only, unavailable, price)
        )
        if isinstance(found, str):
            notes[node.name] = f"stays on-demand: {found}"
            continue
        added, _ = found
        kinds = ", ".join(f"{a.count} x {a.instance_type} (spot)" for a in added) or "the other nodes"
        reason = (
            f"{node.name} runs on-demand because spot could not be had; its pods fit {kinds} now: "
            "back to spot (spotBackups)"
        )
        keys = tuple(sorted(p.key for p in pods))
        return SpotRestore(
            (
                *added,
                CordonNode(node.name, f"{reason}: no new pods"),
                DrainNode(node.name, keys, f"{reason}: pods evicted (PodDisruptionBudgets respected)"),
                DeleteNode(node.name, f"{reason}: removed once drained"),
            ),
            notes,
        )
    return SpotRestore((), notes)
