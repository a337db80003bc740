"""Command line: ``izdat COMMAND``. Every command only wraps the library API.

Errors izdat raises on purpose (:class:`izdat.errors.IzdatError`) are printed as one sentence and
exit with code 2; nothing is left half-written.
"""

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

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``izdat`` script."""
    try:
        app()
    except IzdatError as exc:
        console.print(f"izdat: {exc}", markup=False, soft_wrap=True)
        sys.exit(2)
