"""How far one plan has got: the share of its work done and what it is doing, for a progress bar.

`optimizer.planner` reports its stages through a `Progress` callback it is given, and hands parts of
its range to the stages that take long (`optimizer.polish`: pricing rounds, pod-by-pod searches, the
pods fixed on whole nodes). The shares are of counted work (rounds run of those allowed, pods placed
of all), never of the clock, and nothing in the optimizer reads them back: the plan is the same with
or without a listener. Drawing is the caller's business (`cli.progress`).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "ignore_progress", "part"]

Progress = Callable[[float, str], None]  # (share of the plan's work done, 0..1; what it is doing)


def ignore_progress(done: float, what: str) -> None:
    """The listener when nobody listens."""


def part(progress: Progress, start: float, end: float) -> Progress:
    """`progress` for a stage that covers `start`..`end` of the work: its own 0..1 maps there (clamped,
    so a stage that overshoots its estimate never runs the bar past its share)."""

    def report(done: float, what: str) -> None:
        progress(start + (end - start) * min(max(done, 0.0), 1.0), what)

    return report
