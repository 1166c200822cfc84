"""What a doctor check reports: a `Finding` (one problem, its cause and its fix) and the `DoctorReport`
that `kubewise doctor` prints and `kubewise debug-bundle` archives.

Checks are pure functions from recorded evidence to findings, so that every one can be tested on
recorded state as well as on the emulators; a finding is only ever a problem -- a check that finds
nothing wrong returns no finding, and its name is listed among those that ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["SEVERITIES", "DoctorReport", "Finding", "Severity"]

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")  # in the order they are printed


@dataclass(frozen=True)
class Finding:
    check: str  # stable id, e.g. "agent.invalid-api-key": what machines match on
    severity: Severity  # error: something does not work; warning: works, but not as configured/expected
    title: str  # one line, e.g. "The agent is in CrashLoopBackOff: its API key is invalid"
    cause: str  # why, in words a user acts on
    fix: str  # what to do, with the command when there is one
    evidence: tuple[str, ...] = ()  # the log line, status or field that showed it (already redacted)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "title": self.title,
            "cause": self.cause,
            "fix": self.fix,
            "evidence": list(self.evidence),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Finding:
        return cls(
            check=str(doc["check"]),
            severity="error" if doc.get("severity") == "error" else "warning",
            title=str(doc["title"]),
            cause=str(doc.get("cause", "")),
            fix=str(doc.get("fix", "")),
            evidence=tuple(str(e) for e in doc.get("evidence") or ()),
        )


@dataclass
class DoctorReport:
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # the checks (or groups) that ran
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why) could not be checked

    @property
    def healthy(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        """0 when nothing is wrong, 1 when anything is (a warning included)."""
        return 0 if self.healthy else 1

    def to_json(self) -> dict[str, Any]:
        ordered = sorted(self.findings, key=lambda f: (SEVERITIES.index(f.severity), f.check))
        return {
            "healthy": self.healthy,
            "findings": [f.to_json() for f in ordered],
            "checked": list(self.checked),
            "skipped": [{"what": what, "why": why} for what, why in self.skipped],
        }
