"""Atomic writing: a failed or killed run leaves no half-written file and no partial output folder.

:func:`atomic_path` writes one file beside its target and renames it into place.
:func:`staged_folder` writes every output of a command into a hidden staging folder inside the
output folder and then moves them into place all or nothing:

1. every target is checked first (a directory, a pipe or a read-only file in the way refuses the
   whole move, and nothing is touched);
2. a plan (the names and the identity of each new file) is written into the staging folder;
3. each old file is moved aside into the staging folder (``.izdat-old/``), then each new file is
   moved in, then a ``.izdat-done`` marker is made;
4. only then are the old files deleted. On any failure the new files are taken out and the old
   ones put back, so the folder is as it was.

Catchable signals (SIGINT, SIGTERM, SIGHUP) are held during steps 2–4. A run killed outright
(SIGKILL, a power cut of the process) leaves its staging folder, named after its host, process id
and the process's start time; the next run into the same folder finds it, sees that its process is
gone, and rolls it back (the old files return) or, if it had finished, removes it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path

from izdat.errors import IzdatError, OutputError

__all__ = ["atomic_path", "staged_folder", "check_output_file", "check_output_folder", "clean_stale", "not_a_file"]

#: Staging folders are named ``.izdat-HOST-PID-START-random``.
STAGE_PREFIX = ".izdat-"
_PLAN, _OLD, _DONE = ".izdat-plan.json", ".izdat-old", ".izdat-done"
_OWNED = re.compile(r"([0-9a-f]{8})-(\d+)-(\d+)-")
#: A temporary file of :func:`atomic_path`: ``.NAME.HOST-PID-START-RANDOM.partSUFFIX``.
_PART = re.compile(r"\..+?\.([0-9a-f]{8}-\d+-\d+-[^.]*)\.part(\.[^.]*)?$")
#: A staging folder or temporary file of an izdat older than this fix carries no owner; it is
#: removed once it has not been touched for this long (s).
LEGACY_AGE_S = 24 * 3600
#: Errors of the disk itself: reported as "cannot write", never as a traceback.
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
_HELD_SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s)


def check_output_file(path: str | Path) -> Path:
    """Raise :class:`OutputError` unless ``path`` can be written as a file; creates nothing.

    Refuses a directory, a pipe, a device or a read-only file at ``path``, and a parent that is a
    file or not writable. Commands call it before their work, so a long run does not fail at the end.
    """
    path = Path(path)
    _check_creatable(path.parent)
    _check_target(path)
    return path


def check_output_folder(outdir: str | Path, names=()) -> Path:
    """Raise :class:`OutputError` unless ``outdir`` can be (created and) filled with ``names``; creates nothing."""
    outdir = Path(outdir)
    _check_creatable(outdir)
    for name in names:
        _check_target(outdir / name)
    return outdir


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it vanishes.

    Raises :class:`OutputError` (one sentence) when ``path`` is a directory, a pipe, a device or a
    read-only file, or when the file cannot be written; folders it had to create are removed again
    on failure. Temporary files left by killed processes for the same ``path`` are removed.
    """
    path = Path(path)
    _check_target(path)
    folder = path.parent
    suffix = ".part" + path.suffix
    tmp, created = None, []
    try:
        with _held():       # a signal held here is delivered at the block's end: inside the try below
            try:
                created = _make_folders(folder)
            except OSError as exc:
                raise OutputError(f"cannot write to {folder}: {_reason(exc)}") from None
            try:
                _clean_stale_parts(folder, path.name, suffix)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_owner_tag()}-", suffix=suffix, dir=folder)
                os.close(fd)
                os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
            except OSError as exc:
                raise OutputError(f"cannot write to {folder}: {_reason(exc)}") from None
        yield Path(tmp)
        _check_target(path)   # something may have taken the name meanwhile
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        _remove_folders(created)
        if isinstance(exc, OSError) and not isinstance(exc, IzdatError):
            raise OutputError(f"cannot write {_shown(path)}: {_reason(exc)}") from None
        raise


def _shown(path: Path) -> Path:
    """The path a user knows: a file in a staging folder by its place in the output folder."""
    return path.parent.parent / path.name if path.parent.name.startswith(STAGE_PREFIX) else path


