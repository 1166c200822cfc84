"""Label groups and pod selectors: the indexes that keep inter-pod checks cheap at 100k pods.

Used by `scheduling.state` (and through it `scheduling.verify`). Pods are interned by
(namespace, labels) into small integer *groups*; every inter-pod rule (affinity term, anti-affinity
term, spread selector) becomes a `Matcher` that answers "does group g match" (memoised) and lists the
matching groups, found through label postings instead of a scan. Counting matching pods in a
topology domain is then a sum over the matching groups present there, never a scan of pods.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kubewise.model import LabelSelector, PodAffinityTerm
from kubewise.scheduling.describe import format_selector

__all__ = ["Clause", "LabelGroups", "Matcher", "term_clause"]

_NO_LABELS: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class Clause:
    """Pods in `namespaces` (or a namespace matching `namespace_selector`) whose labels match `selector`."""

    selector: LabelSelector
    namespaces: frozenset[str]
    namespace_selector: LabelSelector | None = None

    def namespace_ok(self, namespace: str, namespace_labels: Mapping[str, Mapping[str, str]]) -> bool:
        if namespace in self.namespaces:
            return True
        sel = self.namespace_selector
        return sel is not None and sel.matches(namespace_labels.get(namespace, _NO_LABELS))

    def describe(self) -> str:
        text = format_selector(self.selector)
        if self.namespace_selector is not None:
            return f"{text} (namespaces {format_selector(self.namespace_selector)})"
        if len(self.namespaces) > 1:
            return f"{text} (namespaces {', '.join(sorted(self.namespaces))})"
        return text


def term_clause(term: PodAffinityTerm, owner_namespace: str) -> Clause:
    """The pods an (anti-)affinity term of a pod in `owner_namespace` selects.

    No namespaces and no namespace selector means the owner's namespace; an empty namespace selector
    selects every namespace; a listed namespace or a selector match is enough (ORed), as upstream.
    """
    if not term.namespaces and term.namespace_selector is None:
        return Clause(term.selector, frozenset((owner_namespace,)))
    return Clause(term.selector, frozenset(term.namespaces), term.namespace_selector)


class LabelGroups:
    """Interns (namespace, labels) to dense ids, with postings by namespace, label key and key=value."""

    __slots__ = ("_ids", "by_key", "by_namespace", "by_pair", "labels", "namespaces")

    def __init__(self) -> None:
        self._ids: dict[tuple[str, frozenset[tuple[str, str]]], int] = {}
        self.namespaces: list[str] = []
        self.labels: list[Mapping[str, str]] = []
        self.by_namespace: dict[str, list[int]] = {}
        self.by_key: dict[str, list[int]] = {}
        self.by_pair: dict[tuple[str, str], list[int]] = {}

    def __len__(self) -> int:
        return len(self.namespaces)

    def intern(self, namespace: str, labels: Mapping[str, str], items: frozenset[tuple[str, str]]) -> int:
        """The group id of pods in `namespace` with `labels` (`items` = frozenset(labels.items()))."""
        key = (namespace, items)
        gid = self._ids.get(key)
        if gid is not None:
            return gid
        gid = self._ids[key] = len(self.namespaces)
        self.namespaces.append(namespace)
        self.labels.append(dict(labels))
        self.by_namespace.setdefault(namespace, []).append(gid)
        for k, v in items:
            self.by_key.setdefault(k, []).append(gid)
            self.by_pair.setdefault((k, v), []).append(gid)
        return gid


class Matcher:
    """A conjunction of clauses over label groups: memoised `matches`, lazily extended `gids`."""

    __slots__ = ("_gids", "_groups", "_memo", "_ns_labels", "_upto", "clauses")

    def __init__(
        self,
        clauses: Sequence[Clause],
        groups: LabelGroups,
        namespace_labels: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.clauses = tuple(clauses)
        self._groups = groups
        self._ns_labels = namespace_labels
        self._memo: dict[int, bool] = {}
        self._gids: list[int] = []
        self._upto = 0

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.clauses)

    def matches(self, gid: int) -> bool:
        hit = self._memo.get(gid)
        if hit is None:
            hit = self._memo[gid] = self._evaluate(gid)
        return hit

    def _evaluate(self, gid: int) -> bool:
        namespace = self._groups.namespaces[gid]
        labels = self._groups.labels[gid]
        return all(
            c.namespace_ok(namespace, self._ns_labels) and c.selector.matches(labels) for c in self.clauses
        )

    def anchor(self) -> tuple[str, str] | None:
        """A label pair every matching group carries, if the selector pins one (for rule indexes)."""
        for clause in self.clauses:
            if clause.selector.match_labels:
                return clause.selector.match_labels[0]
            for req in clause.selector.match_expressions:
                if req.operator == "In" and len(req.values) == 1:
                    return (req.key, req.values[0])
        return None

    def _postings(self) -> Iterable[list[int]]:
        """Posting lists every matching group must appear in (necessary conditions)."""
        g = self._groups
        for clause in self.clauses:
            if clause.namespace_selector is None and len(clause.namespaces) == 1:
                yield g.by_namespace.get(next(iter(clause.namespaces)), [])
            for pair in clause.selector.match_labels:
                yield g.by_pair.get(pair, [])
            for req in clause.selector.match_expressions:
                if req.operator == "In" and len(req.values) == 1:
                    yield g.by_pair.get((req.key, req.values[0]), [])
                elif req.operator in ("In", "Exists"):
                    yield g.by_key.get(req.key, [])

    def gids(self) -> list[int]:
        """Ids of every matching group, ascending (extended as new groups appear)."""
        total = len(self._groups)
        start = self._upto
        if start < total:
            best: list[int] | None = None
            for posting in self._postings():
                if best is None or len(posting) < len(best):
                    best = posting
            candidates: Iterable[int] = (
                range(start, total) if best is None else best[bisect_left(best, start) :]
            )
            self._gids.extend(gid for gid in candidates if self.matches(gid))
            self._upto = total
        return self._gids

    def count_in(self, counts: Mapping[int, int]) -> int:
        """Pods of matching groups in a group -> count table (iterating the smaller side)."""
        gids = self.gids()
        if len(gids) <= len(counts):
            return sum(counts.get(g, 0) for g in gids)
        return sum(n for g, n in counts.items() if self.matches(g))
