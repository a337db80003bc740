"""Issue 15, item 13: a read-only install whose user has no writable home still runs (numba's cache)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import izdat

PACKAGE = Path(izdat.__file__).parent


def _read_only_run(tmp_path, command):
    """Run ``command`` (argv after python) with a copy of izdat and HOME both on read-only mounts."""
    pkg, home = tmp_path / "pkg", tmp_path / "home"
    home.mkdir()
    shutil.copytree(PACKAGE, pkg / "izdat", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), PYTHONPATH=str(pkg), TMPDIR=str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    argv = [sys.executable, *command]
    if os.geteuid() == 0:       # root writes through permissions: mount the two folders read-only
        if shutil.which("unshare") is None:
            pytest.skip("running as root without unshare: cannot make a read-only folder")
        script = (f"mount --bind -o ro {pkg} {pkg} && mount --bind -o ro {home} {home} && "
                  f"touch {pkg}/probe 2>/dev/null && exit 99; exec \"$@\"")
        argv = ["unshare", "-m", "sh", "-c", script, "sh", *argv]
    else:
        for folder in (pkg, home):
            for root, dirs, files in os.walk(folder):
                os.chmod(root, 0o555)
    try:
        result = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    finally:
        for root, dirs, files in os.walk(tmp_path):
            os.chmod(root, 0o755)
    if result.returncode == 99:
        pytest.skip("the read-only mount is writable here")
    if "mount:" in result.stderr and result.returncode == 32:
        pytest.skip("no permission to mount here")
    return result


def test_izdat_help_runs_from_a_read_only_install_with_an_unwritable_home(tmp_path):
    result = _read_only_run(tmp_path, ["-m", "izdat", "--help"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "cut" in result.stdout
    # numba's compiled functions went to izdat's private temp cache, not nowhere
    caches = list((tmp_path / "tmp").glob("izdat-numba-cache-*/*"))
    assert caches, "no numba cache was written to the temp folder"


def test_a_writable_install_keeps_numba_s_own_cache(tmp_path, monkeypatch):
    from izdat._numba_cache import ensure_numba_cache
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    assert ensure_numba_cache(tmp_path / "pkg") is None
    assert "NUMBA_CACHE_DIR" not in os.environ
