"""Incremental topology-spread counting, as the PodTopologySpread filter computes it.

Used by `scheduling.state`: one `SpreadTracker` per distinct (selector, topology key, eligible nodes)
keeps the number of matching pods per domain and the global minimum over eligible domains, updated
in O(1) on every place/remove, so a spread check never scans pods or nodes.

Eligible nodes (`EligibleNodes`) are those the upstream PreFilter counts: carrying every topology key
of the pod's DoNotSchedule constraints, passing its nodeSelector/required node affinity when
nodeAffinityPolicy is Honor, and tolerating its NoSchedule/NoExecute taints when nodeTaintsPolicy is
Honor.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubewise.model import Node, Pod
from kubewise.scheduling.matching import Matcher
from kubewise.scheduling.predicates import matches_node_affinity, matches_node_selector, tolerates

__all__ = ["EligibleNodes", "SpreadTracker"]


class EligibleNodes:
    """The nodes a spread constraint of pods shaped like `example` counts, with their domains per key.

    Shared by every tracker of the same eligibility class: the owning state reports node arrivals and
    departures here (`add_node` / `remove_node`), which tells the trackers of domains that appear or go.
    """

    __slots__ = ("domains", "example", "honor_affinity", "honor_taints", "keys", "names", "trackers")

    def __init__(self, example: Pod, honor_affinity: bool, honor_taints: bool, keys: tuple[str, ...]) -> None:
        self.example = example
        self.honor_affinity = honor_affinity
        self.honor_taints = honor_taints
        self.keys = keys
        self.trackers: list[SpreadTracker] = []
        self.names: set[str] = set()
        self.domains: dict[str, dict[str, int]] = {k: {} for k in keys}  # key -> domain -> eligible nodes

    def admits(self, node: Node) -> bool:
        labels = node.labels
        if not all(k in labels for k in self.keys):
            return False
        pod = self.example
        if self.honor_affinity and not (
            matches_node_selector(pod, labels) and matches_node_affinity(pod, labels, node.name)
        ):
            return False
        return not self.honor_taints or tolerates(pod, node.taints)

    def add_node(self, node: Node) -> None:
        """A new, empty node; a domain it opens joins its trackers with 0 pods."""
        if not self.admits(node):
            return
        self.names.add(node.name)
        for key, domains in self.domains.items():
            value = node.labels[key]
            domains[value] = domains.get(value, 0) + 1
            if domains[value] == 1:
                for tracker in self.trackers:
                    if tracker.key == key:
                        tracker.add_domain(value)

    def remove_node(self, node: Node) -> None:
        """An (emptied) node leaves; a domain goes with its last eligible node."""
        if node.name not in self.names:
            return
        self.names.discard(node.name)
        for key, domains in self.domains.items():
            value = node.labels[key]
            left = domains[value] - 1
            if left:
                domains[value] = left
                continue
            del domains[value]
            for tracker in self.trackers:
                if tracker.key == key:
                    tracker.drop_domain(value)


class SpreadTracker:
    """Matching pods per domain of `key` over eligible nodes, with the minimum kept incrementally."""

    __slots__ = ("_hist", "_min", "counts", "eligible", "key", "matcher")

    def __init__(
        self,
        matcher: Matcher,
        key: str,
        eligible: EligibleNodes,
        nodes: Mapping[str, Node],
        pods_of_group: Mapping[int, Mapping[str, int]],
    ) -> None:
        """Counts from the current placement (`pods_of_group`: group -> node name -> pods)."""
        self.matcher = matcher
        self.key = key
        self.eligible = eligible
        self.counts: dict[str, int] = dict.fromkeys(eligible.domains[key], 0)  # every eligible domain
        names = eligible.names
        for gid in matcher.gids():
            for name, n in pods_of_group.get(gid, {}).items():
                if name in names:
                    self.counts[nodes[name].labels[key]] += n
        self._hist: dict[int, int] = {}  # count -> number of domains with that count
        for count in self.counts.values():
            self._hist[count] = self._hist.get(count, 0) + 1
        self._min = min(self._hist, default=0)
        eligible.trackers.append(self)

    @property
    def nodes(self) -> set[str]:
        """Names of the eligible nodes."""
        return self.eligible.names

    def global_min(self, min_domains: int) -> int:
        """The minimum over eligible domains; 0 while there are fewer than `min_domains` domains."""
        if len(self.counts) < min_domains:
            return 0
        return self._min

    def _move(self, old: int | None, new: int | None) -> None:
        hist = self._hist
        if old is not None:
            left = hist[old] - 1
            if left:
                hist[old] = left
            else:
                del hist[old]
        if new is not None:
            hist[new] = hist.get(new, 0) + 1
        if new is not None and (new < self._min or len(hist) == 1):
            self._min = new
        elif old == self._min and old not in hist:
            self._min = min(hist, default=0)

    def bump(self, node_name: str, labels: Mapping[str, str], delta: int) -> None:
        """A matching pod was placed (+1) or removed (-1) on `node_name`."""
        if node_name not in self.eligible.names:
            return
        value = labels[self.key]
        old = self.counts[value]
        self.counts[value] = old + delta
        self._move(old, old + delta)

    def add_domain(self, value: str) -> None:
        self.counts[value] = 0
        self._move(None, 0)

    def drop_domain(self, value: str) -> None:
        self._move(self.counts.pop(value), None)
