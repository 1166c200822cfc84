"""Spot: which capacity types a scale-up may use, a diverse set of spot types, interruption notices.

Called by `autoscaler.scale_up` and `autoscaler.cycle`.
- Capacity: with spot allowed, new nodes are spot; spot offerings the cloud recently had no capacity
  for (`unavailable`, reported by the controller) are left out; with `spot_backups`, on-demand is
  allowed too, which the planner picks only where no spot offering can run the pods (the fallback).
  Going back to spot is the next plan's choice once the offerings are available again.
- Diversity: a spot node's action lists other spot types, within the price increase limit, that run
  every pod of the group (checked with `scheduling.static_fit` on the node they would be), so the
  cloud can be asked for a fleet of several types instead of one pool that may be interrupted at once.
- Interruption: a node whose provider announced its reclaim (the taints or label below) is replaced
  ahead of time: its pods are planned as if pending, and the node is cordoned, drained and deleted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from kubewise.autoscaler.policy import AutoscalerPolicy
from kubewise.catalog.types import InstanceType, RegionCatalog
from kubewise.model import CAPACITY_ON_DEMAND, CAPACITY_SPOT, Node, Pod
from kubewise.optimizer import Constraints, PlannedNode, planned_node_object
from kubewise.scheduling import daemonset_pods_for, static_fit, unbind_daemonset_pod

__all__ = [
    "INTERRUPTION_LABEL",
    "INTERRUPTION_TAINTS",
    "capacity_constraints",
    "daemonset_representatives",
    "diverse_types",
    "interrupted",
]

INTERRUPTION_LABEL = "kubewise.dev/interruption-notice"
INTERRUPTION_TAINTS = (
    "aws-node-termination-handler/spot-itn",  # AWS Node Termination Handler: 2-minute notice
    "aws-node-termination-handler/rebalance-recommendation",
    "karpenter.sh/disrupted",
    "cloud.google.com/impending-node-termination",
)


def capacity_constraints(
    constraints: Constraints, policy: AutoscalerPolicy, unavailable: frozenset[tuple[str, str]]
) -> Constraints:
    if not policy.spot:
        capacity: tuple[str, ...] = (CAPACITY_ON_DEMAND,)
    elif policy.spot_backups:
        capacity = (CAPACITY_SPOT, CAPACITY_ON_DEMAND)
    else:
        capacity = (CAPACITY_SPOT,)
    excluded = constraints.exclude_offerings | unavailable
    return dataclasses.replace(constraints, capacity_types=capacity, exclude_offerings=excluded)


def interrupted(node: Node) -> bool:
    return node.labels.get(INTERRUPTION_LABEL) == "true" or any(
        t.key in INTERRUPTION_TAINTS for t in node.taints
    )


def diverse_types(
    planned: PlannedNode,
    pods: Sequence[Pod],
    catalog: RegionCatalog,
    constraints: Constraints,
    policy: AutoscalerPolicy,
    unavailable: frozenset[tuple[str, str]],
    daemonsets: Sequence[Pod] = (),
) -> tuple[str, ...]:
    """Other spot types for this node: within the price limit, allowed by the constraints, and able to
    run all of `pods` with the DaemonSet pods it would carry (`daemonsets`: one unbound pod per
    DaemonSet), cheapest first."""
    if not (policy.spot and policy.spot_diversity) or planned.capacity_type != CAPACITY_SPOT:
        return ()
    chosen = planned.hourly_price
    ceiling = chosen * (1 + policy.spot_diversity_price_increase_limit_percent / 100)
    allowed = catalog.filter(
        families=constraints.families,
        exclude_families=constraints.exclude_families,
        arch=constraints.arch,
        gpu=None if constraints.allow_gpu else False,
        capacity_type=CAPACITY_SPOT,
        min_vcpu=constraints.min_vcpu,
        max_vcpu=constraints.max_vcpu,
        min_memory_mib=constraints.min_memory_mib,
        max_memory_mib=constraints.max_memory_mib,
    )
    out: list[tuple[float, str]] = []
    for itype in allowed:
        price = itype.spot_price
        if itype.name == planned.instance_type.name or price is None or price > ceiling:
            continue
        if (itype.name, CAPACITY_SPOT) in unavailable | constraints.exclude_offerings:
            continue
        if _runs_all(itype, planned, pods, daemonsets):
            out.append((price, itype.name))
    return tuple(name for _, name in sorted(out))


def _runs_all(
    itype: InstanceType, planned: PlannedNode, pods: Sequence[Pod], daemonsets: Sequence[Pod]
) -> bool:
    node = planned_node_object(dataclasses.replace(planned, instance_type=itype, pods=[]), "diversity-probe")
    if any(static_fit(p, node) is not None for p in pods):
        return False
    carried = [*pods, *daemonset_pods_for(node, daemonsets)]
    total = {r: sum(p.requests.get(r, 0) for p in carried) for p in carried for r in p.requests}
    return all(node.allocatable.get(r, 0) >= need for r, need in total.items())


def daemonset_representatives(pods: Sequence[Pod]) -> list[Pod]:
    """One unbound pod per DaemonSet, to ask which DaemonSets a new node would run."""
    seen: dict[tuple[str, str], Pod] = {}
    for pod in pods:
        if pod.is_daemonset:
            seen.setdefault((pod.namespace, pod.owner_name), unbind_daemonset_pod(pod))
    return list(seen.values())
