"""A Rich progress bar over the plans and the work inside each, on stderr, only for inputs big enough
to wait for.

Used by `cli.savings`; the optimizer only calls the callbacks it is given (`StageBar.stage` as each
plan starts, `StageBar.work` with the share of that plan's work done, `optimizer.progress`). Nothing is
drawn when the bar is not wanted or the console is not a terminal (piped or redirected stderr), so
scripts reading `--output json` see clean streams.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["StageBar", "stage_progress"]


class StageBar:
    """Stages of equal length on one bar; within the current stage, the share its work says is done."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress, self._task = progress, task
        self._started = -1  # stages started so far, minus one
        self._name = ""

    def stage(self, name: str) -> None:
        self._started += 1
        self._name = name
        self._draw(0.0, "")

    def work(self, done: float, what: str) -> None:
        """`done` (0..1) of the current stage, doing `what`."""
        self._draw(done, what)

    def _draw(self, done: float, what: str) -> None:
        if self._progress is None or self._task is None:
            return
        completed = max(self._started, 0) + done
        self._progress.update(
            self._task, completed=completed, description=self._name, what=what, refresh=True
        )


@contextmanager
def stage_progress(console: Console, *, enabled: bool, steps: int) -> Iterator[StageBar]:
    """A transient bar of `steps` stages on `console` while the block runs; yields its `StageBar`."""
    if not enabled or not console.is_terminal:
        yield StageBar(None, None)
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[what]}"),  # last, so that its changing length does not move the bar
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("planning", total=steps, what="")
        yield StageBar(progress, task)
        progress.update(task, completed=steps)
