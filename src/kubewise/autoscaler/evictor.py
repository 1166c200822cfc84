"""Evictor: consolidation -- a node whose pods all fit on the other nodes is drained and removed.

Called by `autoscaler.cycle` every `evictor_interval_seconds`. Nodes are tried most expensive first
(what removing them saves; the catalog's price, else the node's vCPUs), at most
`evictor_nodes_per_cycle` per run so that disruption comes in small steps. A node is left alone when
one of its pods may not move: without `aggressive_mode`, a bare pod (no controller would recreate
it), a pod with local storage (emptyDir/hostPath data would be lost) or the only replica of its
workload; always, a static pod, a node labelled `REMOVAL_DISABLED_LABEL=true`, or a pod whose
PodDisruptionBudget has no disruption left (budgets are spent across the nodes of one run). While pods
are pending nothing is consolidated (the room would be theirs). The
pods must all find room on the remaining schedulable nodes by `scheduling.ClusterState.can_place`;
or else the node is replaced: its pods are planned as a scale-up would plan them without it (room
on the other nodes first, then the cheapest new nodes, spot when allowed), and it goes when that
costs at least `evictor_min_saving_percent` less than the node. The new nodes are asked for before
the drain; the drained pods wait for them (PodDisruptionBudgets bound how many at a time).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kubewise.autoscaler.actions import AddNodes, CordonNode, DeleteNode, DrainNode
from kubewise.autoscaler.downscaler import REMOVAL_DISABLED_LABEL
from kubewise.autoscaler.policy import AutoscalerPolicy
from kubewise.autoscaler.scale_up import cluster_state, largest_first, pending_pods, scale_up
from kubewise.catalog import price_node
from kubewise.catalog.types import RegionCatalog
from kubewise.model import CPU, Node, OwnerKind, Pod, PodDisruptionBudget, Snapshot
from kubewise.optimizer import Constraints
from kubewise.scheduling import ClusterState

__all__ = [
    "Consolidation",
    "budget_spent",
    "consolidate",
    "disruptions_left",
    "replacement_for",
    "why_node_stays",
    "workload_replicas",
]


@dataclass(frozen=True, slots=True)
class Consolidation:
    actions: tuple[AddNodes | CordonNode | DrainNode | DeleteNode, ...]
    kept: dict[str, str]  # nodes tried and left, with why


def _absolute(value: int | str, total: int, *, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    share = float(value.rstrip("%")) / 100 * total
    return math.ceil(share) if round_up else math.floor(share)


def disruptions_left(pdb: PodDisruptionBudget, pods: Sequence[Pod]) -> int:
    """How many of the PDB's pods may be evicted now: its status when known, else from its spec and
    the running pods it covers (minAvailable rounds up, maxUnavailable down, as the controller does)."""
    if pdb.disruptions_allowed is not None:
        return pdb.disruptions_allowed
    covered = [p for p in pods if pdb.covers(p)]
    healthy = sum(1 for p in covered if p.phase == "Running" and p.node_name)
    if pdb.min_available is not None:
        return max(0, healthy - _absolute(pdb.min_available, len(covered), round_up=True))
    if pdb.max_unavailable is not None:
        unavailable = len(covered) - healthy
        return max(0, _absolute(pdb.max_unavailable, len(covered), round_up=False) - unavailable)
    return 0


def _why_stays(pod: Pod, replicas: Counter[tuple[str, str, str]], aggressive: bool) -> str | None:
    if pod.is_mirror:
        return f"{pod.key} is a static pod"
    if aggressive:
        return None
    if pod.owner_kind == OwnerKind.NONE:
        return f"{pod.key} has no controller to recreate it (evictor.aggressiveMode moves it)"
    if pod.has_local_storage:
        return f"{pod.key} uses local storage (evictor.aggressiveMode moves it)"
    if replicas[(pod.namespace, pod.owner_kind, pod.owner_name)] <= 1:
        return f"{pod.key} is the only replica of its workload (evictor.aggressiveMode moves it)"
    return None


def budget_spent(snapshot: Snapshot, pods: Sequence[Pod]) -> Counter[tuple[str, str]]:
    """How many disruptions of each PodDisruptionBudget evicting `pods` takes."""
    return Counter(k for p in pods for b in snapshot.pdbs if b.covers(p) for k in [(b.namespace, b.name)])


def why_node_stays(
    node: Node,
    pods: Sequence[Pod],
    replicas: Counter[tuple[str, str, str]],
    budgets: Mapping[tuple[str, str], int],
    spent: Counter[tuple[str, str]],
    aggressive: bool,
) -> str | None:
    """Why `node` must not be drained now (None: it may be): its label, a pod that must stay, or a
    PodDisruptionBudget without the disruptions its pods would take."""
    if node.labels.get(REMOVAL_DISABLED_LABEL) == "true":
        return f"labelled {REMOVAL_DISABLED_LABEL}=true"
    why = next((w for p in pods if (w := _why_stays(p, replicas, aggressive))), None)
    blocked = next((k for k, n in spent.items() if n > budgets[k]), None)
    if why is None and blocked is not None:
        why = f"PodDisruptionBudget {blocked[0]}/{blocked[1]} allows {budgets[blocked]} disruption(s) now"
    return why


def workload_replicas(pods: Sequence[Pod]) -> Counter[tuple[str, str, str]]:
    return Counter((p.namespace, p.owner_kind, p.owner_name) for p in pods if p.owner_kind != OwnerKind.NONE)


def _worth(node: Node, catalog: RegionCatalog) -> float:
    price = price_node(node, catalog).hourly_price
    return price if price is not None else node.capacity.get(CPU, 0) / 1e6  # unknown price: by size


def _rehome(state: ClusterState, pods: Sequence[Pod], node: str, targets: Sequence[str]) -> list[str] | None:
    """Place `pods` (taken off `node`) on `targets`, largest first; the targets chosen, or None (undone)."""
    for pod in pods:
        state.remove(pod, node)
    placed: list[tuple[Pod, str]] = []
    for pod in sorted(pods, key=largest_first):
        target = next((t for t in targets if state.can_place(pod, t) is None), None)
        if target is None:
            for done, where in placed:
                state.remove(done, where)
            for back in pods:
                state.place(back, node)
            return None
        state.place(pod, target)
        placed.append((pod, target))
    return [where for _, where in placed]


def consolidate(
    snapshot: Snapshot,
    catalog: RegionCatalog,
    policy: AutoscalerPolicy,
    constraints: Constraints | None = None,
    unavailable: frozenset[tuple[str, str]] = frozenset(),
) -> Consolidation:
    constraints = constraints if constraints is not None else Constraints()
    if not policy.evictor:
        return Consolidation((), {})
    if pending_pods(snapshot):  # the room it would fill is what the pending pods are waiting for
        return Consolidation((), {"evictor": "pods are pending: no consolidation this run"})
    state = cluster_state(snapshot)
    active = snapshot.active_pods
    replicas = workload_replicas(active)
    budgets = {(b.namespace, b.name): disruptions_left(b, active) for b in snapshot.pdbs}
    on_node: dict[str, list[Pod]] = {}
    for pod in active:
        if pod.node_name and not pod.is_daemonset:
            on_node.setdefault(pod.node_name, []).append(pod)
    removing: set[str] = set()
    receiving: set[str] = set()  # nodes given moved pods this run: not drained in the same run
    actions: list[AddNodes | CordonNode | DrainNode | DeleteNode] = []
    kept: dict[str, str] = {}
    order = sorted(snapshot.nodes, key=lambda n: (-_worth(n, catalog), n.name))
    tries = 0  # replacements planned this run: each is a plan, so the most expensive nodes only
    for node in order:
        if len(removing) >= policy.evictor_nodes_per_cycle:
            break
        pods = on_node.get(node.name, [])
        if not pods or node.unschedulable or node.name in receiving:
            continue  # empty nodes are the downscaler's; cordoned ones are someone's work already
        spent = budget_spent(snapshot, pods)
        why = why_node_stays(node, pods, replicas, budgets, spent, policy.aggressive_mode)
        if why is not None:
            kept[node.name] = why
            continue
        targets = [
            n.name
            for n in snapshot.nodes
            if n.name != node.name and n.name not in removing and not n.unschedulable
        ]
        chosen = _rehome(state, pods, node.name, targets)
        price = price_node(node, catalog).hourly_price
        added: tuple[AddNodes, ...] = ()
        if chosen is not None:
            gain = f"saves ${price:.4f}/h" if price is not None else "frees its capacity"
            reason = f"its {len(pods)} pod(s) fit on the other nodes; removing it {gain} (evictor)"
            receiving.update(chosen)
        elif removing:  # a replacement is planned on the cluster as it is: one change per run
            kept[node.name] = "its pods do not all fit on the other nodes (a node already goes this run)"
            continue
        elif tries >= policy.evictor_replacement_tries:
            kept[node.name] = (
                "its pods do not all fit on the other nodes (no more replacements tried this run)"
            )
            continue
        else:
            tries += 1
            replacement = replacement_for(snapshot, node, catalog, constraints, policy, unavailable, price)
            if isinstance(replacement, str):
                kept[node.name] = replacement
                continue
            added, reason = replacement
            receiving.update(n.name for n in snapshot.nodes if n.name != node.name)  # room may be used
        for key, n in spent.items():
            budgets[key] -= n
        removing.add(node.name)
        names = tuple(sorted(p.key for p in pods))
        actions += [
            *added,
            CordonNode(node.name, f"{reason}: no new pods"),
            DrainNode(node.name, names, f"{reason}: pods evicted (PodDisruptionBudgets respected)"),
            DeleteNode(node.name, f"{reason}: removed once drained"),
        ]
    return Consolidation(tuple(actions), kept)


def replacement_for(
    snapshot: Snapshot,
    node: Node,
    catalog: RegionCatalog,
    constraints: Constraints,
    policy: AutoscalerPolicy,
    unavailable: frozenset[tuple[str, str]],
    price: float | None,
) -> tuple[tuple[AddNodes, ...], str] | str:
    """Cheaper new node(s) for `node`'s pods (those that fit elsewhere go there), or why not."""
    if price is None:
        return "its price is unknown: no cheaper replacement can be shown"
    view = Snapshot(
        tuple(n for n in snapshot.nodes if n.name != node.name),
        tuple(
            dataclasses.replace(p, node_name="", phase="Pending") if p.node_name == node.name else p
            for p in snapshot.pods
            if not (p.node_name == node.name and (p.is_daemonset or p.is_mirror))
        ),
        snapshot.pdbs,
        snapshot.namespace_labels,
    )
    up = scale_up(view, catalog, constraints, policy, unavailable)
    if up.unplaceable:
        return f"its pods do not all fit elsewhere, nor on new nodes ({up.unplaceable[0].reason})"
    cost = sum(a.count * a.hourly_price for a in up.actions)
    if cost > price * (1 - policy.evictor_min_saving_percent / 100):
        return (
            f"its pods do not fit elsewhere and new nodes for them would cost ${cost:.4f}/h "
            f"of its ${price:.4f}/h (less than evictor_min_saving_percent saved)"
        )
    kinds = (
        ", ".join(f"{a.count} x {a.instance_type} ({a.capacity_type})" for a in up.actions) or "no new node"
    )
    reason = (
        f"its pods run for ${cost:.4f}/h instead of ${price:.4f}/h on {kinds} and the other nodes; "
        "replaced (evictor)"
    )
    added = tuple(
        dataclasses.replace(a, reason=f"replaces {node.name}: {a.reason}", replaces=node.name)
        for a in up.actions
    )
    return added, reason
