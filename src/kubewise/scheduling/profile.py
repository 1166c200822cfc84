"""What `ClusterState` precomputes once per distinct pod shape: its group, rules and matchers.

Used only by `scheduling.state` (and through it `scheduling.verify`). Pods alike for scheduling
(same namespace, labels and scheduling constraints; requests may differ) share one `PodProfile`, so
checking or placing the 10,000th replica of a Deployment costs dictionary lookups, not selector
evaluation. `ProfileIndex` owns the shared registries: label groups, matchers, anti-affinity terms
and spread trackers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from kubewise.model import LabelSelector, Node, Pod, TopologySpreadConstraint
from kubewise.scheduling.matching import Clause, LabelGroups, Matcher, term_clause
from kubewise.scheduling.spread import EligibleNodes, SpreadTracker

__all__ = [
    "AffinityRule",
    "AntiTerm",
    "ByGroup",
    "PodProfile",
    "ProfileIndex",
    "SpreadRule",
    "spread_selector",
]


@dataclass(frozen=True, slots=True, eq=False)
class AntiTerm:
    """A required anti-affinity term of some pod: no pod matching `matcher` within the same `key` domain."""

    index: int  # position in the state's registry of anti-affinity terms
    matcher: Matcher
    key: str


@dataclass(frozen=True, slots=True, eq=False)
class AffinityRule:
    """A pod's required affinity terms: per term key, a pod matching ALL terms must share the domain."""

    matcher: Matcher  # conjunction of every term (upstream counts pods matching all terms)
    keys: tuple[str, ...]  # topology key of each term, in order
    self_match: bool  # the pod matches all its own terms (may start the first domain)


@dataclass(frozen=True, slots=True, eq=False)
class SpreadRule:
    """One DoNotSchedule topology spread constraint of a pod, bound to its tracker."""

    tracker: SpreadTracker | None  # None for an empty selector: upstream counts no pods, only the key matters
    key: str
    max_skew: int
    min_domains: int
    self_match: int  # 1 when the pod matches the constraint's selector, else 0
    selector: LabelSelector  # with matchLabelKeys merged (for reasons)


@dataclass(frozen=True, slots=True, eq=False)
class PodProfile:
    """Everything the fit checks need about one pod shape."""

    example: Pod
    gid: int  # label group (namespace, labels)
    static_id: int  # id of (nodeSelector, node affinity, tolerations): node predicate cache key
    anti: tuple[AntiTerm, ...]
    affinity: AffinityRule | None
    spread: tuple[SpreadRule, ...]

    @property
    def has_pod_rules(self) -> bool:
        return bool(self.anti or self.affinity or self.spread)


def spread_selector(constraint: TopologySpreadConstraint, pod: Pod) -> LabelSelector:
    """The constraint's selector with matchLabelKeys merged in as `key=pod's value` (absent keys skipped)."""
    extra = tuple(
        (k, pod.labels[k])
        for k in constraint.match_label_keys
        if k in pod.labels and (k, pod.labels[k]) not in constraint.selector.match_labels
    )
    if not extra:
        return constraint.selector
    return LabelSelector(constraint.selector.match_labels + extra, constraint.selector.match_expressions)


class _HasMatcher(Protocol):
    @property
    def matcher(self) -> Matcher: ...


_T = TypeVar("_T", bound=_HasMatcher)


class ByGroup(Generic[_T]):
    """An append-only list of rules with, per label group, the rules whose matcher selects it.

    Rules are filed under a label pair every matching group must carry (their matcher's anchor), so
    finding the rules of a group looks only at rules anchored on one of its labels.
    """

    __slots__ = ("_anchored", "_cache", "_groups", "_loose", "_position", "items")

    def __init__(self, groups: LabelGroups) -> None:
        self.items: list[_T] = []
        self._groups = groups
        self._anchored: dict[tuple[str, str], list[_T]] = {}
        self._loose: list[_T] = []
        self._position: dict[int, int] = {}
        self._cache: dict[int, tuple[int, list[_T]]] = {}

    def add(self, item: _T) -> None:
        self._position[id(item)] = len(self.items)
        self.items.append(item)
        anchor = item.matcher.anchor()
        if anchor is None:
            self._loose.append(item)
        else:
            self._anchored.setdefault(anchor, []).append(item)

    def for_gid(self, gid: int) -> list[_T]:
        """The rules selecting group `gid`, in registration order."""
        hit = self._cache.get(gid)
        if hit is not None and hit[0] == len(self.items):
            return hit[1]
        candidates = list(self._loose)
        for pair in self._groups.labels[gid].items():
            candidates += self._anchored.get(pair, ())
        found = sorted(
            (it for it in candidates if it.matcher.matches(gid)), key=lambda it: self._position[id(it)]
        )
        self._cache[gid] = (len(self.items), found)
        return found


