"""Splits a snapshot's pods into what a plan must place and what every new node carries.

Called by `optimizer.planner`. Movable pods are grouped into classes of interchangeable pods so
that the lower bound and the packer work per class, not per pod (100k pods are a few hundred classes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kubewise.model import CPU, MEMORY, NodeSelectorTerm, Pod, Snapshot

__all__ = ["PodClass", "Workload", "split_workload"]

# Labels that differ pod by pod inside one controller but are never what a planner decision hinges on.
_PER_POD_LABELS = frozenset(
    {
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "controller-revision-hash",
        "pod-template-generation",
        "batch.kubernetes.io/job-completion-index",
    }
)


@dataclass(slots=True)
class PodClass:
    """Pods with identical requests and scheduling constraints (interchangeable for planning)."""

    index: int
    pods: list[Pod] = field(default_factory=list)

    @property
    def example(self) -> Pod:
        return self.pods[0]

    @property
    def count(self) -> int:
        return len(self.pods)


@dataclass(slots=True)
class Workload:
    movable: list[Pod]
    daemonsets: list[Pod]  # one representative pod per DaemonSet, node binding removed
    mirror_pods: list[Pod]  # static pods: bound to their node, not planned
    classes: list[PodClass]


def _unbind_daemonset_pod(pod: Pod) -> Pod:
    """DaemonSet pods carry `matchFields metadata.name In [node]`; drop it to ask about a new node."""
    terms: list[NodeSelectorTerm] = []
    for term in pod.node_affinity:
        if term.match_fields and not term.match_expressions:
            continue  # the term only pinned the pod to its node
        terms.append(NodeSelectorTerm(term.match_expressions, ()))
    return dataclasses.replace(pod, node_affinity=tuple(terms), node_name="")


def _daemonset_representatives(pods: Iterable[Pod]) -> list[Pod]:
    """The largest pod of each DaemonSet (they are identical unless a rollout is in progress)."""
    best: dict[tuple[str, str], Pod] = {}
    for pod in pods:
        key = (pod.namespace, pod.owner_name or pod.name)
        size = (pod.requests[CPU], pod.requests[MEMORY])
        current = best.get(key)
        if current is None or size > (current.requests[CPU], current.requests[MEMORY]):
            best[key] = pod
    return [_unbind_daemonset_pod(best[k]) for k in sorted(best)]


def _selected_label_keys(pods: Sequence[Pod]) -> frozenset[str]:
    """Label keys some pod's affinity, anti-affinity or spread selector looks at."""
    keys: set[str] = set()
    for pod in pods:
        selectors = [t.selector for t in (*pod.pod_affinity, *pod.pod_anti_affinity)]
        selectors += [c.selector for c in pod.topology_spread]
        for sel in selectors:
            keys.update(k for k, _ in sel.match_labels)
            keys.update(r.key for r in sel.match_expressions)
    return frozenset(keys - _PER_POD_LABELS)


def class_signature(pod: Pod, selected: frozenset[str]) -> tuple[object, ...]:
    """Everything about a pod that can change where it, or a pod selecting it, may run.

    Labels count only where some selector reads them: otherwise every Deployment would be its own
    class and the lower bound and packer would scale with the number of Deployments.
    """
    labels = tuple(sorted((k, v) for k, v in pod.labels.items() if k in selected))
    has_rules = bool(pod.pod_affinity or pod.pod_anti_affinity or pod.topology_spread)
    return (
        pod.namespace if (has_rules or labels) else "",
        labels,
        pod.requests,
        tuple(sorted(pod.node_selector.items())),
        pod.node_affinity,
        pod.tolerations,
        pod.pod_affinity,
        pod.pod_anti_affinity,
        pod.topology_spread,
    )


def group_classes(pods: Sequence[Pod]) -> list[PodClass]:
    selected = _selected_label_keys(pods)
    by_signature: dict[tuple[object, ...], PodClass] = {}
    for pod in pods:
        sig = class_signature(pod, selected)
        cls = by_signature.get(sig)
        if cls is None:
            cls = by_signature[sig] = PodClass(len(by_signature))
        cls.pods.append(pod)
    return list(by_signature.values())


def split_workload(snapshot: Snapshot) -> Workload:
    """Movable pods (everything but DaemonSet, static and terminal pods) in a deterministic order."""
    movable: list[Pod] = []
    daemon: list[Pod] = []
    mirror: list[Pod] = []
    for pod in snapshot.active_pods:
        if pod.is_daemonset:
            daemon.append(pod)
        elif pod.is_mirror:
            mirror.append(pod)
        else:
            movable.append(pod)
    movable.sort(key=lambda p: (p.namespace, p.name))
    return Workload(movable, _daemonset_representatives(daemon), mirror, group_classes(movable))
