"""Background jobs: each runs in its own process, reports progress through its folder, can be cancelled.

A job lives in ``DATA/jobs/<id>/``: ``job.json`` (kind, settings, state, timestamps), ``progress.json``
(written by the worker: fraction done and what it is doing), ``result.json`` (what the worker made)
and the files themselves. The folder is the truth, so a job survives a page reload, and a finished
one survives a restart of the studio.

A job dies with its studio: its process watches the studio (the parent's sentinel of
:mod:`multiprocessing`, and on Linux ``PR_SET_PDEATHSIG`` too, so that even a studio killed with
SIGKILL takes its jobs along). A restarted studio then tells the truth about each job left
unfinished in the folder: ``done`` if its worker had written ``result.json`` (it finished),
else ``interrupted``, with its half-made files removed.

Job ids come from :func:`secrets.token_urlsafe` (128 random bits): knowing one id tells nothing
about another.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from izdat.files import atomic_path

__all__ = ["JobStore", "QueueFull", "new_id", "valid_id", "JOB_STATES", "MAX_QUEUED"]

#: Job states; the last four are final.
JOB_STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
FINAL = {"done", "failed", "cancelled", "interrupted"}
_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
#: A file a job may serve: plain lower-case names only (no slashes, no dots in front).
FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9]+)?$")
#: Jobs that may wait for a worker by default; one more is refused (:class:`QueueFull`).
MAX_QUEUED = 8


class QueueFull(Exception):
    """Too many jobs wait already (one sentence for the page)."""


def new_id() -> str:
    """An unguessable id: 16 random bytes, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


def valid_id(text: str) -> bool:
    return bool(_ID.match(text or ""))


def _write_json(path: Path, data: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=_plain))


def _plain(value):
    try:
        return value.item()          # NumPy scalars
    except AttributeError:
        return str(value)


def _size(folder: Path) -> int:
    """Bytes of the files in ``folder`` (0 when there is none)."""
    try:
        return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    except OSError:
        return 0


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class Progress:
    """Handed to a worker: ``progress(0.4, "cutting")`` records how far it is (0–1)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._last = 0.0

    def __call__(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if fraction < 1 and now - self._last < 0.15 and not message:
            return
        self._last = now
        _write_json(self.folder / "progress.json", {"fraction": max(0.0, min(1.0, float(fraction))),
                                                    "message": message})


def _die_with_parent() -> None:
    """Make this job's process end when the studio that started it ends, however it ends.

    On Linux the kernel sends SIGKILL when the parent (the fork server, which itself exits as soon
    as the studio is gone) dies. Everywhere, a thread waits on the studio's sentinel (the pipe
    :mod:`multiprocessing` hands a child, which reads end-of-file once the studio is gone) and
    ends the process then; it also covers a studio that was already gone when the job started.
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)        # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):                      # pragma: no cover - no libc prctl
            pass
    parent = multiprocessing.parent_process()
    if parent is None:                                         # pragma: no cover - run in-process
        return

    def watch():
        parent.join()                                          # returns once the studio is gone
        os._exit(70)

    threading.Thread(target=watch, name="izdat-studio-watchdog", daemon=True).start()


def _run(kind: str, params: dict, folder: str, data_dir: str) -> None:
    """Body of a job's process: run the worker, write result.json or error.json."""
    _die_with_parent()
    folder = Path(folder)
    out = folder / "files"
    try:
        from izdat.studio.work import WORKERS
        progress = Progress(folder)
        progress(0.0, "starting")
        result = WORKERS[kind](params, out, progress, Path(data_dir))
        _write_json(folder / "result.json", result)
    except BaseException as exc:  # noqa: BLE001 - a job reports every failure, one sentence
        from izdat.errors import IzdatError
        fixes = list(getattr(exc, "fixes", None) or [])
        if isinstance(exc, IzdatError):
            message = str(exc)
        elif isinstance(exc, MemoryError):
            message = "the job ran out of memory; try smaller settings"
        else:
            message = f"internal error ({type(exc).__name__}: {exc})"
            traceback.print_exc()
        _write_json(folder / "error.json", {"error": message, **({"fixes": fixes} if fixes else {})})
        raise SystemExit(1)


