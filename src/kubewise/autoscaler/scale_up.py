"""Scale-up: pending pods that no existing node takes get the cheapest nodes that run them.

Called by `autoscaler.cycle`. First the pending pods are offered to the existing nodes, as the
kube-scheduler would (`scheduling.ClusterState.can_place`): those that fit need no new node, only time.
The rest are planned by `optimizer.plan_snapshot` on the existing nodes' templates, zones and
architectures (DaemonSet pods ride along on every new node). The planned nodes are then checked with
the existing pods (zone spread and anti-affinity span old and new nodes): a pod that would break a rule
there gets no node. Under `clusterLimits`, nodes are kept while the cluster's vCPUs stay within
`maxCores`, the nodes carrying the most pending pods per vCPU first; the pods of the others are
reported with the limit as their reason, as are pods no allowed type can run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kubewise.autoscaler.actions import AddNodes, Unplaceable
from kubewise.autoscaler.policy import AutoscalerPolicy
from kubewise.autoscaler.spot import capacity_constraints, daemonset_representatives, diverse_types
from kubewise.catalog.types import RegionCatalog
from kubewise.model import CAPACITY_ON_DEMAND, CPU, Node, Pod, Snapshot
from kubewise.optimizer import Constraints, PlannedNode, plan_snapshot, planned_node_object
from kubewise.scheduling import ClusterState

__all__ = [
    "SPOT_FALLBACK_LABEL",
    "ScaleUp",
    "cluster_state",
    "largest_first",
    "node_cores",
    "pending_pods",
    "scale_up",
    "waiting_for_nodes",
]

# on an on-demand node planned under a spot policy (spotBackups): `autoscaler.spot_restore` moves it
# back to spot once spot can be had again
SPOT_FALLBACK_LABEL = "autoscaling.kubewise.dev/spot-fallback"


@dataclass(frozen=True, slots=True)
class ScaleUp:
    actions: tuple[AddNodes, ...]
    unplaceable: tuple[Unplaceable, ...]
    fits_existing: tuple[str, ...]  # pending pods an existing node has room for: no node needed
    new_nodes: tuple[Node, ...] = ()  # the nodes the actions create, as the scheduler will see them
    placement: tuple[tuple[str, str], ...] = ()  # (pod, node) for every pending pod given a place
    waiting_for_nodes: tuple[str, ...] = ()  # pending pods whose nodes were asked for and are starting


def pending_pods(snapshot: Snapshot) -> list[Pod]:
    """Pods waiting for a node (DaemonSet and static pods aside: nodes bring their own)."""
    return [p for p in snapshot.active_pods if not p.node_name and not p.is_daemonset and not p.is_mirror]


def _workload(key: str) -> str:
    """`namespace/name` without the name's last `-suffix`: what a controller's generated pod names
    share (`web-7d9f8c-x2kqz` -> `web-7d9f8c`), so a pod made again under a new name is recognised."""
    return key.rsplit("-", 1)[0]


def waiting_for_nodes(pending: Sequence[Pod], in_flight: frozenset[str], present: set[str]) -> set[str]:
    """The pending pods that nodes already asked for will take: those named in `in_flight`, and, for
    each pod named there that no longer exists (evicted, and made again by its controller under a new
    name), one pending pod of the same workload."""
    covered = {p.key for p in pending if p.key in in_flight}
    substitutes: dict[str, int] = {}
    for key in in_flight - present:
        substitutes[_workload(key)] = substitutes.get(_workload(key), 0) + 1
    for pod in sorted(pending, key=lambda p: p.key):
        workload = _workload(pod.key)
        if pod.key not in covered and substitutes.get(workload, 0) > 0:
            covered.add(pod.key)
            substitutes[workload] -= 1
    return covered


def cluster_state(snapshot: Snapshot) -> ClusterState:
    """The existing nodes with the pods bound to them."""
    state = ClusterState(snapshot.nodes, snapshot.namespace_labels)
    for pod in snapshot.active_pods:
        if pod.node_name and pod.node_name in state:
            state.place(pod, pod.node_name)
    return state


def largest_first(pod: Pod) -> tuple[int, int, str]:
    """Sort key: the most CPU first, then memory, then by name (deterministic)."""
    return (-pod.requests.get(CPU, 0), -pod.requests.get("memory", 0), pod.key)


def _onto_existing(state: ClusterState, pending: Sequence[Pod]) -> tuple[list[tuple[Pod, str]], list[Pod]]:
    placed, waiting = [], []
    names = [n.name for n in state.nodes]
    for pod in sorted(pending, key=largest_first):
        target = next((n for n in names if state.can_place(pod, n) is None), None)
        if target is None:
            waiting.append(pod)
        else:
            state.place(pod, target)
            placed.append((pod, target))
    return placed, waiting


def node_cores(node: Node) -> int:
    """The node's vCPUs, whole (what clusterLimits.cpu counts)."""
    return -(-node.capacity.get(CPU, 0) // 1000)


def _cores(snapshot: Snapshot) -> int:
    return sum(node_cores(n) for n in snapshot.nodes)


def _checked(
    state: ClusterState, plan_nodes: Sequence[PlannedNode]
) -> list[tuple[PlannedNode, Node, list[Pod]]]:
    """Each planned node with the pods that may go there next to the existing pods. All new nodes
    exist before any of their pods is placed (they are created together), so that a zone only a new
    node brings counts for every pod's topology spread from the first placement on."""
    nodes = [planned_node_object(p, f"kubewise-new-{i:05d}") for i, p in enumerate(plan_nodes)]
    for node in nodes:
        state.add_node(node)
    out = []
    for planned, node in zip(plan_nodes, nodes, strict=True):
        ok = []
        for pod in sorted(planned.pods, key=largest_first):
            if state.can_place(pod, node.name) is None:
                state.place(pod, node.name)
                ok.append(pod)
        out.append((planned, node, ok))
    return out


def scale_up(
    snapshot: Snapshot,
    catalog: RegionCatalog,
    constraints: Constraints,
    policy: AutoscalerPolicy,
    unavailable: frozenset[tuple[str, str]] = frozenset(),
    displaced: Mapping[str, str] | None = None,
    in_flight: frozenset[str] = frozenset(),
) -> ScaleUp:
    """`unavailable`: (type, capacity type) offerings the cloud recently had no capacity for;
    `displaced`: pending pods that were on a node being replaced (pod -> why), named in the reasons;
    `in_flight`: pods whose new nodes were asked for already and are still starting (see
    `waiting_for_nodes`)."""
    all_pending = pending_pods(snapshot)
    starting = waiting_for_nodes(all_pending, in_flight, {p.key for p in snapshot.pods})
    pending = [p for p in all_pending if p.key not in starting]
    in_time = tuple(sorted(starting))
    if not pending:
        return ScaleUp((), (), (), waiting_for_nodes=in_time)
    state = cluster_state(snapshot)
    on_existing, waiting = _onto_existing(state, pending)
    existing = tuple(p.key for p, _ in on_existing)
    placement = [(p.key, n) for p, n in on_existing]
    if not waiting:
        return ScaleUp((), (), existing, (), tuple(placement), in_time)
    allowed = capacity_constraints(constraints, policy, unavailable)
    daemonsets = tuple(p for p in snapshot.active_pods if p.is_daemonset)
    planning = Snapshot(snapshot.nodes, tuple(waiting) + daemonsets, snapshot.pdbs, snapshot.namespace_labels)
    plan = plan_snapshot(planning, catalog, allowed)
    unplaceable = [Unplaceable(u.pod.key, u.reason) for u in plan.unschedulable]
    planned = list(plan.nodes)
    if policy.cluster_limits:  # before the check: pods of dropped nodes must not shape the others
        planned, over = _within_limit(planned, policy.max_cores - _cores(snapshot))
        reason = f"clusterLimits.cpu.maxCores={policy.max_cores} reached ({_cores(snapshot)} cores now)"
        unplaceable += [Unplaceable(p.key, reason) for p in over]
    checked = [(p, n, pods) for p, n, pods in _checked(state, planned) if pods]
    placed = {p.key for _, _, pods in checked for p in pods}
    for pod in (p for n in planned for p in n.pods if p.key not in placed):
        unplaceable.append(
            Unplaceable(pod.key, "a new node would break a scheduling rule with the existing pods")
        )
    placement += [(p.key, node.name) for _, node, pods in checked for p in pods]
    reps = daemonset_representatives(daemonsets)
    alternatives = [
        diverse_types(p, pods, catalog, allowed, policy, unavailable, reps) for p, _, pods in checked
    ]
    return ScaleUp(
        _grouped([(p, pods) for p, _, pods in checked], alternatives, policy, displaced or {}),
        tuple(sorted(unplaceable, key=lambda u: u.pod)),
        existing,
        tuple(node for _, node, _ in checked),
        tuple(sorted(placement)),
        in_time,
    )


def _within_limit(nodes: list[PlannedNode], cores_left: int) -> tuple[list[PlannedNode], list[Pod]]:
    """Nodes kept while the vCPUs allow, the most pods per vCPU first; and the pods of the others."""
    order = sorted(nodes, key=lambda n: (-len(n.pods) / n.instance_type.vcpu, n.hourly_price, n.name))
    kept, over = [], []
    for node in order:
        if node.instance_type.vcpu <= cores_left:
            kept.append(node)
            cores_left -= node.instance_type.vcpu
        else:
            over += node.pods
    return kept, over


def _grouped(
    nodes: list[tuple[PlannedNode, list[Pod]]],
    alternatives: Sequence[tuple[str, ...]],
    policy: AutoscalerPolicy,
    displaced: Mapping[str, str],
) -> tuple[AddNodes, ...]:
    groups: dict[tuple[str, str, str, str, tuple[str, ...]], list[tuple[PlannedNode, list[Pod]]]] = {}
    for (node, pods), alts in zip(nodes, alternatives, strict=True):
        key = (node.instance_type.name, node.capacity_type, node.zone, node.template.name, alts)
        groups.setdefault(key, []).append((node, pods))
    out = []
    for (name, capacity, zone, template, alts), members in sorted(groups.items()):
        itype = members[0][0].instance_type
        keys = tuple(sorted(p.key for _, ps in members for p in ps))
        price = members[0][0].hourly_price
        moved = sorted({displaced[k] for k in keys if k in displaced})
        why = f"{len(keys)} pending pod(s) fit no existing node"
        if moved:
            why = f"{why} ({sum(k in displaced for k in keys)} of them from {', '.join(moved)})"
        reason = (
            f"{why}; {itype.name} ({capacity}, {zone}, ${price:.4f}/h each, {len(members)} node(s)) "
            "is the cheapest way found to run them"
        )
        labels = members[0][0].template.labels
        if policy.spot and capacity == CAPACITY_ON_DEMAND:
            reason += "; on-demand because no allowed spot type can be had for them now (spotBackups)"
            labels = (*labels, (SPOT_FALLBACK_LABEL, "true"))
        if alts:
            reason += f"; spot diversity: also {', '.join(alts)}"
        tpl = members[0][0].template
        out.append(
            AddNodes(
                name,
                capacity,
                zone,
                template,
                len(members),
                itype.vcpu,
                price,
                keys,
                reason,
                alts,
                labels,
                tpl.taints,
            )
        )
    return tuple(out)
