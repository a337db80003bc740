"""The studio's web application (Starlette): pages, uploads, jobs and their files.

Every answer of the API is JSON; every refusal is a 4xx with ``{"error": "one sentence"}``.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import izdat
from izdat.studio.jobs import JobStore
from izdat.studio.uploads import UploadError, UploadStore
from izdat.studio.work import example_song, listen_available, optical_available

__all__ = ["create_app", "default_data_dir"]

#: Largest upload accepted by default (MiB): a 10-minute WAV at 48 kHz stereo is about 110 MiB.
MAX_UPLOAD_MB = 200
_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".gcode": "text/plain; charset=utf-8",
          ".dxf": "application/dxf", ".json": "application/json", ".wav": "audio/wav",
          ".sqlite": "application/vnd.sqlite3"}
_CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/izdat/studio`` (``~/.local/share/izdat/studio``)."""
    import os
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "izdat" / "studio"


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# -- settings checks ------------------------------------------------------------------------------


def _number(body: dict, key: str, lo: float, hi: float, default=None, *, unit: str = "", integer: bool = False,
            optional: bool = False):
    value = body.get(key, default)
    if value is None or value == "":
        if optional:
            return None
        if default is None:
            raise BadRequest(f"{key} is missing")
        value = default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{key} must be a number, not {value!r}") from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise BadRequest(f"{key} must be between {lo:g} and {hi:g}{(' ' + unit) if unit else ''}, not {value!r}")
    if integer:
        if number != int(number):
            raise BadRequest(f"{key} must be a whole number, not {value!r}")
        return int(number)
    return number


def _choice(body: dict, key: str, choices, default=None):
    value = body.get(key, default)
    if value not in choices:
        raise BadRequest(f"{key} must be one of {', '.join(map(str, choices))}, not {value!r}")
    return value


class Studio:
    """The state of one studio: its data folder, uploads and jobs."""

    def __init__(self, data_dir: Path, *, max_upload_mb: float = MAX_UPLOAD_MB, workers: int = 1):
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.uploads = UploadStore(self.data_dir, max_bytes=int(max_upload_mb * 2**20))
        self.jobs = JobStore(self.data_dir, workers=workers)

    def _upload_id(self, body: dict, key: str, kind: str, *, example_ok: bool = False, optional: bool = False):
        value = body.get(key)
        if value in (None, "") and optional:
            return None
        if example_ok and value == "example":
            if example_song() is None:
                raise BadRequest("the example song is not installed with this copy of izdat", 404)
            return "example"
        if not isinstance(value, str) or self.uploads.get(value, kind) is None:
            raise BadRequest(f"{key} must be the id of an uploaded {kind} file" + (" or 'example'" if example_ok else ""))
        return value

    def check(self, kind: str, body: dict) -> tuple[dict, str]:
        """Checked settings of a job of ``kind`` and a title for it."""
        from izdat.groove import EQUALISATIONS
        from izdat.tape import PRESETS
        from izdat.xray import KINDS
        if kind == "cut":
            p = {"song": self._upload_id(body, "song", "audio", example_ok=True),
                 "rpm": _number(body, "rpm", 16, 100, 78, unit="rpm"),
                 "diameter_mm": _number(body, "diameter_mm", 60, 420, 250, unit="mm"),
                 "inner_radius_mm": _number(body, "inner_radius_mm", 10, 200, optional=True, unit="mm"),
                 "eq": _choice(body, "eq", list(EQUALISATIONS), "blumlein"),
                 "dpi": _number(body, "dpi", 50, 2400, 800, unit="dpi"),
                 "trim_s": _number(body, "trim_s", 0.5, 1800, optional=True, unit="s"),
                 "seed": _number(body, "seed", 0, 2**31 - 1, 0, integer=True),
                 "plays": _number(body, "plays", 0, 1000, 0, integer=True)}
            xray = body.get("xray") or {}
            if not isinstance(xray, dict):
                raise BadRequest("xray must be {\"kind\": NAME} or {\"upload\": ID}")
            if xray.get("upload"):
                p["xray"] = {"upload": self._upload_id(xray, "upload", "image")}
            elif xray.get("kind"):
                p["xray"] = {"kind": _choice(xray, "kind", list(KINDS))}
            else:
                p["xray"] = None
            p["song_name"] = self._name(p["song"])
            return p, f"{p['song_name']} at {p['rpm']:g} rpm, {p['diameter_mm']:g} mm"
        if kind == "play":
            if body.get("cut_job"):
                job = self.jobs.get(str(body["cut_job"]))
                if job is None or job["kind"] != "cut" or job["state"] != "done":
                    raise BadRequest("cut_job must be the id of a finished cut")
                p = {"cut_job": job["id"]}
                title = f"the record cut from {job['title']}"
            else:
                p = {"picture": self._upload_id(body, "picture", "image"),
                     "meta": self._upload_id(body, "meta", "json", optional=True)}
                title = self._name(p["picture"])
            p.update({"rpm": _number(body, "rpm", 16, 100, 78, unit="rpm"),
                      "dpi": _number(body, "dpi", 50, 4800, optional=True, unit="dpi")})
            eq = body.get("eq") or None
            p["eq"] = _choice({"eq": eq}, "eq", [None, "none", *EQUALISATIONS]) if eq else None
            return p, title
        if kind == "dub":
            chain = body.get("chain")
            if not isinstance(chain, list) or not 1 <= len(chain) <= 12:
                raise BadRequest("chain must be a list of 1 to 12 deck names")
            for name in chain:
                if name not in PRESETS:
                    raise BadRequest(f"unknown deck {name!r}; choose from {', '.join(PRESETS)}")
            p = {"song": self._upload_id(body, "song", "audio", example_ok=True), "chain": list(chain),
                 "trim_s": _number(body, "trim_s", 0.5, 600, 20, unit="s"),
                 "seed": _number(body, "seed", 0, 2**31 - 1, 0, integer=True)}
            p["song_name"] = self._name(p["song"])
            return p, f"{p['song_name']} through {len(chain)} deck(s)"
        if kind == "underground":
            p = {"people": _number(body, "people", 200, 50_000, 3000, integer=True),
                 "start_year": _number(body, "start_year", 1946, 1991, 1946, integer=True),
                 "end_year": _number(body, "end_year", 1946, 1991, 1990, integer=True),
                 "pass_probability": _number(body, "pass_probability", 0, 1, 0.7),
                 "ban_year": _number(body, "ban_year", 1946, 1991, 1958, integer=True),
                 "seed": _number(body, "seed", 0, 2**31 - 1, 0, integer=True)}
            if p["start_year"] > p["end_year"]:
                raise BadRequest("start_year must not be after end_year")
            return p, f"{p['people']:,} people, {p['start_year']}–{p['end_year']}"
        if kind == "listen":
            run = self.jobs.get(str(body.get("run", "")))
            if run is None or run["kind"] != "underground" or run["state"] != "done":
                raise BadRequest("run must be the id of a finished underground simulation")
            p = {"run": run["id"], "copy": _number(body, "copy", 0, 2**31 - 1, integer=True),
                 "song": self._upload_id(body, "song", "audio", example_ok=True),
                 "trim_s": _number(body, "trim_s", 0.5, 120, 10, unit="s"),
                 "seed": _number(body, "seed", 0, 2**31 - 1, 0, integer=True)}
            return p, f"copy {p['copy']}"
        raise BadRequest(f"unknown job kind {kind!r}; choose cut, play, dub, underground or listen", 404)

    def _name(self, upload: str) -> str:
        if upload == "example":
            return "the example song"
        return (self.uploads.get(upload) or {}).get("name", "upload")


