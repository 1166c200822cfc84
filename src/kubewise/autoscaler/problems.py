"""`Problem`: one policy problem the autoscaler's diagnosis reports (the fields of the doctor's
`Finding`, which this layer cannot import), and how problems name what they are about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["SHOWN", "Problem", "Severity", "named"]

SHOWN = 5  # pods or nodes named in a problem's evidence; the rest are counted

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One policy problem: the fields of `kubewise.doctor.findings.Finding`, so doctor maps it 1:1."""

    check: str  # stable id, e.g. "policy.unschedulable-pods-disabled"
    severity: Severity
    title: str
    cause: str
    fix: str
    evidence: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "title": self.title,
            "cause": self.cause,
            "fix": self.fix,
            "evidence": list(self.evidence),
        }


def named(items: Sequence[str]) -> tuple[str, ...]:
    shown = tuple(sorted(items)[:SHOWN])
    return shown + ((f"... and {len(items) - SHOWN} more",) if len(items) > SHOWN else ())
