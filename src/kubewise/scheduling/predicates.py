"""Node-level filters of the kube-scheduler: node selector, node affinity, taints, cordon, resources.

The single source of "can this pod run on a node of this shape" for the optimizer (candidate nodes),
`scheduling.state` (real and planned nodes) and `scheduling.verify`. Mirrors the upstream plugins
NodeUnschedulable, TaintToleration, NodeAffinity (k8s.io/component-helpers nodeaffinity) and
NodeResourcesFit, including their edge cases (invalid terms match nothing, Gt/Lt parse int64, ...).
Pure functions of their arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from kubewise.model import PODS, Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration
from kubewise.scheduling.describe import format_amounts, format_requirement, format_taint

__all__ = [
    "UNSCHEDULABLE_TAINT",
    "insufficient_resources",
    "matches_node_affinity",
    "matches_node_selector",
    "node_predicate_failure",
    "static_fit",
    "term_matches",
    "tolerates",
    "toleration_tolerates",
    "untolerated_taint",
]

# What a cordoned node means to the scheduler: pods tolerating this taint may still land there.
UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
_FILTERED_EFFECTS = frozenset({"NoSchedule", "NoExecute"})
_INT = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def _parse_int64(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 10, 64): optional sign, ASCII digits, in int64 range."""
    if not _INT.fullmatch(text):
        return None
    value = int(text)
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _valid_label_key(key: str) -> bool:
    """validation.IsQualifiedName: `[prefix/]name`, prefix a DNS subdomain, name <= 63 characters."""
    parts = key.split("/")
    if len(parts) > 2:
        return False
    name = parts[-1]
    if len(parts) == 2 and not (0 < len(parts[0]) <= 253 and _DNS_SUBDOMAIN.fullmatch(parts[0])):
        return False
    return 0 < len(name) <= 63 and _NAME.fullmatch(name) is not None


def _valid_label_value(value: str) -> bool:
    return value == "" or (len(value) <= 63 and _NAME.fullmatch(value) is not None)


# --- node selector / node affinity ---------------------------------------------------------------


def matches_node_selector(pod: Pod, labels: Mapping[str, str]) -> bool:
    """spec.nodeSelector: every key present on the node with exactly that value."""
    return all(labels.get(k) == v for k, v in pod.node_selector.items())


def _label_requirement_valid(req: NodeSelectorRequirement) -> bool:
    """labels.NewRequirement's validation; an invalid requirement makes its whole term match nothing."""
    if not _valid_label_key(req.key) or not all(_valid_label_value(v) for v in req.values):
        return False
    if req.operator in ("In", "NotIn"):
        return len(req.values) > 0
    if req.operator in ("Exists", "DoesNotExist"):
        return not req.values
    if req.operator in ("Gt", "Lt"):
        return len(req.values) == 1 and _parse_int64(req.values[0]) is not None
    return False


def _label_requirement_matches(req: NodeSelectorRequirement, labels: Mapping[str, str]) -> bool:
    value = labels.get(req.key)
    op = req.operator
    if op == "In":
        return value is not None and value in req.values
    if op == "NotIn":
        return value is None or value not in req.values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if value is None:
        return False
    have, want = _parse_int64(value), _parse_int64(req.values[0])
    if have is None or want is None:
        return False
    return have > want if op == "Gt" else have < want


def _field_requirement_valid(req: NodeSelectorRequirement) -> bool:
    return req.operator in ("In", "NotIn") and len(req.values) == 1


def _field_requirement_matches(req: NodeSelectorRequirement, node_name: str) -> bool:
    value = node_name if req.key == "metadata.name" else ""  # fields.Set.Get of an unknown field is ""
    return (value == req.values[0]) == (req.operator == "In")


def _term_valid(term: NodeSelectorTerm) -> bool:
    return all(_label_requirement_valid(r) for r in term.match_expressions) and all(
        _field_requirement_valid(r) for r in term.match_fields
    )


def term_matches(term: NodeSelectorTerm, labels: Mapping[str, str], node_name: str) -> bool:
    """One nodeSelectorTerm: expressions and fields ANDed; empty or invalid terms match nothing."""
    if not term.match_expressions and not term.match_fields:
        return False
    if not _term_valid(term):
        return False
    if not all(_label_requirement_matches(r, labels) for r in term.match_expressions):
        return False
    # upstream skips matchFields when the node has no name (no fields to match against)
    return not node_name or all(_field_requirement_matches(r, node_name) for r in term.match_fields)


def matches_node_affinity(pod: Pod, labels: Mapping[str, str], node_name: str) -> bool:
    """requiredDuringSchedulingIgnoredDuringExecution: terms ORed; no terms means no constraint."""
    terms = pod.node_affinity
    return not terms or any(term_matches(t, labels, node_name) for t in terms)


