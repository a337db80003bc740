"""Progress bars that show in a terminal and stay quiet when piped or under test."""

from __future__ import annotations

import contextlib
import sys

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["progress", "stage", "console"]

#: Messages for people go to stderr, so stdout stays clean for machine output (``--json``).
console = Console(stderr=True, highlight=False)


class _Silent:
    def add_task(self, *args, **kwargs):
        return 0

    def update(self, *args, **kwargs):
        pass

    def advance(self, *args, **kwargs):
        pass


def stage(bar, description: str):
    """A new task on ``bar`` for one stage of the work, and the callback that moves it: called
    with the fraction done (0–1); the finished stage stays on screen, full."""
    task = bar.add_task(description, total=1.0)
    return lambda fraction: bar.update(task, completed=min(max(float(fraction), 0.0), 1.0))


@contextlib.contextmanager
def progress(enabled: bool | None = None):
    """A rich ``Progress`` in a terminal, else an object with the same methods that does nothing."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield _Silent()
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                   TextColumn("left"), TimeRemainingColumn(), TextColumn("taken"), TimeElapsedColumn(),
                   console=console)
    with bar:
        yield bar
