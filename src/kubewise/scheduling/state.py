"""`ClusterState`: nodes, the pods placed on them, and "may this pod go there?" as the scheduler answers.

The optimizer's packer (and later the autoscaler) places pods one by one through `can_place`, which
runs the kube-scheduler filters in upstream order: NodeUnschedulable, TaintToleration, NodeAffinity,
NodeResourcesFit, PodTopologySpread (DoNotSchedule) and InterPodAffinity (required affinity and
anti-affinity, both directions). `scheduling.verify` builds one to check finished plans.

Cost model: pods are interned into label groups (`scheduling.matching`) and pod shapes into profiles
(`scheduling.profile`); per topology key and domain the state keeps pods per group, per anti-affinity
term the domains of its owners, and per spread selector the counts per domain with their minimum
(`scheduling.spread`). A check is O(rules x matching groups); place/remove are O(tracked keys +
rules matching the pod). Nothing scans all pods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from kubewise.model import Node, Pod, Resources
from kubewise.scheduling.describe import format_selector
from kubewise.scheduling.predicates import insufficient_resources, node_predicate_failure
from kubewise.scheduling.profile import AffinityRule, PodProfile, ProfileIndex

__all__ = ["ClusterState"]

_K = TypeVar("_K")
_EMPTY: Mapping[int, int] = {}
_UNSET = "\0"  # static-cache sentinel (no reason is this string)


def _bump(table: dict[_K, int], key: _K, delta: int) -> None:
    n = table.get(key, 0) + delta
    if n:
        table[key] = n
    else:
        table.pop(key, None)


class _NodeState:
    __slots__ = ("alloc", "groups", "labels", "node", "pods", "static", "used")

    def __init__(self, node: Node) -> None:
        self.node = node
        self.labels = node.labels
        self.alloc = node.allocatable.as_dict()
        self.used: dict[str, int] = {}
        self.pods: list[Pod] = []
        self.groups: dict[int, int] = {}  # label group -> pods here
        self.static: dict[int, str | None] = {}  # profile.static_id -> node predicate failure


class ClusterState:
    """Nodes plus placed pods, with the scheduler's filters as `can_place` (mutable, not thread-safe)."""

    def __init__(
        self, nodes: Iterable[Node] = (), namespace_labels: Mapping[str, Mapping[str, str]] | None = None
    ) -> None:
        self._nodes: dict[str, _NodeState] = {}
        self._node_objs: dict[str, Node] = {}
        self._gid_nodes: dict[int, dict[str, int]] = {}  # group -> node -> pods
        self._domains: dict[str, dict[str, dict[int, int]]] = {}  # key -> domain -> group -> pods
        self._keyed: dict[str, dict[int, int]] = {}  # key -> group -> pods on nodes having the key
        self._owners: list[dict[str, int]] = []  # anti term index -> domain -> owner pods there
        self._index = ProfileIndex(namespace_labels or {}, self._node_objs, self._gid_nodes)
        for node in nodes:
            self.add_node(node)

    # --- nodes -------------------------------------------------------------------------------------
    def add_node(self, node: Node) -> None:
        """Add an empty node (real or hypothetical). Raises ValueError if the name is taken."""
        if node.name in self._nodes:
            raise ValueError(f"node {node.name!r} is already in the cluster state")
        self._nodes[node.name] = _NodeState(node)
        self._node_objs[node.name] = node
        for eligible in self._index.eligible.values():
            eligible.add_node(node)

    def remove_node(self, name: str) -> None:
        """Remove a node together with every pod on it."""
        st = self._nodes[name]
        for pod in list(st.pods):
            self.remove(pod, name)
        for eligible in self._index.eligible.values():
            eligible.remove_node(st.node)
        del self._nodes[name]
        del self._node_objs[name]

    def node(self, name: str) -> Node:
        return self._nodes[name].node

    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(self._node_objs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def pods_on(self, name: str) -> tuple[Pod, ...]:
        return tuple(self._nodes[name].pods)

    def free(self, name: str) -> Resources:
        """Allocatable minus the requests of the pods placed on the node (negative if over-committed)."""
        st = self._nodes[name]
        return Resources(
            {k: st.alloc.get(k, 0) - st.used.get(k, 0) for k in st.alloc.keys() | st.used.keys()}
        )

    def profile(self, pod: Pod) -> PodProfile:
        """The shared profile of pods shaped like `pod` (used by `scheduling.verify`)."""
        return self._index.profile(pod)

    # --- placing -----------------------------------------------------------------------------------
    def place(self, pod: Pod, node_name: str) -> None:
        """Put `pod` on the node without any check (loading existing pods, committing a decision)."""
        st = self._nodes[node_name]
        prof = self._index.profile(pod)
        st.pods.append(pod)
        used = st.used
        for r, v in pod.requests.as_dict().items():
            used[r] = used.get(r, 0) + v
        self._count(prof, st, 1)

    def remove(self, pod: Pod, node_name: str) -> None:
        """Take `pod` (the same object, else an equal pod) off the node; ValueError if it is not there."""
        st = self._nodes[node_name]
        pods = st.pods
        at = next((i for i in range(len(pods) - 1, -1, -1) if pods[i] is pod), None)
        if at is None:
            at = next((i for i, p in enumerate(pods) if p == pod), None)
        if at is None:
            raise ValueError(f"pod {pod.key} is not on node {node_name}")
        del pods[at]
        prof = self._index.profile(pod)
        used = st.used
        for r, v in pod.requests.as_dict().items():
            _bump(used, r, -v)
        self._count(prof, st, -1)

    def _count(self, prof: PodProfile, st: _NodeState, delta: int) -> None:
        gid, name, labels = prof.gid, st.node.name, st.labels
        _bump(st.groups, gid, delta)
        _bump(self._gid_nodes.setdefault(gid, {}), name, delta)
        for key, domains in self._domains.items():
            value = labels.get(key)
            if value is not None:
                _bump(domains.setdefault(value, {}), gid, delta)
                _bump(self._keyed[key], gid, delta)
        for tracker in self._index.trackers.for_gid(gid):
            tracker.bump(name, labels, delta)
        owners = self._owners
        for term in prof.anti:
            value = labels.get(term.key)
            if value is not None:
                while len(owners) <= term.index:
                    owners.append({})
                _bump(owners[term.index], value, delta)

    def _domain(self, key: str) -> dict[str, dict[int, int]]:
        """domain -> group -> pods for topology key `key` (built on first use, then kept current)."""
        domains = self._domains.get(key)
        if domains is None:
            domains = self._domains[key] = {}
            totals = self._keyed[key] = {}
            for st in self._nodes.values():
                value = st.labels.get(key)
                if value is None:
                    continue
                cell = domains.setdefault(value, {})
                for gid, n in st.groups.items():
                    cell[gid] = cell.get(gid, 0) + n
                    totals[gid] = totals.get(gid, 0) + n
        return domains

    def pods_in_domain(self, key: str, value: str) -> Mapping[int, int]:
        """group -> pods placed on nodes whose label `key` is `value`."""
        return self._domain(key).get(value, _EMPTY)

    def pods_with_key(self, key: str) -> Mapping[int, int]:
        """group -> pods placed on nodes that carry label `key` at all."""
        self._domain(key)
        return self._keyed[key]

    # --- checks ------------------------------------------------------------------------------------
    def can_place(self, pod: Pod, node_name: str) -> str | None:
        """None if the scheduler would let `pod` onto the node now, else the first failing rule."""
        prof = self._index.profile(pod)
        return (
            self.node_failure(prof, node_name)
            or self.resource_failure(pod, node_name)
            or (self.pod_rules_failure(prof, node_name))
        )

    def node_failure(self, prof: PodProfile, node_name: str) -> str | None:
        """Cordon, taints, node selector, node affinity (cached per node and constraint shape)."""
        st = self._nodes[node_name]
        hit = st.static.get(prof.static_id, _UNSET)
        if hit == _UNSET:
            hit = st.static[prof.static_id] = node_predicate_failure(prof.example, st.node)
        return hit

    def resource_failure(self, pod: Pod, node_name: str) -> str | None:
        """NodeResourcesFit against the node's free room (every pod also requests one `pods` slot)."""
        st = self._nodes[node_name]
        alloc, used = st.alloc, st.used
        requests = pod.requests.as_dict()
        for r, v in requests.items():
            if v > alloc.get(r, 0) - used.get(r, 0):
                free = {k: alloc.get(k, 0) - used.get(k, 0) for k in requests}
                return insufficient_resources(requests, free, alloc)
        return None

    def pod_rules_failure(self, prof: PodProfile, node_name: str) -> str | None:
        """Topology spread, pod affinity, pod anti-affinity and existing pods' anti-affinity."""
        labels = self._nodes[node_name].labels
        reason = None
        if prof.spread:
            reason = self._spread_failure(prof, labels)
        if reason is None and prof.affinity is not None:
            reason = self._affinity_failure(prof.affinity, labels)
        return reason or self.anti_affinity_failure(prof, node_name)

    def anti_affinity_failure(self, prof: PodProfile, node_name: str) -> str | None:
        """The pod's own anti-affinity terms, then existing pods' terms against the pod."""
        if not self._index.anti.items:
            return None
        labels = self._nodes[node_name].labels
        return (self._anti_failure(prof, labels) if prof.anti else None) or self._existing_anti_failure(
            prof, labels
        )

    def _spread_failure(self, prof: PodProfile, labels: Mapping[str, str]) -> str | None:
        for rule in prof.spread:
            value = labels.get(rule.key)
            if value is None:
                sel = format_selector(rule.selector)
                return f"node has no {rule.key} label, required by topology spread constraint ({sel})"
            tracker = rule.tracker
            if tracker is None:
                continue
            count = tracker.counts.get(value, 0)
            low = tracker.global_min(rule.min_domains)
            skew = count + rule.self_match - low
            if skew > rule.max_skew:
                return (
                    f"topology spread on {rule.key}: {value} has {count} pod(s) matching "
                    f"{format_selector(rule.selector)}, global minimum {low}; placing here gives skew "
                    f"{skew} > maxSkew {rule.max_skew}"
                )
        return None

    def _affinity_failure(self, rule: AffinityRule, labels: Mapping[str, str]) -> str | None:
        missing = next((k for k in rule.keys if k not in labels), None)
        if missing is not None:
            return f"node has no {missing} label, required by pod affinity"
        lacking = next(
            (k for k in rule.keys if not rule.matcher.count_in(self.pods_in_domain(k, labels[k]))), None
        )
        if lacking is None:
            return None
        if rule.self_match and not any(rule.matcher.count_in(self.pods_with_key(k)) for k in rule.keys):
            return None  # first pod of a group with affinity to itself
        return f"pod affinity: no pod matching {rule.matcher.describe()} in {lacking}={labels[lacking]}"

    def _anti_failure(self, prof: PodProfile, labels: Mapping[str, str]) -> str | None:
        for term in prof.anti:
            value = labels.get(term.key)
            if value is None:
                continue
            n = term.matcher.count_in(self.pods_in_domain(term.key, value))
            if n:
                what = term.matcher.describe()
                return f"pod anti-affinity: {n} pod(s) matching {what} already in {term.key}={value}"
        return None

    def _existing_anti_failure(self, prof: PodProfile, labels: Mapping[str, str]) -> str | None:
        owners = self._owners
        for term in self._index.anti.for_gid(prof.gid):
            value = labels.get(term.key)
            if value is None or term.index >= len(owners):
                continue
            n = owners[term.index].get(value, 0)
            if n:
                return (
                    f"anti-affinity of {n} pod(s) already in {term.key}={value} rejects pods matching "
                    f"{term.matcher.describe()}"
                )
        return None
