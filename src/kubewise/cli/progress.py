"""A Rich progress bar over the planning stages, on stderr, only for inputs big enough to wait for.

Used by `cli.savings`; the optimizer only calls the `on_stage` callback it is given. Nothing is drawn
when the bar is not wanted or the console is not a terminal (piped or redirected stderr), so scripts
reading `--output json` see clean streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

__all__ = ["stage_progress"]


@contextmanager
def stage_progress(console: Console, *, enabled: bool, steps: int) -> Iterator[Callable[[str], None]]:
    """A transient bar of `steps` stages on `console`; yields `on_stage(name)`, called as a stage starts."""
    if not enabled or not console.is_terminal:
        yield lambda _stage: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("planning", total=steps)
        started = False

        def on_stage(stage: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=stage, refresh=True)

        yield on_stage
        progress.update(task, completed=steps)
