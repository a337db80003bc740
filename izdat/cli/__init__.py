"""Command line: ``izdat COMMAND``. Every command only wraps the library API.

Errors izdat raises on purpose (:class:`izdat.errors.IzdatError`) are printed as one sentence and
exit with code 2; nothing is left half-written. A run stopped by a signal cleans up as it goes:
Ctrl-C (SIGINT) exits with 130, SIGTERM with 143 and SIGHUP with 129 (128 + the signal's number,
as shells report it), each leaving the output as it was before the run (or, if the signal came
after the files were moved into place, the whole new output).
"""

import signal
import sys

from izdat.cli._app import app
from izdat.errors import IzdatError
from izdat.progress import console

# Command modules register themselves on ``app`` when imported.
from izdat.cli import cut  # noqa: F401,E402
from izdat.cli import tape  # noqa: F401,E402
from izdat.cli import spread  # noqa: F401,E402
from izdat.cli import play  # noqa: F401,E402
from izdat.cli import studio  # noqa: F401,E402
from izdat.cli import demo  # noqa: F401,E402

__all__ = ["app", "main"]

#: Signals that stop a command the way Ctrl-C does: the context managers that write files clean up.
STOP_SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGTERM", "SIGHUP")) if s)


def main() -> None:
    """Entry point of the ``izdat`` script."""
    before = _catch_stop_signals()
    try:
        app()
    except IzdatError as exc:
        console.print(f"izdat: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _stop(signum, frame):
    """Turn SIGTERM/SIGHUP into ``SystemExit(128 + signum)`` so every ``with`` block cleans up.

    Further stop signals are ignored from then on, so a second ``kill`` cannot cut the clean-up
    short (SIGKILL still ends the process; the next run into the same folder cleans up after it).
    """
    for sig in STOP_SIGNALS + (signal.SIGINT,):
        signal.signal(sig, signal.SIG_IGN)
    raise SystemExit(128 + signum)


def _catch_stop_signals() -> dict:
    """Install :func:`_stop` for the stop signals still at their default (an ignored one stays ignored)."""
    from threading import current_thread, main_thread
    if current_thread() is not main_thread():
        return {}
    before = {signal.SIGINT: signal.getsignal(signal.SIGINT)}   # put back too: _stop ignores it
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is signal.SIG_DFL:
            before[sig] = signal.signal(sig, _stop)
    return before
