"""Node specs become planned nodes with named pods, checked pod by pod by the scheduler's rules.

Called by `optimizer.planner` last. Nodes free to use any zone are spread over the zones in turn; each
node takes its pods from its demand rows; then `scheduling.verify_placement` judges the whole placement.
A pod it objects to (a rule the patterns only approximate, such as required pod affinity) is moved: to
another planned node that accepts it, else to a new node of the cheapest candidate that does; only if
none does is it reported unschedulable, with the scheduler's reason. No plan leaves here unverified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubewise.model import Node, Pod
from kubewise.optimizer.candidates import CandidateSet
from kubewise.optimizer.demand import ANY_ZONE, DemandRows
from kubewise.optimizer.types import PlannedNode, UnschedulablePod
from kubewise.scheduling import ClusterState, Violation, verify_placement

__all__ = ["NodeSpec", "Realized", "realize"]

_REPAIR_PASSES = 3
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """A node to create: candidate, zone (or ANY_ZONE: any), and pods per demand row."""

    cand: int
    zone: int
    rows: IntArray
    counts: IntArray


@dataclass(slots=True)
class Realized:
    nodes: list[PlannedNode] = field(default_factory=list)
    candidate_of: dict[str, int] = field(default_factory=dict)  # node name -> candidate index
    unschedulable: list[UnschedulablePod] = field(default_factory=list)


def _zones_in_turn(specs: Sequence[NodeSpec], n_zones: int) -> list[int]:
    """A zone per spec: pinned ones keep theirs; the others rotate per candidate, so each type spreads."""
    turn: dict[int, int] = {}
    out = []
    for spec in specs:
        if spec.zone != ANY_ZONE:
            out.append(spec.zone)
            continue
        i = turn.get(spec.cand, 0)
        turn[spec.cand] = i + 1
        out.append(i % n_zones)
    return out


class _Builder:
    def __init__(self, cs: CandidateSet) -> None:
        self.cs = cs
        self.out = Realized()
        self.serial = 0

    def open(self, cand: int, zone: int) -> PlannedNode:
        self.serial += 1
        c = self.cs.candidates[cand]
        name = f"kubewise-{c.itype.name.replace('_', '-').replace('.', '-').lower()}-{self.serial}"
        node = PlannedNode(c.itype, c.capacity_type, self.cs.zones[zone], c.template, [], name)
        self.out.nodes.append(node)
        self.out.candidate_of[name] = cand
        return node

    def scheduler_nodes(self) -> list[Node]:
        return [
            self.cs.candidates[self.out.candidate_of[n.name]].node(n.name, n.zone) for n in self.out.nodes
        ]

    def placement(self) -> dict[str, list[Pod]]:
        return {
            n.name: [*self.cs.candidates[self.out.candidate_of[n.name]].daemonsets, *n.pods]
            for n in self.out.nodes
        }


def _fill(builder: _Builder, rows: DemandRows, specs: Sequence[NodeSpec]) -> None:
    waiting = [list(reversed(p)) for p in rows.pods]  # popped from the end: pods keep their row order
    for spec, zone in zip(specs, _zones_in_turn(specs, len(builder.cs.zones)), strict=True):
        node = builder.open(spec.cand, zone)
        for r, n in zip(spec.rows.tolist(), spec.counts.tolist(), strict=True):
            node.pods.extend(waiting[r].pop() for _ in range(n))


def _new_home(builder: _Builder, state: ClusterState, pod: Pod, klass: int) -> str | None:
    """Reason the pod cannot stay anywhere, after placing it on a node that takes it (None: placed)."""
    for node in builder.out.nodes:
        if state.can_place(pod, node.name) is None:
            state.place(pod, node.name)
            node.pods.append(pod)
            return None
    cs = builder.cs
    reason = "no planned or new node accepts it"
    for cand in sorted(np.nonzero(cs.fits[klass])[0].tolist(), key=lambda c: (cs.candidates[c].price, c)):
        for zone in np.nonzero(cs.zone_ok[klass, cand])[0].tolist():
            node = builder.open(cand, zone)
            state.add_node(cs.candidates[cand].node(node.name, node.zone))
            for ds in cs.candidates[cand].daemonsets:
                state.place(ds, node.name)
            why = state.can_place(pod, node.name)
            if why is None:
                state.place(pod, node.name)
                node.pods.append(pod)
                return None
            reason = why
            state.remove_node(node.name)
            builder.out.nodes.pop()
            del builder.out.candidate_of[node.name]
    return reason


def _take_off(
    builder: _Builder, violations: Sequence[Violation], *, report: bool = True
) -> list[tuple[Pod, str]]:
    """Remove the named pods from their nodes (reporting them unschedulable unless they will move)."""
    by_node = {n.name: n for n in builder.out.nodes}
    moved: list[tuple[Pod, str]] = []
    for v in violations:
        node = by_node[v.node_name]
        pod = next((p for p in node.pods if p.key == v.pod_key), None)
        if pod is None:
            continue
        node.pods.remove(pod)
        moved.append((pod, v.reason))
        if report:
            builder.out.unschedulable.append(
                UnschedulablePod(pod, f"placing it would break a scheduling rule: {v.reason}")
            )
    return moved


def _repair(
    builder: _Builder, class_of: Mapping[int, int], namespace_labels: Mapping[str, Mapping[str, str]]
) -> None:
    for _ in range(_REPAIR_PASSES):
        violations = verify_placement(builder.scheduler_nodes(), builder.placement(), namespace_labels)
        if not violations:
            return
        moving = _take_off(builder, violations, report=False)
        state = ClusterState(builder.scheduler_nodes(), namespace_labels)
        for name, pods in builder.placement().items():
            for p in pods:
                state.place(p, name)
        for pod, first_reason in sorted(moving, key=lambda m: m[0].key):
            why = _new_home(builder, state, pod, class_of[id(pod)])
            if why is not None:
                builder.out.unschedulable.append(
                    UnschedulablePod(pod, f"placing it would break a scheduling rule: {first_reason}")
                )
    while violations := verify_placement(builder.scheduler_nodes(), builder.placement(), namespace_labels):
        if not _take_off(builder, violations):  # only DaemonSet pods object: a bug, not a plan to return
            raise RuntimeError(f"plan verification failed on DaemonSet pods: {violations[0].reason}")


def realize(
    cs: CandidateSet,
    rows: DemandRows,
    specs: Sequence[NodeSpec],
    class_of: Mapping[int, int],
    namespace_labels: Mapping[str, Mapping[str, str]],
) -> Realized:
    """Planned nodes for `specs`, verified; pods that no node may take are returned unschedulable."""
    builder = _Builder(cs)
    _fill(builder, rows, specs)
    _repair(builder, class_of, namespace_labels)
    builder.out.nodes = [n for n in builder.out.nodes if n.pods]
    return builder.out
