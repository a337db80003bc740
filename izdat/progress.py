"""Progress bars that show in a terminal and stay quiet when piped or under test."""

from __future__ import annotations

import contextlib
import sys

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["progress", "console"]

#: Messages for people go to stderr, so stdout stays clean for machine output (``--json``).
console = Console(stderr=True, highlight=False)


class _Silent:
    def add_task(self, *args, **kwargs):
        return 0

    def update(self, *args, **kwargs):
        pass

    def advance(self, *args, **kwargs):
        pass


@contextlib.contextmanager
def progress(enabled: bool | None = None):
    """A rich ``Progress`` in a terminal, else an object with the same methods that does nothing."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield _Silent()
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                   console=console, transient=True)
    with bar:
        yield bar