# -- handlers -------------------------------------------------------------------------------------


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def index(request: Request) -> Response:
    page = resources.files("izdat.studio").joinpath("static/index.html").read_text()
    return Response(page, media_type="text/html; charset=utf-8")


async def info(request: Request) -> JSONResponse:
    from izdat.groove import EQUALISATIONS
    from izdat.tape import PRESETS
    from izdat.xray import KINDS
    studio: Studio = request.app.state.studio
    return JSONResponse({
        "version": izdat.__version__, "xray_kinds": list(KINDS), "equalisations": list(EQUALISATIONS),
        "decks": [{"name": p.name, "title": p.title, "made": p.made, "kind": p.kind, "speed_cm_s": p.speed_cm_s,
                   "lower_hz": p.lower_hz, "upper_hz": p.upper_hz, "snr_db": p.snr_db,
                   "wow_flutter_pct": p.wow_flutter_pct} for p in PRESETS.values()],
        "example_song": example_song() is not None, "optical": optical_available(), "listen": listen_available(),
        "max_upload_bytes": studio.uploads.max_bytes, "data_dir": str(studio.data_dir)})


async def upload(request: Request) -> JSONResponse:
    studio: Studio = request.app.state.studio
    kind = request.path_params["kind"]
    length = request.headers.get("content-length")
    try:
        length = int(length) if length is not None else None
    except ValueError:
        return _error("the Content-Length header is not a number", 400)
    from urllib.parse import unquote
    name = unquote(request.headers.get("x-filename", ""))
    try:
        meta = await studio.uploads.receive(kind, request.stream(), name=name, length=length)
    except UploadError as exc:
        return _error(str(exc), exc.status)
    return JSONResponse(meta, status_code=201)


async def uploads(request: Request) -> JSONResponse:
    return JSONResponse(request.app.state.studio.uploads.list())


async def delete_upload(request: Request) -> JSONResponse:
    if not request.app.state.studio.uploads.delete(request.path_params["id"]):
        return _error("no such upload", 404)
    return JSONResponse({"deleted": request.path_params["id"]})


