"""Parsers for the selector-shaped parts of pod and node specs.

Label selectors, node-selector terms, taints, tolerations, required pod (anti-)affinity terms and
topology spread constraints, from raw Kubernetes dicts to `model.selectors` / `model.objects` types.
Called by `kubectl_pods`, `kubectl_nodes` and `loading` (PDB selectors); pure functions.

A null label selector (`labelSelector` absent in an affinity term, spread constraint or PDB) matches
no pods in Kubernetes, unlike an empty one (`{}`), so it is parsed to `MATCH_NOTHING`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubewise.model.kube_fields import Reader, join_path
from kubewise.model.objects import PodAffinityTerm, TopologySpreadConstraint
from kubewise.model.selectors import (
    LabelRequirement,
    LabelSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    Taint,
    Toleration,
)

__all__ = [
    "MATCH_NOTHING",
    "parse_label_selector",
    "parse_node_affinity",
    "parse_pod_affinity_terms",
    "parse_taints",
    "parse_tolerations",
    "parse_topology_spread",
]

# `In` with no values never matches: the encoding of a null selector ("selects nothing").
MATCH_NOTHING = LabelSelector(match_expressions=(LabelRequirement(key="", operator="In", values=()),))

_LABEL_OPS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
_NODE_OPS = _LABEL_OPS | {"Gt", "Lt"}
_TAINT_EFFECTS = frozenset({"NoSchedule", "PreferNoSchedule", "NoExecute"})
_TOLERATION_OPS = frozenset({"Equal", "Exists"})
_WHEN_UNSATISFIABLE = frozenset({"DoNotSchedule", "ScheduleAnyway"})
_POLICIES = frozenset({"Honor", "Ignore"})


def _choice(
    r: Reader, parent: Mapping[str, Any], key: str, path: str, allowed: frozenset[str], default: str
) -> str:
    value = parent.get(key, default)
    if value.__class__ is str and value in allowed:
        return value
    value = r.string(parent, key, path, default)  # null -> default; non-string -> error
    if value in allowed:
        return value
    if not value:
        raise r.error(join_path(path, key), "missing required field")
    expected = ", ".join(sorted(allowed))
    raise r.error(join_path(path, key), f"unknown value {value!r} (expected one of {expected})")


def parse_label_selector(r: Reader, parent: Mapping[str, Any], key: str, path: str) -> LabelSelector:
    """A `metav1.LabelSelector`; null/absent -> `MATCH_NOTHING`, `{}` -> the match-all selector."""
    if parent.get(key) is None:
        return MATCH_NOTHING
    return parse_present_selector(r, r.mapping(parent, key, path), f"{path}.{key}")


def parse_present_selector(r: Reader, raw: Mapping[str, Any], path: str) -> LabelSelector:
    match_labels = tuple(sorted(r.string_map(raw, "matchLabels", path).items()))
    exprs = []
    for i, item in enumerate(r.items(raw, "matchExpressions", path)):
        epath = f"{path}.matchExpressions[{i}]"
        expr = r.entry(item, epath)
        exprs.append(
            LabelRequirement(
                key=r.required_string(expr, "key", epath),
                operator=_choice(r, expr, "operator", epath, _LABEL_OPS, ""),
                values=r.strings(expr, "values", epath),
            )
        )
    return LabelSelector(match_labels=match_labels, match_expressions=tuple(exprs))


def _node_requirements(
    r: Reader, term: Mapping[str, Any], key: str, path: str
) -> tuple[NodeSelectorRequirement, ...]:
    out = []
    for i, item in enumerate(r.items(term, key, path)):
        epath = f"{path}.{key}[{i}]"
        expr = r.entry(item, epath)
        out.append(
            NodeSelectorRequirement(
                key=r.required_string(expr, "key", epath),
                operator=_choice(r, expr, "operator", epath, _NODE_OPS, ""),
                values=r.strings(expr, "values", epath),
            )
        )
    return tuple(out)


def parse_node_affinity(r: Reader, affinity: Mapping[str, Any], path: str) -> tuple[NodeSelectorTerm, ...]:
    """Required node affinity terms (ORed). An empty term is kept: it matches no node."""
    node_affinity = r.mapping(affinity, "nodeAffinity", path)
    if not node_affinity:
        return ()
    path = f"{path}.nodeAffinity"
    required = r.mapping(node_affinity, "requiredDuringSchedulingIgnoredDuringExecution", path)
    path = f"{path}.requiredDuringSchedulingIgnoredDuringExecution"
    terms = []
    for i, item in enumerate(r.items(required, "nodeSelectorTerms", path)):
        tpath = f"{path}.nodeSelectorTerms[{i}]"
        term = r.entry(item, tpath)
        terms.append(
            NodeSelectorTerm(
                match_expressions=_node_requirements(r, term, "matchExpressions", tpath),
                match_fields=_node_requirements(r, term, "matchFields", tpath),
            )
        )
    return tuple(terms)


def parse_pod_affinity_terms(
    r: Reader, affinity: Mapping[str, Any], key: str, path: str
) -> tuple[PodAffinityTerm, ...]:
    """Required terms of `podAffinity` or `podAntiAffinity` (`key`); preferred terms are ignored."""
    section = r.mapping(affinity, key, path)
    if not section:
        return ()
    path = f"{path}.{key}"
    required = "requiredDuringSchedulingIgnoredDuringExecution"
    terms = []
    for i, item in enumerate(r.items(section, required, path)):
        tpath = f"{path}.{required}[{i}]"
        term = r.entry(item, tpath)
        ns_selector = None
        if term.get("namespaceSelector") is not None:
            ns_selector = parse_present_selector(
                r, r.mapping(term, "namespaceSelector", tpath), join_path(tpath, "namespaceSelector")
            )
        terms.append(
            PodAffinityTerm(
                selector=parse_label_selector(r, term, "labelSelector", tpath),
                topology_key=r.required_string(term, "topologyKey", tpath),
                namespaces=r.strings(term, "namespaces", tpath),
                namespace_selector=ns_selector,
            )
        )
    return tuple(terms)


def parse_tolerations(r: Reader, spec: Mapping[str, Any], path: str) -> tuple[Toleration, ...]:
    out = []
    for i, item in enumerate(r.items(spec, "tolerations", path)):
        tpath = f"{path}.tolerations[{i}]"
        raw = r.entry(item, tpath)
        out.append(
            Toleration(
                key=r.string(raw, "key", tpath),
                operator=_choice(r, raw, "operator", tpath, _TOLERATION_OPS, "Equal"),
                value=r.string(raw, "value", tpath),
                effect=_choice(r, raw, "effect", tpath, _TAINT_EFFECTS | {""}, ""),
                toleration_seconds=r.integer(raw, "tolerationSeconds", tpath),
            )
        )
    return tuple(out)


def parse_taints(r: Reader, spec: Mapping[str, Any], path: str) -> tuple[Taint, ...]:
    out = []
    for i, item in enumerate(r.items(spec, "taints", path)):
        tpath = f"{path}.taints[{i}]"
        raw = r.entry(item, tpath)
        out.append(
            Taint(
                key=r.required_string(raw, "key", tpath),
                value=r.string(raw, "value", tpath),
                effect=_choice(r, raw, "effect", tpath, _TAINT_EFFECTS, ""),
            )
        )
    return tuple(out)


def _spread_constraint(r: Reader, raw: Mapping[str, Any], path: str) -> TopologySpreadConstraint:
    max_skew = r.integer(raw, "maxSkew", path)
    if max_skew is None or max_skew < 1:
        raise r.error(join_path(path, "maxSkew"), "missing or not a positive integer")
    min_domains = r.integer(raw, "minDomains", path)
    if min_domains is not None and min_domains < 1:
        raise r.error(join_path(path, "minDomains"), f"must be >= 1, got {min_domains}")
    return TopologySpreadConstraint(
        max_skew=max_skew,
        topology_key=r.required_string(raw, "topologyKey", path),
        when_unsatisfiable=_choice(r, raw, "whenUnsatisfiable", path, _WHEN_UNSATISFIABLE, ""),
        selector=parse_label_selector(r, raw, "labelSelector", path),
        min_domains=min_domains,
        node_affinity_policy=_choice(r, raw, "nodeAffinityPolicy", path, _POLICIES, "Honor"),
        node_taints_policy=_choice(r, raw, "nodeTaintsPolicy", path, _POLICIES, "Ignore"),
        match_label_keys=r.strings(raw, "matchLabelKeys", path),
    )


def parse_topology_spread(
    r: Reader, spec: Mapping[str, Any], path: str
) -> tuple[TopologySpreadConstraint, ...]:
    out = []
    for i, item in enumerate(r.items(spec, "topologySpreadConstraints", path)):
        cpath = f"{path}.topologySpreadConstraints[{i}]"
        out.append(_spread_constraint(r, r.entry(item, cpath), cpath))
    return tuple(out)