class ProfileIndex:
    """Builds and caches profiles; owns groups, matchers, anti-affinity terms and spread trackers.

    `nodes` and `pods_of_group` are the owning state's live tables (read when a tracker is created).
    """

    def __init__(
        self,
        namespace_labels: Mapping[str, Mapping[str, str]],
        nodes: Mapping[str, Node],
        pods_of_group: Mapping[int, Mapping[str, int]],
    ) -> None:
        self.groups = LabelGroups()
        self.anti = ByGroup[AntiTerm](self.groups)  # every anti-affinity term seen, in registration order
        self.trackers = ByGroup[SpreadTracker](self.groups)
        self.eligible: dict[tuple[object, ...], EligibleNodes] = {}
        self._ns_labels = namespace_labels
        self._nodes = nodes
        self._pods_of_group = pods_of_group
        self._matchers: dict[tuple[Clause, ...], Matcher] = {}
        self._profiles: dict[tuple[object, ...], PodProfile] = {}
        self._static_ids: dict[tuple[object, ...], int] = {}
        self._anti_ids: dict[tuple[Clause, str], AntiTerm] = {}
        self._tracker_ids: dict[tuple[object, ...], SpreadTracker] = {}
        self._last: tuple[Pod, PodProfile] | None = None

    def profile(self, pod: Pod) -> PodProfile:
        last = self._last
        if last is not None and last[0] is pod:
            return last[1]
        items = frozenset(pod.labels.items())
        selector = tuple(pod.node_selector.items())
        sig = (pod.namespace, items, selector, pod.node_affinity, pod.tolerations, pod.pod_affinity,
               pod.pod_anti_affinity, pod.topology_spread)  # fmt: skip
        prof = self._profiles.get(sig)
        if prof is None:
            prof = self._profiles[sig] = self._build(pod, items, selector)
        self._last = (pod, prof)
        return prof

    def _build(self, pod: Pod, items: frozenset[tuple[str, str]], selector: tuple[object, ...]) -> PodProfile:
        gid = self.groups.intern(pod.namespace, pod.labels, items)
        static_id = self._static_ids.setdefault(
            (selector, pod.node_affinity, pod.tolerations), len(self._static_ids)
        )
        anti = tuple(
            self._anti_term(term_clause(t, pod.namespace), t.topology_key) for t in pod.pod_anti_affinity
        )
        affinity = None
        if pod.pod_affinity:
            matcher = self.matcher(tuple(term_clause(t, pod.namespace) for t in pod.pod_affinity))
            keys = tuple(t.topology_key for t in pod.pod_affinity)
            affinity = AffinityRule(matcher, keys, matcher.matches(gid))
        return PodProfile(pod, gid, static_id, anti, affinity, self._spread_rules(pod))

    def matcher(self, clauses: tuple[Clause, ...]) -> Matcher:
        matcher = self._matchers.get(clauses)
        if matcher is None:
            matcher = self._matchers[clauses] = Matcher(clauses, self.groups, self._ns_labels)
        return matcher

    def _anti_term(self, clause: Clause, key: str) -> AntiTerm:
        term = self._anti_ids.get((clause, key))
        if term is None:
            term = self._anti_ids[(clause, key)] = AntiTerm(
                len(self.anti.items), self.matcher((clause,)), key
            )
            self.anti.add(term)
        return term

    def _eligible_nodes(self, pod: Pod, c: TopologySpreadConstraint, keys: tuple[str, ...]) -> EligibleNodes:
        honor_affinity = c.node_affinity_policy != "Ignore"
        honor_taints = c.node_taints_policy == "Honor"
        key = (tuple(pod.node_selector.items()) if honor_affinity else None,
               pod.node_affinity if honor_affinity else None,
               pod.tolerations if honor_taints else None, honor_affinity, honor_taints, keys)  # fmt: skip
        eligible = self.eligible.get(key)
        if eligible is None:
            eligible = self.eligible[key] = EligibleNodes(pod, honor_affinity, honor_taints, keys)
            for node in self._nodes.values():
                eligible.add_node(node)
        return eligible

    def _spread_rules(self, pod: Pod) -> tuple[SpreadRule, ...]:
        constraints = [c for c in pod.topology_spread if c.when_unsatisfiable == "DoNotSchedule"]
        keys = tuple(sorted({c.topology_key for c in constraints}))  # a node must carry all to count
        rules: list[SpreadRule] = []
        for c in constraints:
            merged = spread_selector(c, pod)
            tracker = None  # upstream counts no pod for an empty selector: only the key matters
            if not merged.is_empty:
                eligible = self._eligible_nodes(pod, c, keys)
                tracker = self._tracker(merged, pod.namespace, c.topology_key, eligible)
            self_match = 1 if merged.matches(pod.labels) else 0
            rules.append(
                SpreadRule(tracker, c.topology_key, c.max_skew, c.min_domains or 1, self_match, merged)
            )
        return tuple(rules)

    def _tracker(
        self, selector: LabelSelector, namespace: str, key: str, eligible: EligibleNodes
    ) -> SpreadTracker:
        matcher = self.matcher((Clause(selector, frozenset((namespace,))),))
        tracker_key = (matcher.clauses, key, id(eligible))
        tracker = self._tracker_ids.get(tracker_key)
        if tracker is None:
            tracker = SpreadTracker(matcher, key, eligible, self._nodes, self._pods_of_group)
            self._tracker_ids[tracker_key] = tracker
            self.trackers.add(tracker)
        return tracker
