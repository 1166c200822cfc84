"""Node downscaler: nodes that hold only DaemonSet (or static) pods for longer than the delay go.

Called by `autoscaler.cycle`. Pure: when each node was first seen empty is state the caller keeps
between cycles (`empty_since`, node name -> seconds on the caller's clock); this returns the new
state with the actions. A node is kept when it carries the label `REMOVAL_DISABLED_LABEL=true`, when
a pending pod could run on it (the scheduler is about to use it), or when removing it would take the
cluster below `clusterLimits.cpu.minCores`. Nodes go emptiest-in-time first, each as cordon then delete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kubewise.autoscaler.actions import CordonNode, DeleteNode
from kubewise.autoscaler.policy import AutoscalerPolicy
from kubewise.autoscaler.scale_up import cluster_state, node_cores, pending_pods
from kubewise.model import Snapshot

__all__ = ["REMOVAL_DISABLED_LABEL", "EmptyNodes", "empty_nodes", "is_empty"]

REMOVAL_DISABLED_LABEL = "autoscaling.kubewise.dev/removal-disabled"


@dataclass(frozen=True, slots=True)
class EmptyNodes:
    actions: tuple[CordonNode | DeleteNode, ...]
    empty_since: dict[str, float]  # to pass to the next cycle
    kept: dict[str, str]  # empty nodes left alone, with why


def is_empty(snapshot: Snapshot) -> dict[str, bool]:
    """Per node: does it run nothing but DaemonSet and static pods?"""
    busy = {p.node_name for p in snapshot.active_pods if p.node_name and not (p.is_daemonset or p.is_mirror)}
    return {n.name: n.name not in busy for n in snapshot.nodes}


def empty_nodes(
    snapshot: Snapshot, policy: AutoscalerPolicy, now: float, empty_since: Mapping[str, float]
) -> EmptyNodes:
    empty = is_empty(snapshot)
    since = {name: empty_since.get(name, now) for name, yes in empty.items() if yes}
    if not (policy.node_downscaler and policy.empty_nodes):
        return EmptyNodes((), since, {})
    pending = pending_pods(snapshot)
    state = cluster_state(snapshot) if pending else None
    cores = sum(node_cores(n) for n in snapshot.nodes)
    nodes = {n.name: n for n in snapshot.nodes}
    actions: list[CordonNode | DeleteNode] = []
    kept: dict[str, str] = {}
    delay = f"nodeDownscaler.emptyNodes.delaySeconds={policy.empty_delay_seconds:g}"
    for name in sorted(since, key=lambda n: (since[n], n)):
        node, waited = nodes[name], now - since[name]
        if waited < policy.empty_delay_seconds:
            kept[name] = f"empty for {waited:.0f}s of {delay}"
            continue
        if node.labels.get(REMOVAL_DISABLED_LABEL) == "true":
            kept[name] = f"labelled {REMOVAL_DISABLED_LABEL}=true"
            continue
        if state is not None and any(state.can_place(p, name) is None for p in pending):
            kept[name] = "a pending pod can run on it"
            continue
        if policy.cluster_limits and cores - node_cores(node) < policy.min_cores:
            left = cores - node_cores(node)
            kept[name] = (
                f"removing it would leave {left} cores, under clusterLimits.cpu.minCores={policy.min_cores}"
            )
            continue
        cores -= node_cores(node)
        why = f"only DaemonSet pods for {waited:.0f}s ({delay})"
        actions += [CordonNode(name, f"{why}: no new pods"), DeleteNode(name, f"{why}: removed")]
    return EmptyNodes(tuple(actions), since, kept)