@contextlib.contextmanager
def staged_folder(outdir: str | Path):
    """Yield a hidden staging folder inside ``outdir``; on success its files move into ``outdir``.

    Every output of a command is written into the staging folder first, so either all of them
    arrive or none does: files already in ``outdir`` are replaced only when every new file is in
    place, and put back on any failure. ``outdir`` is created if needed and removed again if the
    run fails while it is still empty. Staging folders of killed runs are cleaned first.

    Raises :class:`OutputError` (one sentence) if ``outdir`` cannot be written or a new file cannot
    take its place (a directory, pipe or read-only file of that name); nothing is changed then.
    """
    outdir = Path(outdir)
    _check_creatable(outdir)
    stage, created = None, []
    try:
        with _held():       # a signal held here is delivered at the block's end: inside the try
            try:
                created = _make_folders(outdir)
            except OSError as exc:
                raise OutputError(f"cannot write to {outdir}: {_reason(exc)}") from None
            try:
                clean_stale(outdir)
                stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{_owner_tag()}-", dir=outdir))
            except OSError as exc:
                raise OutputError(f"cannot write to {outdir}: {_reason(exc)}") from None
        yield stage
        with _held():
            _commit(stage, outdir)
            shutil.rmtree(stage, ignore_errors=True)
    except BaseException as exc:
        if stage is not None and not _holds_old_files(stage):
            shutil.rmtree(stage, ignore_errors=True)
        _remove_folders(created)   # only while empty
        if isinstance(exc, OSError) and not isinstance(exc, IzdatError) and exc.errno in _DISK_ERRORS:
            raise OutputError(f"cannot write to {outdir}: {_reason(exc)}") from None
        raise