async def submit(request: Request) -> JSONResponse:
    studio: Studio = request.app.state.studio
    try:
        body = await request.json()
    except ValueError:
        return _error("the request body must be JSON settings", 400)
    if not isinstance(body, dict):
        return _error("the request body must be a JSON object of settings", 400)
    try:
        params, title = studio.check(request.path_params["kind"], body)
    except BadRequest as exc:
        return _error(str(exc), exc.status)
    job = studio.jobs.submit(request.path_params["kind"], params, title=title)
    return JSONResponse(_public(job), status_code=202)


def _public(job: dict) -> dict:
    job = dict(job)
    job.pop("pid", None)
    if isinstance(job.get("params"), dict):
        job["params"] = {k: v for k, v in job["params"].items()}
    return job


async def jobs(request: Request) -> JSONResponse:
    return JSONResponse(request.app.state.studio.jobs.list())


def _job_or_404(request: Request) -> dict:
    job = request.app.state.studio.jobs.get(request.path_params["id"])
    if job is None:
        raise HTTPException(404, "no such job")
    return job


async def job(request: Request) -> JSONResponse:
    return JSONResponse(_public(_job_or_404(request)))


async def cancel(request: Request) -> JSONResponse:
    _job_or_404(request)
    return JSONResponse(_public(request.app.state.studio.jobs.cancel(request.path_params["id"])))


async def delete_job(request: Request) -> JSONResponse:
    _job_or_404(request)
    request.app.state.studio.jobs.delete(request.path_params["id"])
    return JSONResponse({"deleted": request.path_params["id"]})


async def job_file(request: Request) -> Response:
    studio: Studio = request.app.state.studio
    _job_or_404(request)
    name = request.path_params["name"]
    path = studio.jobs.file(request.path_params["id"], name)
    if path is None:
        return _error("no such file in this job", 404)
    headers = {"Cache-Control": "private, max-age=3600"}
    disposition = "attachment" if request.query_params.get("download") else "inline"
    return FileResponse(path, media_type=_TYPES.get(path.suffix, "application/octet-stream"),
                        filename=path.name, content_disposition_type=disposition, headers=headers)


async def copy_chain(request: Request) -> JSONResponse:
    studio: Studio = request.app.state.studio
    job = _job_or_404(request)
    if job["kind"] != "underground" or job["state"] != "done":
        return _error("this job is not a finished underground simulation", 400)
    try:
        copy_id = int(request.path_params["copy"])
    except ValueError:
        return _error("a copy id is a whole number", 400)
    from izdat.underground.errors import LineageError
    from izdat.underground.lineage import chain
    db = studio.jobs.file(job["id"], "lineage.sqlite")
    try:
        rows = chain(db, copy_id)
    except LineageError as exc:
        return _error(str(exc), 404)
    except sqlite3.Error as exc:
        return _error(f"the lineage database cannot be read ({exc})", 500)
    return JSONResponse(rows)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return _error(exc.detail if isinstance(exc.detail, str) else "error", exc.status_code)


async def _headers(request, call_next):
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Content-Security-Policy", _CSP)
    return response


def create_app(data_dir: str | Path | None = None, *, max_upload_mb: float = MAX_UPLOAD_MB, workers: int = 1,
               allowed_hosts: list[str] | None = None) -> Starlette:
    """The studio as an ASGI application.

    Parameters
    ----------
    data_dir : path, optional
        Folder for uploads and results (kept until deleted); default :func:`default_data_dir`.
    max_upload_mb : float
        Largest upload accepted (MiB); default 200.
    workers : int
        Jobs run at the same time (each in its own process); default 1.
    allowed_hosts : list of str, optional
        Host headers to answer (guards a localhost studio against DNS rebinding); default any.
    """
    from starlette.middleware.base import BaseHTTPMiddleware
    studio = Studio(Path(data_dir) if data_dir else default_data_dir(), max_upload_mb=max_upload_mb, workers=workers)
    static = Path(str(resources.files("izdat.studio").joinpath("static")))
    routes = [
        Route("/", index),
        Route("/api/info", info),
        Route("/api/uploads", uploads),
        Route("/api/uploads/{kind}", upload, methods=["POST"]),
        Route("/api/uploads/{id}", delete_upload, methods=["DELETE"]),
        Route("/api/jobs", jobs),
        Route("/api/jobs/{kind}", submit, methods=["POST"]),
        Route("/api/jobs/{id}", job),
        Route("/api/jobs/{id}", delete_job, methods=["DELETE"]),
        Route("/api/jobs/{id}/cancel", cancel, methods=["POST"]),
        Route("/api/jobs/{id}/files/{name}", job_file),
        Route("/api/jobs/{id}/copies/{copy}", copy_chain),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    middleware = [Middleware(BaseHTTPMiddleware, dispatch=_headers)]
    if allowed_hosts:
        middleware.insert(0, Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            studio.jobs.close()

    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: _http_error},
                    lifespan=lifespan)
    app.state.studio = studio
    return app
