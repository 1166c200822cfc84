"""Per-node rules between pod classes that resources do not capture: who may not share a node, and
how many pods of a hostname-spread group one node may hold.

Called by `optimizer.planner`; used when node patterns are built (`optimizer.pricing`) and improved
(`optimizer.improve`). Required anti-affinity on the hostname between two classes, in either direction,
is a conflict (a class against itself is already a per-node limit of one in `optimizer.candidates`).
A hostname topology spread with DoNotSchedule lets a new node hold at most maxSkew matching pods while
some eligible node holds none -- always so on a plan's last node -- so that is the cap used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kubewise.model import LabelSelector
from kubewise.optimizer.node_labels import HOSTNAME_KEY
from kubewise.optimizer.workload import PodClass
from kubewise.scheduling.matching import term_clause

__all__ = ["NodeRules", "node_rules"]


@dataclass(slots=True)
class NodeRules:
    conflicts: dict[int, set[int]] = field(default_factory=dict)  # class -> classes it may not meet
    group_cap: list[int] = field(default_factory=list)  # spread group -> pods it allows per node
    groups_of: dict[int, list[int]] = field(default_factory=dict)  # class -> groups its pods count in

    @property
    def trivial(self) -> bool:
        return not self.conflicts and not self.group_cap

    def allows(
        self, present: npt.NDArray[np.int64], k: int, n: int, group_load: npt.NDArray[np.int64]
    ) -> int:
        """How many of `n` more pods of class k a node with `present` classes and `group_load` takes."""
        if any(present[j] > 0 for j in self.conflicts.get(k, ())):
            return 0
        for g in self.groups_of.get(k, ()):
            n = min(n, self.group_cap[g] - int(group_load[g]))
        return max(n, 0)


def _candidates_for(
    selector: LabelSelector, postings: dict[tuple[str, str], list[int]], every: list[int]
) -> list[int]:
    """Classes that might match: those having one of the selector's required labels (all if none)."""
    if not selector.match_labels:
        return every
    return min((postings.get(item, []) for item in selector.match_labels), key=len)


def _conflicts(
    classes: Sequence[PodClass], namespace_labels: Mapping[str, Mapping[str, str]]
) -> dict[int, set[int]]:
    postings: dict[tuple[str, str], list[int]] = {}
    for cls in classes:
        for item in cls.example.labels.items():
            postings.setdefault(item, []).append(cls.index)
    every = [cls.index for cls in classes]
    out: dict[int, set[int]] = {}
    for cls in classes:
        owner = cls.example
        for term in owner.pod_anti_affinity:
            if term.topology_key != HOSTNAME_KEY:
                continue
            clause = term_clause(term, owner.namespace)
            for j in _candidates_for(term.selector, postings, every):
                pod = classes[j].example
                if (
                    j != cls.index
                    and clause.namespace_ok(pod.namespace, namespace_labels)
                    and term.selector.matches(pod.labels)
                ):
                    out.setdefault(cls.index, set()).add(j)
                    out.setdefault(j, set()).add(cls.index)
    return out


def node_rules(classes: Sequence[PodClass], namespace_labels: Mapping[str, Mapping[str, str]]) -> NodeRules:
    rules = NodeRules(conflicts=_conflicts(classes, namespace_labels))
    groups: dict[tuple[str, LabelSelector], int] = {}
    for cls in classes:
        pod = cls.example
        for t in pod.topology_spread:
            if t.when_unsatisfiable == "DoNotSchedule" and t.topology_key == HOSTNAME_KEY:
                key = (pod.namespace, t.selector)
                if key not in groups:
                    groups[key] = len(groups)
                    rules.group_cap.append(t.max_skew)
                g = groups[key]
                rules.group_cap[g] = min(rules.group_cap[g], t.max_skew)
    for cls in classes:
        pod = cls.example
        member = [g for (ns, sel), g in groups.items() if ns == pod.namespace and sel.matches(pod.labels)]
        if member:
            rules.groups_of[cls.index] = member
    return rules