# --- taints ----------------------------------------------------------------------------------------


def toleration_tolerates(toleration: Toleration, taint: Taint) -> bool:
    """v1.Toleration.ToleratesTaint: empty effect/key match any; Exists ignores the value."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator in ("", "Equal"):
        return toleration.value == taint.value
    return toleration.operator == "Exists"


def _tolerated(tolerations: Iterable[Toleration], taint: Taint) -> bool:
    return any(toleration_tolerates(t, taint) for t in tolerations)


def untolerated_taint(pod: Pod, taints: Iterable[Taint]) -> Taint | None:
    """The first NoSchedule/NoExecute taint no toleration of the pod tolerates (PreferNoSchedule ignored)."""
    for taint in taints:
        if taint.effect in _FILTERED_EFFECTS and not _tolerated(pod.tolerations, taint):
            return taint
    return None


def tolerates(pod: Pod, taints: Iterable[Taint]) -> bool:
    """True when the TaintToleration filter lets the pod onto a node with these taints."""
    return untolerated_taint(pod, taints) is None


# --- reasons ---------------------------------------------------------------------------------------


def _selector_reason(pod: Pod, labels: Mapping[str, str]) -> str | None:
    for key, want in pod.node_selector.items():
        have = labels.get(key)
        if have != want:
            detail = f"node has {have}" if have is not None else "node has no such label"
            return f"node selector {key}={want} does not match ({detail})"
    return None


def _requirement_detail(req: NodeSelectorRequirement, labels: Mapping[str, str], node_name: str) -> str:
    have = node_name if req.key == "metadata.name" else labels.get(req.key)
    return f"{format_requirement(req)}, node has {have}" if have is not None else format_requirement(req)


def _affinity_reason(pod: Pod, labels: Mapping[str, str], node_name: str) -> str | None:
    if matches_node_affinity(pod, labels, node_name):
        return None
    terms = pod.node_affinity
    if len(terms) > 1:
        return f"node affinity does not match (none of its {len(terms)} terms)"
    term = terms[0]
    if not term.match_expressions and not term.match_fields:
        return "node affinity does not match (its only term is empty and selects no node)"
    if not _term_valid(term):
        return "node affinity term is invalid (bad operator or values) and selects no node"
    for req in term.match_expressions:
        if not _label_requirement_matches(req, labels):
            return f"node affinity does not match ({_requirement_detail(req, labels, node_name)})"
    for req in term.match_fields:
        if not _field_requirement_matches(req, node_name):
            return f"node affinity does not match ({_requirement_detail(req, labels, node_name)})"
    return "node affinity does not match"  # pragma: no cover - unreachable


def node_predicate_failure(pod: Pod, node: Node) -> str | None:
    """static_fit without resources: cordon, taints, node selector, node affinity (upstream order)."""
    if node.unschedulable and not _tolerated(pod.tolerations, UNSCHEDULABLE_TAINT):
        return "node is cordoned"
    taint = untolerated_taint(pod, node.taints)
    if taint is not None:
        return f"untolerated taint {format_taint(taint)}"
    reason = _selector_reason(pod, node.labels)
    if reason is not None:
        return reason
    if pod.node_affinity:
        return _affinity_reason(pod, node.labels, node.name)
    return None


def insufficient_resources(
    requests: Mapping[str, int], available: Mapping[str, int], allocatable: Mapping[str, int] | None = None
) -> str | None:
    """Why `requests` do not fit into `available` (None if they do); names each short resource.

    With `allocatable` given, `available` is taken as the node's free room and the text says so.
    """
    parts: list[str] = []
    for resource in sorted(requests, key=lambda r: (r != "cpu", r != "memory", r)):
        need = requests[resource]
        have = available.get(resource, 0)
        if need <= 0 or need <= have:
            continue
        if allocatable is None and resource == PODS:
            parts.append(f"node allows only {have} pods")
        elif allocatable is None:
            n, a = format_amounts(resource, need, have)
            parts.append(f"needs {n} {resource}, node allocatable is {a}")
        elif resource == PODS:
            total = allocatable.get(PODS, 0)
            parts.append(f"node already runs {total - have} of its {total} allowed pods")
        else:
            n, f, a = format_amounts(resource, need, have, allocatable.get(resource, 0))
            parts.append(f"needs {n} {resource}, node has {f} free of {a} allocatable")
    return "; ".join(parts) or None


def static_fit(pod: Pod, node: Node) -> str | None:
    """None when an empty node of this shape could run the pod, else a short reason for users."""
    reason = node_predicate_failure(pod, node)
    if reason is not None:
        return reason
    return insufficient_resources(pod.requests, node.allocatable)
