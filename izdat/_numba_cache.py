"""Where numba keeps izdat's compiled functions: beside the code, in the user's cache, or in a temp folder.

Every hot loop is compiled with ``cache=True``. numba keeps the result in the package's
``__pycache__`` or in the user's cache folder (``$XDG_CACHE_HOME/numba``, ``~/.cache/numba``), and
refuses to compile at all when neither can be written (a read-only install run by a user whose
home is not writable: a system package, a container, a CI sandbox). This module runs before numba
is first imported and, only then, points numba at a private folder in the system's temp folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["ensure_numba_cache"]


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder`` (made if missing): the test numba itself applies."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def ensure_numba_cache(package: Path = Path(__file__).parent) -> str | None:
    """Point numba at a temp cache folder if neither ``package/__pycache__`` nor the user's cache is writable.

    Returns the folder chosen, or None where numba's own choice works (or ``NUMBA_CACHE_DIR`` is set).
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser()) / "numba"
    if _writable(package / "__pycache__") or _writable(user_cache):
        return None
    folder = Path(tempfile.gettempdir()) / f"izdat-numba-cache-{os.getuid()}"
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    config = sys.modules.get("numba.core.config")
    if config is not None:                  # numba was imported first: it read the environment already
        config.CACHE_DIR = str(folder)
    return str(folder)
