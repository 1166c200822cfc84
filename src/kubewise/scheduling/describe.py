"""Human-readable text for scheduling reasons: quantities, selectors, taints, requirements.

Used by `scheduling.predicates`, `scheduling.state` and `scheduling.verify` to build the short reasons
shown to users ("needs 6000m cpu, node allocatable is 3920m"). Pure string formatting, no logic.
"""

from __future__ import annotations

from collections.abc import Iterable

from kubewise.model import CPU, LabelRequirement, LabelSelector, NodeSelectorRequirement, Taint

__all__ = [
    "format_amount",
    "format_amounts",
    "format_requirement",
    "format_selector",
    "format_taint",
    "is_byte_resource",
]

_KIB = 1024
_MIB = 1024**2
_GIB = 1024**3


def is_byte_resource(resource: str) -> bool:
    """memory, ephemeral-storage and hugepages-* are held in bytes."""
    return resource in ("memory", "ephemeral-storage") or resource.startswith("hugepages-")


def _trim(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _bytes(amount: int, unit: int, suffix: str, decimals: int) -> str:
    if amount == 0:
        return "0"
    return f"{_trim(amount / unit, decimals)}{suffix}"


def _byte_units(amounts: Iterable[int]) -> tuple[int, str]:
    smallest = min((abs(a) for a in amounts if a), default=0)
    if smallest >= _GIB:
        return _GIB, "GiB"
    if smallest >= _MIB:
        return _MIB, "MiB"
    if smallest >= _KIB:
        return _KIB, "KiB"
    return 1, "B"


def format_amount(resource: str, amount: int) -> str:
    """`1500m` for cpu, `1.5GiB` / `512MiB` for byte resources, a plain count otherwise."""
    return format_amounts(resource, amount)[0]


def format_amounts(resource: str, *amounts: int) -> list[str]:
    """Format several amounts of one resource in a common unit, precise enough to tell them apart."""
    if resource == CPU:
        return [f"{a}m" for a in amounts]
    if not is_byte_resource(resource):
        return [str(a) for a in amounts]
    texts = [_bytes(a, *_byte_units((a,)), 2) for a in amounts]
    if len(set(texts)) == len(set(amounts)):
        return texts  # each in its own natural unit, still telling the amounts apart
    unit, suffix = _byte_units(amounts)
    for decimals in (2, 4):
        texts = [_bytes(a, unit, suffix, decimals) for a in amounts]
        if len(set(texts)) == len(set(amounts)):
            return texts
    return [f"{a}B" for a in amounts]


def format_taint(taint: Taint) -> str:
    """`dedicated=gpu:NoSchedule`, or `dedicated:NoSchedule` when the taint has no value."""
    value = f"={taint.value}" if taint.value else ""
    return f"{taint.key}{value}:{taint.effect}"


def _values(values: Iterable[str]) -> str:
    return "(" + ", ".join(values) + ")"


def format_requirement(req: NodeSelectorRequirement | LabelRequirement) -> str:
    """`zone In (a, b)`, `gpu Exists`, `cores Gt 4`: the requirement as written in the manifest."""
    if req.operator in ("Exists", "DoesNotExist"):
        return f"{req.key} {req.operator}"
    if req.operator in ("Gt", "Lt") and len(req.values) == 1:
        return f"{req.key} {req.operator} {req.values[0]}"
    return f"{req.key} {req.operator} {_values(req.values)}"


def format_selector(selector: LabelSelector) -> str:
    """A label selector in kubectl's `-l` syntax: `app=web,tier in (a, b),!canary`; `<all>` if empty."""
    parts = [f"{k}={v}" for k, v in selector.match_labels]
    for req in selector.match_expressions:
        if req.operator == "In":
            parts.append(f"{req.key} in {_values(req.values)}")
        elif req.operator == "NotIn":
            parts.append(f"{req.key} notin {_values(req.values)}")
        elif req.operator == "Exists":
            parts.append(req.key)
        elif req.operator == "DoesNotExist":
            parts.append(f"!{req.key}")
        else:
            parts.append(format_requirement(req))
    return ",".join(parts) if parts else "<all>"