def clean_stale(outdir: str | Path) -> int:
    """Roll back or remove the staging folders (and temporary files) that killed runs left in ``outdir``.

    Only those whose process is gone are touched: a folder still being written by a live izdat is
    left alone. A run killed while moving its files in is rolled back, so the old files return.
    Returns how many staging folders were removed.
    """
    outdir = Path(outdir)
    removed = 0
    try:
        entries = list(os.scandir(outdir))
    except OSError:
        return 0
    for entry in entries:
        part = _PART.match(entry.name)
        if part is not None and entry.is_file(follow_symlinks=False):   # a killed atomic_path's file
            if _abandoned(part.group(1), entry.path):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
            continue
        if not entry.name.startswith(STAGE_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        if not _abandoned(entry.name[len(STAGE_PREFIX):], entry.path):
            continue
        if _recover(Path(entry.path), outdir):
            removed += 1
    return removed


# -- the move into place -------------------------------------------------------------------------

def _commit(stage: Path, outdir: Path) -> None:
    """Move every file of ``stage`` into ``outdir``, all or nothing (see the module's docstring)."""
    names = sorted(n for n in os.listdir(stage) if not n.startswith(STAGE_PREFIX))
    for name in names:
        _check_target(outdir / name)
    new = {}
    for name in names:
        st = os.lstat(stage / name)
        new[name] = [st.st_dev, st.st_ino]
    old = stage / _OLD
    aside, moved = [], []
    try:
        with open(stage / _PLAN, "x") as f:
            json.dump({"names": names, "new": new}, f)
        os.mkdir(old)
        for name in names:
            if os.path.lexists(outdir / name):
                os.replace(outdir / name, old / name)
                aside.append(name)
        for name in names:
            os.replace(stage / name, outdir / name)
            moved.append(name)
        open(stage / _DONE, "x").close()
    except BaseException as exc:
        stuck = _undo(stage, outdir, moved, aside)
        why = _reason(exc) if isinstance(exc, OSError) else type(exc).__name__
        if stuck:
            raise OutputError(f"could not move the new files into {outdir} ({why}) nor put back "
                              f"{', '.join(stuck)}: the previous files are kept in {old}") from None
        shutil.rmtree(stage, ignore_errors=True)
        if isinstance(exc, (OSError, IzdatError)):
            raise OutputError(f"could not move the new files into {outdir} ({why}); "
                              f"the folder is as it was") from None
        raise


def _holds_old_files(stage: Path) -> bool:
    """Whether a failed move left old files in ``stage`` that could not be put back (keep it then)."""
    if (stage / _DONE).exists():
        return False
    try:
        with os.scandir(stage / _OLD) as entries:
            return any(True for _ in entries)
    except OSError:
        return False


def _undo(stage: Path, outdir: Path, moved: list[str], aside: list[str]) -> list[str]:
    """Take the new files out and put the old ones back; the names that could not be put back."""
    stuck = []
    for name in reversed(moved):
        if name not in aside:   # a name that was free before: take the new file out again
            with contextlib.suppress(OSError):
                os.replace(outdir / name, stage / name)
    for name in reversed(aside):
        try:
            os.replace(stage / _OLD / name, outdir / name)   # over the new file, if it came in
        except OSError:
            stuck.append(name)
    return stuck


def _recover(stage: Path, outdir: Path) -> bool:
    """Undo what a killed run's staging folder left half done; True when the folder is gone."""
    old = stage / _OLD
    if not (stage / _DONE).exists():
        try:
            plan = json.loads((stage / _PLAN).read_text())
            names, new = list(plan["names"]), dict(plan["new"])
        except (OSError, ValueError, KeyError, TypeError):
            names, new = [], {}   # no whole plan: nothing had been moved yet
        for name in names:
            if not isinstance(name, str) or "/" in name or name in ("", ".", ".."):
                return False
            target, backup = outdir / name, old / name
            try:
                st = os.lstat(target)
                ours = [st.st_dev, st.st_ino] == new.get(name)
            except FileNotFoundError:
                ours = None
            try:
                if ours:
                    if os.path.lexists(backup):
                        os.replace(backup, target)
                    else:
                        os.unlink(target)
                elif os.path.lexists(backup):
                    if ours is not None:
                        return False   # someone's file took the name since: keep the old one where it is
                    os.replace(backup, target)
            except OSError:
                return False
    shutil.rmtree(stage, ignore_errors=True)
    return not stage.exists()


# -- owners: which process a staging folder belongs to -------------------------------------------

def _owner_tag() -> str:
    """``HOST-PID-START``: this host (hashed), this process and its start time (clock ticks since boot)."""
    pid = os.getpid()
    return f"{_host()}-{pid}-{_start_time(pid)}"


def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _start_time(pid: int) -> int:
    """Field 22 of /proc/PID/stat (0 where there is no /proc); a reused pid has another start time."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read()
        return int(text[text.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def _abandoned(tag: str, path: str) -> bool:
    """Whether the process that made a staging folder or temporary file (by its name's tag) is gone."""
    m = _OWNED.match(tag)
    if m is None:   # an izdat before owners were named: left alone until it is a day old
        try:
            return time.time() - os.lstat(path).st_mtime > LEGACY_AGE_S
        except OSError:
            return False
    host, pid, start = m.group(1), int(m.group(2)), int(m.group(3))
    if host != _host():
        return False   # a shared folder: another machine's process, which this one cannot see
    if tag.startswith(_owner_tag() + "-"):
        return False   # this very process
    if start and os.path.isdir("/proc"):
        return _start_time(pid) != start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _clean_stale_parts(folder: Path, name: str, suffix: str) -> None:
    """Remove the temporary files killed processes left for ``folder/name``."""
    head = f".{name}."
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(head) and entry.name.endswith(suffix) and entry.is_file(follow_symlinks=False):
            if _abandoned(entry.name[len(head):], entry.path):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


# -- checks --------------------------------------------------------------------------------------

def _check_target(target: Path) -> None:
    """Raise :class:`OutputError` if a new file cannot replace ``target`` without loss or surprise."""
    try:
        st = os.lstat(target)
    except (FileNotFoundError, NotADirectoryError):
        return   # a free name (or a parent that is not a folder, which making the folder reports)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {_reason(exc)}") from None
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return   # the link itself is replaced (and put back on failure), never what it points to
    if stat.S_ISDIR(mode):
        raise OutputError(f"{target} is a directory; izdat will not replace it with a file")
    if not stat.S_ISREG(mode):
        raise OutputError(f"{target} is {_kind(mode)}, not a file; izdat will not replace it")
    if not mode & 0o222 or not os.access(target, os.W_OK):
        raise OutputError(f"{target} is read-only; izdat will not replace it "
                          f"(make it writable or write somewhere else)")


def _check_creatable(folder: Path) -> None:
    """Raise :class:`OutputError` unless ``folder`` is, or can be made, a writable directory."""
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        what = "it is not a folder" if probe == folder else f"{probe} is not a folder"
        raise OutputError(f"cannot write to {folder}: {what}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to {folder}: {probe} is not writable")


def not_a_file(path: str | Path) -> str | None:
    """What ``path`` is when it is not a plain file ("a directory", "a pipe", …), else None.

    Only ``stat`` is called, so a pipe is never opened (which would wait for a writer). Raises
    ``OSError`` (``FileNotFoundError`` for a missing path) as ``os.stat`` does.
    """
    mode = os.stat(path).st_mode
    return None if stat.S_ISREG(mode) else _kind(mode)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a plain file"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; the ones created, outermost first."""
    missing = []
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    missing.reverse()
    created = []
    try:
        for d in missing:
            os.mkdir(d)
            created.append(d)
    except FileExistsError:
        if not folder.is_dir():
            _remove_folders(created)
            raise
    except OSError:
        _remove_folders(created)
        raise
    return created


def _remove_folders(created: list[Path]) -> None:
    """Remove the folders a failed run created, innermost first, as long as they are empty."""
    for d in reversed(created):
        try:
            os.rmdir(d)
        except OSError:
            return


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _held():
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends (in the main thread; elsewhere a no-op).

    A signal that arrives meanwhile is noted and acted on when the block ends (its own handler
    called, or its default action taken), so a move into place is never cut in half by Ctrl-C or
    ``kill``. Python's handlers are swapped rather than the thread's signal mask changed: a
    process with other threads (numba's, a server's) has the signal delivered to one of those,
    which a mask on the main thread does not stop.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for signum in _HELD_SIGNALS:
        handler = signal.getsignal(signum)
        if handler in (signal.SIG_IGN, None):       # ignored stays ignored; None: set outside Python
            continue
        previous[signum] = handler
        signal.signal(signum, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)
            else:                                    # SIG_DFL: the default action, now
                os.kill(os.getpid(), caught[0])
