"""`verify_placement`: check a complete, final placement pod by pod against the scheduler's rules.

The optimizer runs it on every plan before returning it and takes the reported pods off the plan,
so each `Violation` names a pod that has to move, and removing every reported pod leaves a placement
that passes (up to knock-on effects of the removals themselves, which a second run catches).

How each rule is judged:
- node predicates (cordon, taints, selector, affinity): per pod;
- resources and anti-affinity (both directions): pods are replayed in the given order and a pod that
  does not fit next to the pods kept before it is reported and left out, so a conflicting pair or an
  over-full node costs one pod, not all of them;
- topology spread (DoNotSchedule): each kept pod as if it were scheduled last onto the final state;
  in a domain over the limit only as many matching pods as needed to get back within maxSkew are named;
- pod affinity: each kept pod as if scheduled last (another matching pod in its domain, or none
  anywhere and the pod matches itself); in addition, pods of a group with affinity to itself may only
  "start" one domain - a group split over two zones that supports itself in each is reachable by no
  scheduling order, so the pods outside the largest consistent part are reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kubewise.model import Node, Pod
from kubewise.scheduling.describe import format_selector
from kubewise.scheduling.profile import AffinityRule, PodProfile, SpreadRule
from kubewise.scheduling.spread import SpreadTracker
from kubewise.scheduling.state import ClusterState

__all__ = ["Violation", "verify_placement"]


@dataclass(frozen=True, slots=True)
class Violation:
    """Pod `pod_key` (namespace/name) may not stay on `node_name` because of `reason`."""

    pod_key: str
    node_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class _Kept:
    pod: Pod
    prof: PodProfile
    node: str


def verify_placement(
    nodes: Iterable[Node],
    assignment: Mapping[str, Sequence[Pod]],
    namespace_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Violation]:
    """Every rule broken by the final placement `assignment` (node name -> its pods); [] when valid."""
    state = ClusterState(nodes, namespace_labels)
    violations: list[Violation] = []
    kept: list[_Kept] = []
    for node_name, pods in assignment.items():
        if node_name not in state:
            violations += [Violation(p.key, node_name, "node is not one of the plan's nodes") for p in pods]
            continue
        for pod in pods:
            prof = state.profile(pod)
            reason = _replay_failure(state, pod, prof, node_name)
            if reason is not None:
                violations.append(Violation(pod.key, node_name, reason))
                continue
            state.place(pod, node_name)
            if prof.spread or prof.affinity is not None:
                kept.append(_Kept(pod, prof, node_name))
    violations += _spread_violations(state, [k for k in kept if k.prof.spread])
    violations += _affinity_violations(state, [k for k in kept if k.prof.affinity is not None])
    return violations


def _replay_failure(state: ClusterState, pod: Pod, prof: PodProfile, node_name: str) -> str | None:
    reason = state.node_failure(prof, node_name)
    if reason is not None:
        return reason
    reason = state.resource_failure(pod, node_name)
    if reason is not None:
        return f"node over-committed: {reason}"
    return state.anti_affinity_failure(prof, node_name)


# --- topology spread -------------------------------------------------------------------------------


def _min_elsewhere(tracker: SpreadTracker, cache: dict[int, list[tuple[int, str]]], value: str) -> int | None:
    """The lowest count over eligible domains other than `value` (None when there is no other domain)."""
    lowest = cache.get(id(tracker))
    if lowest is None:
        lowest = cache[id(tracker)] = sorted((n, d) for d, n in tracker.counts.items())[:2]
    return next((n for n, d in lowest if d != value), None)


def _spread_violations(state: ClusterState, kept: list[_Kept]) -> list[Violation]:
    out: list[Violation] = []
    # (tracker, maxSkew, minDomains, domain) -> pods with that rule there, in placement order
    cells: dict[tuple[int, int, int, str], tuple[SpreadRule, list[tuple[_Kept, bool]]]] = {}
    for k in kept:
        labels = state.node(k.node).labels
        for rule in k.prof.spread:
            value = labels.get(rule.key)
            if value is None:
                sel = format_selector(rule.selector)
                reason = f"node has no {rule.key} label, required by topology spread constraint ({sel})"
                out.append(Violation(k.pod.key, k.node, reason))
            elif rule.tracker is not None:
                key = (id(rule.tracker), rule.max_skew, rule.min_domains, value)
                cell = cells.setdefault(key, (rule, []))
                cell[1].append((k, bool(rule.self_match) and k.node in rule.tracker.nodes))
    lowest: dict[int, list[tuple[int, str]]] = {}
    for (_, _, _, value), (rule, members) in cells.items():
        tracker = rule.tracker
        assert tracker is not None
        count = tracker.counts.get(value, 0)
        low = 0 if len(tracker.counts) < rule.min_domains else _min_elsewhere(tracker, lowest, value)
        if low is None or count - low <= rule.max_skew:
            continue
        excess = count - low - rule.max_skew
        reason = (
            f"topology spread on {rule.key}: {value} has {count} pod(s) matching "
            f"{format_selector(rule.selector)}, {low} in the emptiest other domain; maxSkew {rule.max_skew}"
        )
        counted = [k for k, c in members if c]
        named = {id(k) for k in counted[max(0, len(counted) - excess) :]}
        named.update(id(k) for k, c in members if not c)  # their removal would not help: each is over
        out += [Violation(k.pod.key, k.node, reason) for k, _ in members if id(k) in named]
    return out


# --- pod affinity ----------------------------------------------------------------------------------


def _as_if_last(state: ClusterState, k: _Kept, rule: AffinityRule) -> str | None:
    labels = state.node(k.node).labels
    missing = next((key for key in rule.keys if key not in labels), None)
    if missing is not None:
        return f"node has no {missing} label, required by pod affinity"
    me = 1 if rule.self_match else 0
    lacking = next(
        (key for key in rule.keys if rule.matcher.count_in(state.pods_in_domain(key, labels[key])) - me <= 0),
        None,
    )
    if lacking is None:
        return None
    if me and not any(rule.matcher.count_in(state.pods_with_key(key)) - me for key in rule.keys):
        return None  # alone in the cluster and matching itself: allowed to start the group
    return f"pod affinity: no other pod matching {rule.matcher.describe()} in {lacking}={labels[lacking]}"


def _affinity_violations(state: ClusterState, kept: list[_Kept]) -> list[Violation]:
    out: list[Violation] = []
    groups: dict[tuple[int, tuple[str, ...]], list[_Kept]] = {}
    failed: set[int] = set()
    for k in kept:
        rule = k.prof.affinity
        assert rule is not None
        reason = _as_if_last(state, k, rule)
        if reason is not None:
            out.append(Violation(k.pod.key, k.node, reason))
            failed.add(id(k))
        groups.setdefault((id(rule.matcher), rule.keys), []).append(k)
    for members in groups.values():
        out += [v for k, v in _single_start(state, members) if id(k) not in failed]
    return out


def _single_start(state: ClusterState, members: list[_Kept]) -> list[tuple[_Kept, Violation]]:
    """Pods of one affinity rule that no scheduling order could have placed (see module docstring).

    A pod is supported in a term's domain by an outside pod (matching the terms without having this
    rule) or else only by the one pod that started the group; pick the start that explains most pods.
    """
    rule = members[0].prof.affinity
    assert rule is not None
    if not any(k.prof.affinity is not None and k.prof.affinity.self_match for k in members):
        return []  # nobody can start a group: the as-if-last check already covers it
    domains = [tuple(state.node(k.node).labels.get(key, "") for key in rule.keys) for k in members]
    inside: dict[tuple[int, str], int] = {}  # (term, domain) -> members matching the rule themselves
    for k, dom in zip(members, domains, strict=True):
        if k.prof.affinity is not None and k.prof.affinity.self_match:
            for i, value in enumerate(dom):
                inside[(i, value)] = inside.get((i, value), 0) + 1
    needs: list[tuple[tuple[int, str], ...]] = []
    for dom in domains:
        need = tuple(
            (i, value)
            for i, (key, value) in enumerate(zip(rule.keys, dom, strict=True))
            if rule.matcher.count_in(state.pods_in_domain(key, value)) - inside.get((i, value), 0) <= 0
        )
        needs.append(need)
    if not any(needs):
        return []
    starts = {
        dom for k, dom in zip(members, domains, strict=True) if k.prof.affinity and k.prof.affinity.self_match
    }
    tally: dict[tuple[tuple[int, str], ...], int] = {}
    for need in needs:
        tally[need] = tally.get(need, 0) + 1
    best = max(
        sorted(starts), key=lambda s: sum(n for need, n in tally.items() if all(s[i] == v for i, v in need))
    )
    out: list[tuple[_Kept, Violation]] = []
    start = ", ".join(f"{key}={v}" for key, v in zip(rule.keys, best, strict=True))
    for k, need in zip(members, needs, strict=True):
        if any(best[i] != v for i, v in need):
            where = ", ".join(f"{rule.keys[i]}={v}" for i, v in need)
            reason = (
                f"pod affinity: pods matching {rule.matcher.describe()} in {where} only support each other; "
                f"a group with affinity to itself starts in one place only ({start})"
            )
            out.append((k, Violation(k.pod.key, k.node, reason)))
    return out
