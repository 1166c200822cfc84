"""Builders for the scheduling tests: nodes in zones, pods with rules, label selectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubewise.model import (
    LabelRequirement,
    LabelSelector,
    Node,
    Pod,
    PodAffinityTerm,
    Resources,
    Taint,
    TopologySpreadConstraint,
)

GIB = 1024**3
HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def sel(**labels: str) -> LabelSelector:
    return LabelSelector(tuple(labels.items()))


def sel_expr(key: str, operator: str, *values: str) -> LabelSelector:
    return LabelSelector((), (LabelRequirement(key, operator, tuple(values)),))


def mknode(
    name: str,
    zone: str | None = "a",
    *,
    cpu: int = 4000,
    mem_gib: float = 16,
    pods: int = 110,
    labels: Mapping[str, str] | None = None,
    taints: Sequence[Taint] = (),
    unschedulable: bool = False,
    extra: Mapping[str, int] | None = None,
) -> Node:
    alloc = Resources({"cpu": cpu, "memory": int(mem_gib * GIB), "pods": pods, **(extra or {})})
    all_labels = {HOST: name, **({ZONE: zone} if zone is not None else {}), **(labels or {})}
    return Node(name, alloc, alloc, all_labels, tuple(taints), unschedulable)


def mkpod(
    name: str,
    *,
    app: str | None = None,
    namespace: str = "default",
    cpu: int = 100,
    mem_gib: float = 0.25,
    labels: Mapping[str, str] | None = None,
    extra: Mapping[str, int] | None = None,
    **fields: Any,
) -> Pod:
    all_labels = {**({"app": app} if app else {}), **(labels or {})}
    req = Resources({"cpu": cpu, "memory": int(mem_gib * GIB), "pods": 1, **(extra or {})})
    return Pod(namespace, name, req, all_labels, **fields)


def anti(key: str, selector: LabelSelector, **kw: object) -> tuple[PodAffinityTerm, ...]:
    return (PodAffinityTerm(selector, key, **kw),)  # type: ignore[arg-type]


def spread(
    key: str, selector: LabelSelector, max_skew: int = 1, **kw: object
) -> tuple[TopologySpreadConstraint, ...]:
    return (TopologySpreadConstraint(max_skew, key, "DoNotSchedule", selector, **kw),)  # type: ignore[arg-type]
