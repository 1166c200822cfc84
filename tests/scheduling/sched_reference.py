"""A deliberately naive transcription of the upstream filters, to check ClusterState's indexes against.

Scans every node and pod for every question, following the Go code of the PodTopologySpread and
InterPodAffinity plugins line by line (topology pair maps, "pod matches all affinity terms", the
self-affinity escape, the global minimum with minDomains). Only for tests: O(pods) per check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from kubewise.model import LabelSelector, Node, Pod, PodAffinityTerm
from kubewise.scheduling import (
    matches_node_affinity,
    matches_node_selector,
    node_predicate_failure,
    tolerates,
)

Placement = Mapping[str, Sequence[Pod]]
NsLabels = Mapping[str, Mapping[str, str]]


def _term_matches(term: PodAffinityTerm, owner_ns: str, pod: Pod, ns_labels: NsLabels) -> bool:
    namespaces = term.namespaces or ((owner_ns,) if term.namespace_selector is None else ())
    ns_ok = pod.namespace in namespaces or (
        term.namespace_selector is not None
        and term.namespace_selector.matches(ns_labels.get(pod.namespace, {}))
    )
    return ns_ok and term.selector.matches(pod.labels)


def _resources_ok(pod: Pod, node: Node, placed: Sequence[Pod]) -> bool:
    used: Counter[str] = Counter()
    for p in placed:
        used.update(dict(p.requests.items()))
    return all(v <= node.allocatable[k] - used[k] for k, v in pod.requests.items() if v > 0)


def _merged(pod: Pod, selector: LabelSelector, keys: Sequence[str]) -> LabelSelector:
    extra = tuple((k, pod.labels[k]) for k in keys if k in pod.labels)
    return LabelSelector(selector.match_labels + extra, selector.match_expressions)


def _spread_ok(pod: Pod, node: Node, nodes: Sequence[Node], placement: Placement) -> bool:
    constraints = [c for c in pod.topology_spread if c.when_unsatisfiable == "DoNotSchedule"]
    for c in constraints:
        selector = _merged(pod, c.selector, c.match_label_keys)
        counts: dict[str, int] = {}
        for n in nodes:
            if not all(x.topology_key in n.labels for x in constraints):
                continue
            if c.node_affinity_policy == "Honor" and not (
                matches_node_selector(pod, n.labels) and matches_node_affinity(pod, n.labels, n.name)
            ):
                continue
            if c.node_taints_policy == "Honor" and not tolerates(pod, n.taints):
                continue
            value = n.labels[c.topology_key]
            matching = 0
            if not selector.is_empty:
                matching = sum(
                    1
                    for q in placement.get(n.name, ())
                    if q.namespace == pod.namespace and selector.matches(q.labels)
                )
            counts[value] = counts.get(value, 0) + matching
        if c.topology_key not in node.labels:
            return False
        low = min(counts.values()) if len(counts) >= (c.min_domains or 1) else 0
        me = 1 if selector.matches(pod.labels) else 0
        if counts.get(node.labels[c.topology_key], 0) + me - low > c.max_skew:
            return False
    return True


def _inter_pod_ok(
    pod: Pod, node: Node, nodes: Sequence[Node], placement: Placement, ns_labels: NsLabels
) -> bool:
    affinity: Counter[tuple[str, str]] = Counter()
    anti: Counter[tuple[str, str]] = Counter()
    existing: Counter[tuple[str, str]] = Counter()
    for n in nodes:
        for q in placement.get(n.name, ()):
            terms = pod.pod_affinity
            if terms and all(_term_matches(t, pod.namespace, q, ns_labels) for t in terms):
                affinity.update(
                    (t.topology_key, n.labels[t.topology_key]) for t in terms if t.topology_key in n.labels
                )
            for t in pod.pod_anti_affinity:
                if _term_matches(t, pod.namespace, q, ns_labels) and t.topology_key in n.labels:
                    anti[(t.topology_key, n.labels[t.topology_key])] += 1
            for t in q.pod_anti_affinity:
                if _term_matches(t, q.namespace, pod, ns_labels) and t.topology_key in n.labels:
                    existing[(t.topology_key, n.labels[t.topology_key])] += 1
    exist = True
    for t in pod.pod_affinity:
        if t.topology_key not in node.labels:
            return False
        if affinity[(t.topology_key, node.labels[t.topology_key])] <= 0:
            exist = False
    if not exist:
        self_ok = all(_term_matches(t, pod.namespace, pod, ns_labels) for t in pod.pod_affinity)
        if +affinity or not self_ok:
            return False
    for t in pod.pod_anti_affinity:
        if t.topology_key in node.labels and anti[(t.topology_key, node.labels[t.topology_key])] > 0:
            return False
    return not any(existing[(k, v)] > 0 for k, v in node.labels.items())


def naive_can_place(
    pod: Pod, node: Node, nodes: Sequence[Node], placement: Placement, ns_labels: NsLabels | None = None
) -> bool:
    """Would the scheduler put `pod` on `node` given `placement` (node name -> pods)?"""
    ns = ns_labels or {}
    return (
        node_predicate_failure(pod, node) is None
        and _resources_ok(pod, node, placement.get(node.name, ()))
        and _spread_ok(pod, node, nodes, placement)
        and _inter_pod_ok(pod, node, nodes, placement, ns)
    )