#: Modules the job processes' parent (the fork server) imports once, so that a job starts in
#: milliseconds instead of importing NumPy, SciPy and the machines again.
PRELOAD = ["izdat.studio.work", "izdat.audio", "izdat.lathe", "izdat.outputs", "izdat.gramophone", "izdat.tape",
           "izdat.underground", "izdat.underground.lineage", "izdat.studio._preload"]


def _context():
    """Fork server where the platform has one (jobs start fast), else spawn."""
    try:
        ctx = multiprocessing.get_context("forkserver")
    except ValueError:  # pragma: no cover - Windows
        return multiprocessing.get_context("spawn")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


class JobStore:
    """The jobs of one studio data folder, with at most ``workers`` running at a time."""

    def __init__(self, data_dir: Path, *, workers: int = 1, max_queued: int = MAX_QUEUED):
        self.root = Path(data_dir) / "jobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self.data_dir = Path(data_dir)
        self.workers = max(1, int(workers))
        self.max_queued = max(0, int(max_queued))
        self._procs: dict[str, multiprocessing.Process] = {}
        self._queue: list[str] = []
        self._lock = threading.RLock()
        self._ctx = _context()
        self._stop = threading.Event()
        self._recover()
        self._thread = threading.Thread(target=self._loop, name="izdat-studio-jobs", daemon=True)
        self._thread.start()

    # -- public -----------------------------------------------------------------------------------

    def submit(self, kind: str, params: dict, *, title: str = "") -> dict:
        """Queue a job; raises :class:`QueueFull` when ``max_queued`` jobs wait already."""
        with self._lock:
            if len(self._queue) >= self.max_queued and len(self._procs) >= self.workers:
                raise QueueFull(f"{len(self._queue)} jobs are waiting already, as many as the studio queues; "
                                f"wait for them to finish or cancel some")
        job_id = new_id()
        folder = self.root / job_id
        folder.mkdir()
        (folder / "files").mkdir()
        job = {"id": job_id, "kind": kind, "title": title, "params": params, "state": "queued",
               "created": time.time(), "started": None, "finished": None}
        _write_json(folder / "job.json", job)
        with self._lock:
            self._queue.append(job_id)
        self._pump()
        return self.get(job_id)

    def folder(self, job_id: str) -> Path | None:
        if not valid_id(job_id):
            return None
        folder = self.root / job_id
        return folder if (folder / "job.json").is_file() else None

    def get(self, job_id: str) -> dict | None:
        folder = self.folder(job_id)
        if folder is None:
            return None
        job = _read_json(folder / "job.json")
        if job is None:
            return None
        prog = _read_json(folder / "progress.json") or {}
        job["progress"] = 1.0 if job["state"] == "done" else prog.get("fraction", 0.0)
        job["message"] = prog.get("message", "")
        if job["state"] == "queued":
            with self._lock:
                ahead = self._queue.index(job_id) if job_id in self._queue else 0
            job["message"] = f"waiting for {ahead + len(self._procs)} job(s) ahead" if ahead + len(self._procs) else "starting"
        if job["state"] == "done":
            job["result"] = _read_json(folder / "result.json") or {}
        if job["state"] == "failed":
            failure = _read_json(folder / "error.json") or {}
            job["error"] = failure.get("error", "the job failed")
            if failure.get("fixes"):
                job["fixes"] = failure["fixes"]
        return job

    def list(self) -> list[dict]:
        jobs = []
        for folder in self.root.iterdir():
            if folder.is_dir() and valid_id(folder.name):
                job = self.get(folder.name)
                if job is not None:
                    entry = {k: job.get(k) for k in ("id", "kind", "title", "state", "created", "finished",
                                                     "progress", "message", "error")}
                    entry["bytes"] = _size(folder / "files")
                    if job["state"] == "done":
                        from izdat.studio.work import shelf_entry
                        entry.update(shelf_entry(job))
                    jobs.append(entry)
        return sorted(jobs, key=lambda j: j["created"], reverse=True)

    def cancel(self, job_id: str) -> dict | None:
        job = self.get(job_id)
        if job is None:
            return None
        with self._lock:
            if job_id in self._queue:
                self._queue.remove(job_id)
                self._finish(job_id, "cancelled")
            proc = self._procs.pop(job_id, None)
            if proc is not None:
                proc.terminate()
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join(5)
                self._finish(job_id, "cancelled")
        if self.get(job_id)["state"] == "cancelled":
            shutil.rmtree(self.root / job_id / "files", ignore_errors=True)
            (self.root / job_id / "files").mkdir(exist_ok=True)
        self._pump()
        return self.get(job_id)

    def delete(self, job_id: str) -> bool:
        if self.folder(job_id) is None:
            return False
        self.cancel(job_id)
        shutil.rmtree(self.root / job_id, ignore_errors=True)
        return True

    def file(self, job_id: str, name: str) -> Path | None:
        """The path of a file a finished job made, or ``None`` (unknown job, bad or missing name)."""
        folder = self.folder(job_id)
        if folder is None or not FILE_NAME.match(name or ""):
            return None
        path = (folder / "files" / name).resolve()
        base = (folder / "files").resolve()
        if path.parent != base or not path.is_file():
            return None
        return path

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            for job_id, proc in list(self._procs.items()):
                proc.terminate()
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join(5)
                self._settle(job_id)
            self._procs.clear()
            for job_id in self._queue:
                self._settle(job_id)
            self._queue.clear()

    # -- inside -----------------------------------------------------------------------------------

    def _recover(self) -> None:
        for folder in self.root.iterdir():
            job = _read_json(folder / "job.json") if folder.is_dir() else None
            if job and job.get("state") not in FINAL:
                self._settle(folder.name)

    def _settle(self, job_id: str) -> None:
        """Mark a job whose process is gone: ``done`` if it wrote its result, else ``interrupted``
        with its half-made files removed."""
        folder = self.root / job_id
        if (folder / "result.json").is_file() and not (folder / "error.json").is_file():
            self._finish(job_id, "done")
            return
        shutil.rmtree(folder / "files", ignore_errors=True)
        (folder / "files").mkdir(exist_ok=True)
        (folder / "progress.json").unlink(missing_ok=True)
        self._finish(job_id, "interrupted")

    def _update(self, job_id: str, **changes) -> None:
        path = self.root / job_id / "job.json"
        job = _read_json(path)
        if job is not None:
            job.update(changes)
            _write_json(path, job)

    def _finish(self, job_id: str, state: str) -> None:
        self._update(job_id, state=state, finished=time.time())

    def _pump(self) -> None:
        with self._lock:
            while self._queue and len(self._procs) < self.workers and not self._stop.is_set():
                job_id = self._queue.pop(0)
                folder = self.root / job_id
                job = _read_json(folder / "job.json")
                if job is None:
                    continue
                proc = self._ctx.Process(target=_run, args=(job["kind"], job["params"], str(folder), str(self.data_dir)),
                                         name=f"izdat-studio-{job['kind']}", daemon=True)
                proc.start()
                self._procs[job_id] = proc
                self._update(job_id, state="running", started=time.time(), pid=proc.pid)

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            with self._lock:
                for job_id, proc in list(self._procs.items()):
                    if proc.is_alive():
                        continue
                    proc.join()
                    del self._procs[job_id]
                    folder = self.root / job_id
                    if proc.exitcode == 0 and (folder / "result.json").is_file():
                        self._finish(job_id, "done")
                    else:
                        if not (folder / "error.json").is_file():
                            _write_json(folder / "error.json",
                                        {"error": f"the job stopped unexpectedly (exit code {proc.exitcode})"})
                        self._finish(job_id, "failed")
            self._pump()
