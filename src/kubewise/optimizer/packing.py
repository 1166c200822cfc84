"""Turns the LP's fractional solution into whole nodes, every placement checked by `scheduling`.

Called by `optimizer.planner`; `optimizer.repacking` finishes the job (tail nodes, leftovers, downsizing).
Each pod goes onto a node only if `ClusterState.can_place` accepts it, so node selectors, affinity,
anti-affinity, taints and resources are the scheduler's rules, not a second copy of them. Topology spread
is the exception: counting domains on a half-built plan would be wrong, so zone spread is settled by
`optimizer.zones` up front and hostname spread by a per-node cap here; `verify_placement` checks both.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubewise.model import LabelSelector, Pod
from kubewise.optimizer.candidates import CandidateSet
from kubewise.optimizer.node_labels import HOSTNAME_KEY
from kubewise.optimizer.types import PlannedNode
from kubewise.optimizer.workload import PodClass
from kubewise.scheduling import ClusterState

__all__ = ["Packer", "Pool"]

# pool[zone index or None][class index] -> pods waiting (popped from the end)
Pool = dict[int | None, dict[int, list[Pod]]]


@dataclass(slots=True)
class _HostSpread:
    """Hostname DoNotSchedule spread: at most `cap` pods matching the group on one node."""

    cap: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # class -> [(group, maxSkew)]
    member: dict[int, list[int]] = field(default_factory=dict)  # class -> groups whose selector matches it


def _host_spread(classes: Sequence[PodClass]) -> _HostSpread:
    groups: dict[tuple[str, LabelSelector], int] = {}
    out = _HostSpread()
    for cls in classes:
        pod = cls.example
        for t in pod.topology_spread:
            if t.when_unsatisfiable == "DoNotSchedule" and t.topology_key == HOSTNAME_KEY:
                g = groups.setdefault((pod.namespace, t.selector), len(groups))
                out.cap.setdefault(cls.index, []).append((g, t.max_skew))
    for cls in classes:
        pod = cls.example
        out.member[cls.index] = [
            g for (ns, sel), g in groups.items() if ns == pod.namespace and sel.matches(pod.labels)
        ]
    return out


class Packer:
    """Holds the plan being built: nodes, their pods, and the scheduler state that checks each move."""

    def __init__(
        self, classes: Sequence[PodClass], cs: CandidateSet, namespace_labels: Mapping[str, Mapping[str, str]]
    ) -> None:
        self.classes = classes
        self.cs = cs
        self.state = ClusterState([], namespace_labels)
        self.nodes: dict[str, PlannedNode] = {}
        self.node_candidate: dict[str, int] = {}
        self.node_zone: dict[str, int] = {}
        self.class_counts: dict[str, Counter[int]] = {}
        self.used: dict[str, npt.NDArray[np.int64]] = {}
        self._spread = _host_spread(classes)
        self._spread_counts: dict[str, Counter[int]] = {}
        self._class_of: dict[int, int] = {id(p): cls.index for cls in classes for p in cls.pods}
        self._views: dict[int, Pod] = {}
        self._serial = 0

    # --- nodes ---------------------------------------------------------------------------------
    def open_node(self, candidate: int, zone: int) -> str:
        self._serial += 1
        itype = self.cs.candidates[candidate].itype
        name = f"kubewise-{itype.name.replace('_', '-').replace('.', '-').lower()}-{self._serial}"
        self._add_node(name, candidate, zone)
        return name

    def _add_node(self, name: str, candidate: int, zone: int) -> None:
        cand = self.cs.candidates[candidate]
        self.state.add_node(cand.node(name, self.cs.zones[zone]))
        for ds in cand.daemonsets:
            self.state.place(ds, name)
        self.nodes[name] = PlannedNode(
            cand.itype, cand.capacity_type, self.cs.zones[zone], cand.template, [], name
        )
        self.node_candidate[name] = candidate
        self.node_zone[name] = zone
        self.class_counts[name] = Counter()
        self._spread_counts[name] = Counter()
        self.used[name] = np.zeros(len(self.cs.resources), dtype=np.int64)

    def close_node(self, name: str) -> list[Pod]:
        """Remove a node and return its (movable) pods."""
        pods = list(self.nodes[name].pods)
        for pod in pods:
            self.unplace(pod, name)
        self.state.remove_node(name)
        for table in (
            self.nodes,
            self.node_candidate,
            self.node_zone,
            self.class_counts,
            self._spread_counts,
            self.used,
        ):
            del table[name]
        return pods

    def retype_node(self, name: str, candidate: int) -> None:
        """Swap a node's instance type in place (same name and zone, same pods)."""
        zone = self.node_zone[name]
        pods = self.close_node(name)
        self._add_node(name, candidate, zone)
        for pod in pods:
            self.place(pod, name)

    # --- pods ----------------------------------------------------------------------------------
    def class_of(self, pod: Pod) -> int:
        return self._class_of[id(pod)]

    def _view(self, pod: Pod) -> Pod:
        """The pod as the packing state sees it: topology spread is settled by the packer instead."""
        if not pod.topology_spread:
            return pod
        view = self._views.get(id(pod))
        if view is None:
            view = self._views[id(pod)] = dataclasses.replace(pod, topology_spread=())
        return view

    def spread_allows(self, k: int, name: str) -> bool:
        counts = self._spread_counts[name]
        members = self._spread.member.get(k, ())
        return all(counts[g] + (1 if g in members else 0) <= cap for g, cap in self._spread.cap.get(k, ()))

    def can_place(self, pod: Pod, name: str) -> bool:
        k = self.class_of(pod)
        if not self.cs.zone_ok[k, self.node_candidate[name], self.node_zone[name]]:
            return False
        if not self.spread_allows(k, name):
            return False
        return self.state.can_place(self._view(pod), name) is None

    def place(self, pod: Pod, name: str) -> None:
        k = self.class_of(pod)
        self.state.place(self._view(pod), name)
        self.nodes[name].pods.append(pod)
        self.class_counts[name][k] += 1
        for g in self._spread.member.get(k, ()):
            self._spread_counts[name][g] += 1
        self.used[name] += self.cs.demand[k]

    def unplace(self, pod: Pod, name: str) -> None:
        k = self.class_of(pod)
        self.state.remove(self._view(pod), name)
        self.nodes[name].pods.remove(pod)
        self.class_counts[name][k] -= 1
        for g in self._spread.member.get(k, ()):
            self._spread_counts[name][g] -= 1
        self.used[name] -= self.cs.demand[k]

    # --- filling -------------------------------------------------------------------------------
    def class_order(self, candidate: int, present: Sequence[int]) -> list[int]:
        """Largest first, by the share of this node's room one pod takes in its scarcest resource."""
        room = np.maximum(self.cs.room[candidate], 1)
        return sorted(present, key=lambda k: (-float((self.cs.demand[k] / room).max()), k))

    def fill(self, name: str, pool: Pool) -> int:
        """Place as many pool pods as fit on node `name`; returns how many were placed."""
        zone = self.node_zone[name]
        present = sorted({k for key in (zone, None) for k, pods in pool.get(key, {}).items() if pods})
        placed = 0
        for k in self.class_order(self.node_candidate[name], present):
            for key in (zone, None):
                waiting = pool.get(key, {}).get(k)
                while waiting and self.can_place(waiting[-1], name):
                    self.place(waiting.pop(), name)
                    placed += 1
        return placed

    def utilization(self, name: str) -> float:
        """Share of the node's room used in its fullest resource (1.0 = some resource is full)."""
        room = np.maximum(self.cs.room[self.node_candidate[name]], 1)
        return float((self.used[name] / room).max())
