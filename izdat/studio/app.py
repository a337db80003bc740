"""The studio's web application (Starlette): pages, uploads, jobs and their files.

Every answer of the API is JSON; every refusal is a 4xx with ``{"error": "one sentence"}``.

Only the studio's own page may change anything: every POST, PUT, PATCH or DELETE must carry the
random token embedded in the page it served (``X-Izdat-Token``), may not come from another site
(``Origin``, ``Sec-Fetch-Site``), and must be sent as JSON (settings) or as a file (uploads), which
no plain cross-site form can do. Every request must name the studio's own address in ``Host``
(a guard against DNS rebinding). The queue of waiting jobs and the data folder are bounded.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import sqlite3
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import izdat
from izdat.errors import IzdatError, first_line
from izdat.studio.jobs import JobStore, QueueFull
from izdat.studio.uploads import UploadError, UploadStore
from izdat.studio.work import example_song, listen_available, optical_available, read_back_dpi

__all__ = ["create_app", "default_data_dir"]

#: Largest upload accepted by default (MiB): a 10-minute WAV at 48 kHz stereo is about 110 MiB.
MAX_UPLOAD_MB = 200
#: Jobs that may wait in the queue (beyond those running) before a new one is refused with 429.
MAX_QUEUED = 8
#: Largest total size of the data folder (GiB) by default; uploads and new jobs are refused beyond it.
MAX_DATA_GB = 4.0
#: Most runs (seeds) one underground job makes for its ensemble bands.
MAX_RUNS = 5
#: Largest settings body (bytes) a job request may send.
MAX_SETTINGS_BYTES = 64 * 1024
#: Host names a studio on this machine answers to (with its own port).
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: Content types an upload of each kind may be sent as (besides application/octet-stream).
_UPLOAD_TYPES = {"audio": ("audio/",), "image": ("image/", "application/dicom"), "json": ("application/json",)}
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
    """A refused request: one sentence, its HTTP status, and ``fixes`` the page may offer as buttons."""

    def __init__(self, message: str, status: int = 400, fixes: list[dict] | None = None):
        super().__init__(message)
        self.status = status
        self.fixes = list(fixes or [])


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
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadRequest(f"{key} must be a number, not {_shown(value)}")
    if integer and isinstance(value, int):        # exact, however large (a float would round it)
        if not lo <= value <= hi:
            raise BadRequest(f"{key} must be between {lo:g} and {hi:g}{(' ' + unit) if unit else ''}, "
                             f"not {_shown(value)}")
        return value
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadRequest(f"{key} must be a number, not {_shown(value)}") from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise BadRequest(f"{key} must be between {lo:g} and {hi:g}{(' ' + unit) if unit else ''}, not {_shown(value)}")
    if integer:
        if number != int(number):
            raise BadRequest(f"{key} must be a whole number, not {_shown(value)}")
        return int(number)
    return number


def _limit(machine, name: str, fallback: tuple[float, float, str]) -> tuple[float, float, str]:
    """A setting's range ``(lo, hi, unit)`` as the library states it (``Lathe.LIMITS`` and the like)."""
    limits = getattr(machine, "LIMITS", None) or {}
    return tuple(limits.get(name, fallback))


def _ranged(body: dict, key: str, limit: tuple[float, float, str], default=None, *, optional: bool = False,
            hi: float | None = None):
    lo, top, unit = limit
    return _number(body, key, lo, top if hi is None else min(top, hi), default, unit=unit, optional=optional)


def _ug_limit(name: str, fallback: tuple) -> tuple:
    """A range ``(lo, hi)`` of the underground's entry points (:data:`izdat.underground.limits.LIMITS`)."""
    try:
        from izdat.underground.limits import LIMITS
    except ImportError:                         # pragma: no cover - before the table existed
        return fallback
    return tuple(LIMITS.get(name, fallback))[:2]


def _shown(value) -> str:
    """A value for a message: its repr, cut to 40 characters."""
    try:
        text = repr(value) if not isinstance(value, (dict, list)) else f"a JSON {'object' if isinstance(value, dict) else 'list'}"
    except ValueError:                          # an int too long to print
        text = "a number too long to show"
    return text if len(text) <= 40 else text[:37] + "..."


def _switch(body: dict, key: str) -> bool:
    """A true/false setting (absent: false)."""
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{key} must be true or false, not {_shown(value)}")
    return value


def _choice(body: dict, key: str, choices, default=None):
    value = body.get(key, default)
    if not (value is None or isinstance(value, str)) or value not in choices:
        raise BadRequest(f"{key} must be one of {', '.join(map(str, choices))}, not {_shown(value)}")
    return value


#: The knobs of a deck the Dub page may set (TapeDeck's own names and ranges).
KNOBS = ("speed_error_pct", "azimuth_arcmin", "bias", "record_level_db")


class Studio:
    """The state of one studio: its data folder, uploads and jobs, and the bounds on them."""

    def __init__(self, data_dir: Path, *, max_upload_mb: float = MAX_UPLOAD_MB, workers: int = 1,
                 max_queued: int = MAX_QUEUED, max_data_gb: float = MAX_DATA_GB):
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.max_data_bytes = int(max_data_gb * 2**30)
        self.uploads = UploadStore(self.data_dir, max_bytes=int(max_upload_mb * 2**20))
        self.jobs = JobStore(self.data_dir, workers=workers, max_queued=max_queued)

    def used_bytes(self) -> int:
        """Bytes the data folder holds now (every file under it, hidden ones included)."""
        total = 0
        stack = [str(self.data_dir)]
        while stack:
            try:
                with os.scandir(stack.pop()) as entries:
                    for entry in entries:
                        try:
                            if entry.is_dir(follow_symlinks=False):
                                stack.append(entry.path)
                            elif entry.is_file(follow_symlinks=False):
                                total += entry.stat(follow_symlinks=False).st_size
                        except OSError:
                            continue
            except OSError:
                continue
        return total

    def room_bytes(self) -> int:
        """Bytes the data folder may still take before its limit."""
        return max(0, self.max_data_bytes - self.used_bytes())

    def full_message(self) -> str:
        return (f"the studio's data folder holds {self.used_bytes() / 2**30:.2f} GiB of the "
                f"{self.max_data_bytes / 2**30:.2f} GiB it may use; delete results or uploads from the Shelf "
                f"(or start the studio with a larger --max-data)")

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

    def _none_arriving(self, kinds, what: str) -> None:
        """Refuse (409) a job while an upload it could take is still arriving: the page would otherwise
        start it with the file chosen before (a song cut while another was uploading was the old one)."""
        up = self.uploads.arriving_of(kinds)
        if up is None:
            return
        mib = (up.get("length") or up["received"]) >= 2**20
        amount = (lambda n: f"{n / 2**20:.1f}") if mib else (lambda n: f"{n / 1024:.0f}")
        got = amount(up["received"]) + (f" of {amount(up['length'])}" if up.get("length") else "")
        raise BadRequest(f"{up['name']} is still uploading ({got} {'MiB' if mib else 'KiB'} received), so the {what} chosen before it "
                         f"would be used; start again once the upload has finished", 409)

    def _song_path(self, song: str) -> Path | None:
        if song == "example":
            return example_song()
        meta = self.uploads.get(song, "audio")
        return Path(meta["path"]) if meta else None

    def _check_fits(self, p: dict, lathe) -> None:
        """Refuse a song that does not fit the side before any job starts, offering the settings that fit."""
        from izdat.errors import GrooveError
        from izdat.studio.work import fit_fixes, song_seconds
        path = self._song_path(p["song"])
        try:
            seconds = song_seconds(path) if path is not None else None
        except Exception:  # noqa: BLE001 - an unreadable header: the job itself will say why
            seconds = None
        if seconds is None:
            return
        if p.get("trim_s"):
            seconds = min(seconds, p["trim_s"])
        try:
            lathe.check_fits(seconds)
        except GrooveError:
            message, fixes = fit_fixes(lathe, seconds, inner_given=p.get("inner_radius_mm") is not None)
            raise BadRequest(message, 400, fixes) from None

    def check(self, kind: str, body: dict) -> tuple[dict, str]:
        """Checked settings of a job of ``kind`` and a title for it (raises :class:`BadRequest`).

        Ranges are the library's own (``Lathe.LIMITS``), and a cut's geometry is judged by building
        the lathe here, so the studio refuses what the CLI refuses, before any job starts. The
        studio's own, tighter caps (picture DPI, song length, society size) only bound a job's time
        and memory.
        """
        from izdat.groove import EQUALISATIONS
        from izdat.lathe import Lathe
        from izdat.tape import PRESETS
        from izdat.xray import KINDS
        rpm = _limit(Lathe, "rpm", (5.0, 200.0, "rev/min"))
        if kind == "cut":
            p = {"song": self._upload_id(body, "song", "audio", example_ok=True),
                 "rpm": _ranged(body, "rpm", rpm, 78),
                 "diameter_mm": _ranged(body, "diameter_mm", _limit(Lathe, "diameter_mm", (50.0, 420.0, "mm")), 250),
                 "inner_radius_mm": _ranged(body, "inner_radius_mm", _limit(Lathe, "inner_radius_mm", (10.0, 210.0, "mm")),
                                            optional=True),
                 "eq": _choice(body, "eq", list(EQUALISATIONS), "blumlein"),
                 "dpi": _number(body, "dpi", 50, 2400, 800, unit="dpi"),
                 "trim_s": _ranged(body, "trim_s", _limit(Lathe, "trim_s", (0.1, 86400.0, "s")), optional=True,
                                   hi=1800),
                 "seed": _number(body, "seed", 0, 2**31 - 1, 0, integer=True),
                 "plays": _number(body, "plays", 0, 1000, 0, integer=True)}
            inner = p["inner_radius_mm"] or round(min(52.0, 0.2 * p["diameter_mm"]), 1)
            try:
                lathe = Lathe(rpm=p["rpm"], diameter_mm=p["diameter_mm"], inner_radius_mm=inner, eq=p["eq"])
            except IzdatError as exc:
                raise BadRequest(first_line(exc)) from None
            xray = body.get("xray") or {}
            if not isinstance(xray, dict):
                raise BadRequest("xray must be {\"kind\": NAME} or {\"upload\": ID}")
            if xray.get("upload"):
                p["xray"] = {"upload": self._upload_id(xray, "upload", "image")}
            elif xray.get("kind"):
                p["xray"] = {"kind": _choice(xray, "kind", list(KINDS))}
            else:
                p["xray"] = None
            self._none_arriving(("audio", "image") if p["xray"] and "upload" in p["xray"] else ("audio",),
                                "song or X-ray")
            self._check_fits(p, lathe)
            p["song_name"] = self._name(p["song"])
            speed = "33⅓" if abs(p["rpm"] - 33.333) < 0.01 else f"{p['rpm']:g}"
            part = f"first {p['trim_s']:g} s" if p["trim_s"] else "whole"
            return p, f"{p['song_name']} ({part}) at {speed} rpm, {p['diameter_mm']:g} mm, {p['dpi']:g} dpi"
        if kind == "play":
            if body.get("cut_job"):
                job = self.jobs.get(body["cut_job"]) if isinstance(body["cut_job"], str) else None
                if job is None or job["kind"] != "cut" or job["state"] != "done":
                    raise BadRequest("cut_job must be the id of a finished cut")
                p = {"cut_job": job["id"]}
                title = f"the record cut from {job['title']}"
            else:
                p = {"picture": self._upload_id(body, "picture", "image"),
                     "meta": self._upload_id(body, "meta", "json", optional=True)}
                self._none_arriving(("image", "json"), "picture or record.json")
                title = self._name(p["picture"])
            p.update({"rpm": _ranged(body, "rpm", rpm, 78),
                      "dpi": _number(body, "dpi", 50, 4800, optional=True, unit="dpi")})
            eq = body.get("eq") or None
            p["eq"] = _choice({"eq": eq}, "eq", [None, "none", *EQUALISATIONS]) if eq else None
            return p, title
        if kind == "dub":
            chain = body.get("chain")
            if not isinstance(chain, list) or not 1 <= len(chain) <= 12:
                raise BadRequest("chain must be a list of 1 to 12 deck names")
            names, settings = [], []
            for item in chain:
                name, knobs = self._deck_entry(item)
                names.append(name)
                settings.append(knobs)
            p = {"song": self._upload_id(body, "song", "audio", example_ok=True), "chain": names,
                 "trim_s": _number(body, "trim_s", 0.5, 600, 20, unit="s"),
                 "seed": _number(body, "seed", 0, 2**31 - 1, 0, integer=True),
                 "concert": _switch(body, "concert")}
            if any(settings):
                p["settings"] = settings
            self._none_arriving(("audio",), "song")
            p["song_name"] = self._name(p["song"])
            titles = " → ".join(PRESETS[n].title.split(" (")[0] for n in names)
            return p, f"{p['song_name']}{' at an apartment concert' if p['concert'] else ''}: {titles}"
        if kind == "underground":
            years = _ug_limit("year", (1946, 1991))
            chance = _ug_limit("probability", (0.0, 1.0))
            p = {"people": _number(body, "people", max(200, _ug_limit("people", (1, 2**31 - 1))[0]), 50_000, 3000,
                                   integer=True),
                 "start_year": _number(body, "start_year", *years, 1946, integer=True),
                 "end_year": _number(body, "end_year", *years, 1990, integer=True),
                 "pass_probability": _number(body, "pass_probability", *chance, 0.7),
                 "ban_year": _number(body, "ban_year", *years, 1958, integer=True),
                 "seed": _number(body, "seed", 0, 2**31 - 1, 0, integer=True),
                 "runs": _number(body, "runs", 1, MAX_RUNS, 1, integer=True)}
            if p["start_year"] > p["end_year"]:
                raise BadRequest("start_year must not be after end_year")
            runs = f", {p['runs']} runs" if p["runs"] > 1 else ""
            return p, f"{p['people']:,} people, {p['start_year']}–{p['end_year']}, seed {p['seed']}{runs}"
        if kind == "listen":
            run = self.jobs.get(body.get("run")) if isinstance(body.get("run"), str) else None
            if run is None or run["kind"] != "underground" or run["state"] != "done":
                raise BadRequest("run must be the id of a finished underground simulation")
            p = {"run": run["id"], "copy": _number(body, "copy", *_ug_limit("copy_id", (0, 2**63 - 1)), integer=True),
                 "song": self._upload_id(body, "song", "audio", example_ok=True),
                 "trim_s": _number(body, "trim_s", 0.5, 120, 10, unit="s"),
                 "seed": _number(body, "seed", 0, 2**31 - 1, 0, integer=True)}
            self._none_arriving(("audio",), "song")
            return p, f"copy {p['copy']}"
        raise BadRequest(f"unknown job kind {_shown(kind)}; choose cut, play, dub, underground or listen", 404)

    def _deck_entry(self, item) -> tuple[str, dict]:
        """A chain entry: a deck's name, or ``{"deck": NAME, "tape": …, "speed_error_pct": …,
        "azimuth_arcmin": …, "bias": …, "record_level_db": …}`` (each knob within
        :attr:`TapeDeck.LIMITS`, the tape one that fits the deck); returns (name, knobs given)."""
        from izdat.tape import PRESETS, TapeDeck
        from izdat.tape.formulations import TAPES
        if isinstance(item, dict):
            name, knobs = item.get("deck"), {}
            extra = sorted(set(item) - {"deck", "tape", *KNOBS})
            if extra:
                raise BadRequest(f"chain must be a list of deck names or of a deck's settings (deck, tape, "
                                 f"{', '.join(KNOBS)}), not of {_shown(extra[0])}")
        else:
            name, knobs = item, None
        if not isinstance(name, str):
            raise BadRequest(f"chain must be a list of deck names, not of {_shown(name)}; choose from {', '.join(PRESETS)}")
        if name not in PRESETS:
            raise BadRequest(f"unknown deck {_shown(name)}; choose from {', '.join(PRESETS)}")
        if knobs is None:
            return name, {}
        for key in KNOBS:
            value = _ranged(item, key, tuple(TapeDeck.LIMITS[key]), optional=True)
            if value is not None:
                knobs[key] = value
        if item.get("tape") not in (None, ""):
            fits = [t for t, f in TAPES.items() if f.kind == PRESETS[name].kind]
            knobs["tape"] = _choice(item, "tape", fits)
        return name, knobs

    def _name(self, upload: str) -> str:
        if upload == "example":
            return "the example song"
        return (self.uploads.get(upload) or {}).get("name", "upload")


# -- handlers -------------------------------------------------------------------------------------


def _error(message: str, status: int, fixes: list[dict] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, **({"fixes": fixes} if fixes else {})}, status_code=status)


async def index(request: Request) -> Response:
    """The page, with this studio's token in ``<meta name="izdat-token">`` (its script sends it back)."""
    page = resources.files("izdat.studio").joinpath("static/index.html").read_text()
    token = request.app.state.token
    page = page.replace("<head>\n", f'<head>\n<meta name="izdat-token" content="{token}">\n', 1)
    return Response(page, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})


async def deck_defaults(request: Request) -> JSONResponse:
    """``GET /api/decks/{name}?seed=N``: the knobs of that machine as its seed draws them (speed error,
    azimuth) and as it leaves the factory (bias 1, level 0, its usual tape): the Dub panel's starting values."""
    from izdat.tape import PRESETS, TapeDeck
    name = request.path_params["name"]
    if name not in PRESETS:
        return _error(f"unknown deck {_shown(name)}; choose from {', '.join(PRESETS)}", 404)
    try:
        seed = _number(dict(request.query_params), "seed", 0, 2**31 - 1, 0, integer=True)
    except BadRequest as exc:
        return _error(str(exc), exc.status)
    deck = TapeDeck(name, seed=seed)
    return JSONResponse({"deck": name, "seed": seed, "tape": deck.tape.name,
                         "speed_error_pct": round(float(deck.speed_error_pct), 3),
                         "azimuth_arcmin": round(float(deck.azimuth_arcmin), 2),
                         "bias": float(deck.bias), "record_level_db": float(deck.record_level_db)})


async def info(request: Request) -> JSONResponse:
    from izdat.groove import EQUALISATIONS
    from izdat.tape import PRESETS, TapeDeck
    from izdat.tape.formulations import TAPES
    from izdat.xray import KINDS
    studio: Studio = request.app.state.studio
    return JSONResponse({
        "version": izdat.__version__, "xray_kinds": list(KINDS), "equalisations": list(EQUALISATIONS),
        "decks": [{"name": p.name, "title": p.title, "made": p.made, "kind": p.kind, "speed_cm_s": p.speed_cm_s,
                   "lower_hz": p.lower_hz, "upper_hz": p.upper_hz, "snr_db": p.snr_db,
                   "wow_flutter_pct": p.wow_flutter_pct, "usual_tape": p.tape,
                   "tapes": [t for t, f in TAPES.items() if f.kind == p.kind]} for p in PRESETS.values()],
        "deck_limits": {k: list(TapeDeck.LIMITS[k]) for k in KNOBS},
        "example_song": example_song() is not None, "optical": optical_available(), "listen": listen_available(),
        "read_back": read_back_dpi(),
        "max_upload_bytes": studio.uploads.max_bytes, "data_dir": str(studio.data_dir)})


async def side(request: Request) -> JSONResponse:
    """``GET /api/side?rpm=&diameter_mm=&song=&trim_s=``: what the Cut page says before cutting (see
    :func:`izdat.studio.work.side_estimate`); bad settings are one sentence (400)."""
    from izdat.lathe import Lathe
    from izdat.studio.work import side_estimate, song_seconds
    studio: Studio = request.app.state.studio
    q = dict(request.query_params)
    try:
        rpm = _ranged(q, "rpm", _limit(Lathe, "rpm", (5.0, 200.0, "rev/min")), 78)
        diameter = _ranged(q, "diameter_mm", _limit(Lathe, "diameter_mm", (50.0, 420.0, "mm")), 250)
        inner = _ranged(q, "inner_radius_mm", _limit(Lathe, "inner_radius_mm", (10.0, 210.0, "mm")), optional=True)
        trim = _ranged(q, "trim_s", _limit(Lathe, "trim_s", (0.1, 86400.0, "s")), optional=True)
        lathe = Lathe(rpm=rpm, diameter_mm=diameter, inner_radius_mm=inner or round(min(52.0, 0.2 * diameter), 1))
    except BadRequest as exc:
        return _error(str(exc), exc.status)
    except IzdatError as exc:
        return _error(first_line(exc), 400)
    seconds = None
    path = studio._song_path(q["song"]) if q.get("song") else None
    if path is not None:
        try:
            seconds = song_seconds(path)
        except Exception:  # noqa: BLE001 - an unreadable header: say nothing of the song
            seconds = None
    if seconds is not None and trim:
        seconds = min(seconds, trim)
    return JSONResponse(side_estimate(lathe, seconds))


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
    if kind in _UPLOAD_TYPES:
        ctype = _media_type(request)
        if ctype != "application/octet-stream" and not any(
                ctype.startswith(t) if t.endswith("/") else ctype == t for t in _UPLOAD_TYPES[kind]):
            wanted = {"audio": "audio/*", "image": "image/* or application/dicom", "json": "application/json"}[kind]
            return _error(f"an upload must be sent as application/octet-stream or {wanted}, "
                          f"not {ctype or 'without a Content-Type'}", 415)
    room = studio.room_bytes()
    try:
        meta = await studio.uploads.receive(kind, request.stream(), name=name, length=length, room=room,
                                            full=studio.full_message)
    except UploadError as exc:
        return _error(str(exc), exc.status)
    return JSONResponse(meta, status_code=201)


async def uploads(request: Request) -> JSONResponse:
    return JSONResponse(request.app.state.studio.uploads.list())


async def delete_upload(request: Request) -> JSONResponse:
    if not request.app.state.studio.uploads.delete(request.path_params["id"]):
        return _error("no such upload", 404)
    return JSONResponse({"deleted": request.path_params["id"]})


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


class _Constant(ValueError):
    pass


def _no_constant(name: str):
    raise _Constant(name)


async def _settings(request: Request) -> dict:
    """The request's JSON object of settings (raises :class:`BadRequest`: 415, 413 or 400)."""
    if _media_type(request) != "application/json":
        raise BadRequest("the settings must be sent as application/json", 415)
    too_big = f"the settings are more than {MAX_SETTINGS_BYTES // 1024} KiB of JSON"
    length = request.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > MAX_SETTINGS_BYTES:
        raise BadRequest(too_big, 413)
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_SETTINGS_BYTES:
            raise BadRequest(too_big, 413)
    try:
        body = json.loads(bytes(raw), parse_constant=_no_constant)
    except _Constant as exc:
        raise BadRequest(f"the settings must be plain JSON numbers ({exc} is not one)") from None
    except RecursionError:
        raise BadRequest("the settings are nested too deeply to be settings") from None
    except ValueError:
        raise BadRequest("the request body must be JSON settings") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object of settings")
    return body


async def submit(request: Request) -> JSONResponse:
    studio: Studio = request.app.state.studio
    kind = request.path_params["kind"]
    try:
        body = await _settings(request)
        params, title = studio.check(kind, body)
    except BadRequest as exc:
        return _error(str(exc), exc.status, exc.fixes)
    if studio.room_bytes() <= 0:
        return _error(studio.full_message(), 507)
    try:
        job = studio.jobs.submit(kind, params, title=title)
    except QueueFull as exc:
        return _error(str(exc), 429)
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
    text = request.path_params["copy"]
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return _error("a copy id is a whole number of at most 18 digits", 400)
    copy_id = int(text)
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


def _finished_run(request: Request):
    """The lineage database of a finished underground job, or an error response."""
    studio: Studio = request.app.state.studio
    job = _job_or_404(request)
    if job["kind"] != "underground" or job["state"] != "done":
        return None, _error("this job is not a finished underground simulation", 400)
    return studio.jobs.file(job["id"], "lineage.sqlite"), None


#: Most copies the page's finder lists at once.
FIND_MAX = 200


async def find(request: Request) -> JSONResponse:
    """``GET /api/jobs/{id}/copies?deepest=1&medium=bone&title=…&performer=…&city=…&year=…&limit=…``:
    the copies of a run that match (:func:`izdat.underground.lineage.find_copies`, what
    ``izdat copies DB`` prints); a bad filter is one sentence (400)."""
    from izdat.underground.errors import LineageError
    from izdat.underground.lineage import find_copies
    db, refused = _finished_run(request)
    if refused is not None:
        return refused
    q = request.query_params
    try:
        kw = {k: (q.get(k) or None) for k in ("medium", "title", "performer", "city")}
        year = _number(dict(q), "year", 1900, 2100, optional=True, integer=True)
        limit = _number(dict(q), "limit", 1, FIND_MAX, 50, integer=True)
        rows = find_copies(db, deepest=q.get("deepest", "") in ("1", "true", "yes"), year=year, limit=limit, **kw)
    except BadRequest as exc:
        return _error(str(exc), exc.status)
    except LineageError as exc:
        return _error(first_line(exc).rstrip("."), 400)
    except sqlite3.Error as exc:
        return _error(f"the lineage database cannot be read ({exc})", 500)
    return JSONResponse(rows)


#: Most children of one copy the tree lists (the rest are counted).
TREE_CHILDREN = 12


async def copy_tree(request: Request) -> JSONResponse:
    """``GET /api/jobs/{id}/copies/{copy}/tree``: the lineage of a copy as a tree: the path from the
    original down to it, and at every copy on that path its children (at most :data:`TREE_CHILDREN`,
    the deepest families first, the rest counted), each with how many copies descend from it."""
    from izdat.underground.errors import LineageError
    from izdat.underground.lineage import chain, open_lineage
    db, refused = _finished_run(request)
    if refused is not None:
        return refused
    text = request.path_params["copy"]
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return _error("a copy id is a whole number of at most 18 digits", 400)
    try:
        path = list(reversed(chain(db, int(text))))        # the original first
        con = open_lineage(db)
        try:
            def kids(copy_id: int) -> list[dict]:
                rows = con.execute("SELECT id, medium, generation, city, made FROM copies WHERE parent = ? "
                                   "ORDER BY id", (copy_id,)).fetchall()
                return [{"id": r[0], "medium": r[1], "generation": r[2], "city": r[3], "made": r[4]} for r in rows]

            # every copy descending from the original, once (one query), and each one's family size
            rows = con.execute("WITH RECURSIVE d(id, parent) AS (SELECT id, parent FROM copies WHERE id = ? "
                               "UNION ALL SELECT c.id, c.parent FROM copies c JOIN d ON c.parent = d.id) "
                               "SELECT id, parent FROM d", (path[0]["id"],)).fetchall()
            below: dict[int, int] = {i: 0 for i, _ in rows}
            parent_of = {i: p for i, p in rows}
            for i, _ in reversed(rows):           # the query yields parents before their children
                p = parent_of[i]
                if p in below and i != path[0]["id"]:
                    below[p] += below[i] + 1

            def family(copy_id: int) -> int:
                return below.get(copy_id, 0)
            on_path = {c["id"] for c in path}
            nodes = []
            for c in path:
                children = kids(c["id"])
                for k in children:
                    k["descendants"] = family(k["id"])
                children.sort(key=lambda k: (k["id"] not in on_path, -k["descendants"], k["id"]))
                nodes.append({"id": c["id"], "medium": c["medium"], "generation": c["generation"], "city": c["city"],
                              "made": c["made"], "descendants": family(c["id"]),
                              "children": children[:TREE_CHILDREN], "more": max(0, len(children) - TREE_CHILDREN)})
        finally:
            con.close()
    except LineageError as exc:
        return _error(first_line(exc).rstrip("."), 404)
    except sqlite3.Error as exc:
        return _error(f"the lineage database cannot be read ({exc})", 500)
    return JSONResponse({"path": [c["id"] for c in path], "nodes": nodes})


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    return _error(exc.detail if isinstance(exc.detail, str) else "error", exc.status_code)


async def _headers(request, call_next):
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Content-Security-Policy", _CSP)
    return response


class _Guard:
    """ASGI middleware: answers only at the studio's own address, and lets only its own page change things.

    Every request: ``Host`` must be one of ``hosts`` (any when ``None``) and, when ``port`` is given,
    name that port (a page on another name that resolves here, DNS rebinding, is refused: 400).
    POST, PUT, PATCH and DELETE besides: ``Sec-Fetch-Site``, when sent, must be ``same-origin``;
    ``Origin``, when sent, must be this very address; and ``X-Izdat-Token`` must be the token of
    the page this studio served (403). A browser sends neither a custom header nor a JSON body
    across sites without asking first (CORS), and the studio never says yes.
    """

    def __init__(self, app, *, token: str, hosts, port: int | None):
        self.app = app
        self.token = token.encode("ascii")
        self.hosts = None if hosts is None else {h.strip("[]").lower() for h in hosts}
        self.port = port

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            refused = self.refusal(scope["method"], Headers(scope=scope))
            if refused is not None:
                await _error(refused[1], refused[0])(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def refusal(self, method: str, headers: Headers) -> tuple[int, str] | None:
        from urllib.parse import urlsplit
        host = headers.get("host", "")
        try:
            parts = urlsplit("//" + host)
            name, port = parts.hostname, parts.port
        except ValueError:
            name, port = None, None
        if self.hosts is not None and (name not in self.hosts or (self.port is not None and (port or 80) != self.port)):
            where = f"port {self.port} of " if self.port is not None else ""
            return 400, f"this studio answers only at {where}{', '.join(sorted(self.hosts))}, not at Host {host[:80]!r}"
        if method.upper() in _SAFE_METHODS:
            return None
        site = headers.get("sec-fetch-site")
        if site is not None and site.lower() != "same-origin":
            return 403, f"the studio takes changes only from its own page, not from a {site[:20]!r} request"
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in (f"http://{host}".lower(), f"https://{host}".lower()):
            return 403, f"the studio takes changes only from its own page, not from Origin {origin[:80]!r}"
        token = headers.get("x-izdat-token", "").encode("latin-1")
        if not secrets.compare_digest(token, self.token):
            return 403, "the request lacks the token of the studio's page; reload the page and try again"
        return None


def create_app(data_dir: str | Path | None = None, *, max_upload_mb: float = MAX_UPLOAD_MB, workers: int = 1,
               allowed_hosts: list[str] | None = LOCAL_HOSTS, port: int | None = None,
               max_queued: int = MAX_QUEUED, max_data_gb: float = MAX_DATA_GB,
               token: str | None = None) -> Starlette:
    """The studio as an ASGI application.

    Parameters
    ----------
    data_dir : path, optional
        Folder for uploads and results (kept until deleted); default :func:`default_data_dir`.
    max_upload_mb : float
        Largest upload accepted (MiB); default 200.
    workers : int
        Jobs run at the same time (each in its own process); default 1.
    allowed_hosts : list of str or None
        Host names to answer (guards a localhost studio against DNS rebinding); default
        :data:`LOCAL_HOSTS` (127.0.0.1, localhost, ::1); ``None`` answers any.
    port : int, optional
        The port the studio listens on; when given, ``Host`` must name it too.
    max_queued : int
        Jobs that may wait for a worker; one more is refused with 429. Default 8.
    max_data_gb : float
        Largest total size of the data folder (GiB); uploads and new jobs beyond it are refused
        with 507. Default 4.
    token : str, optional
        The token the page must send back with every change (``X-Izdat-Token``); default a new
        random one (32 bytes) for each app.
    """
    from starlette.middleware.base import BaseHTTPMiddleware
    studio = Studio(Path(data_dir) if data_dir else default_data_dir(), max_upload_mb=max_upload_mb, workers=workers,
                    max_queued=max_queued, max_data_gb=max_data_gb)
    token = token or secrets.token_urlsafe(32)
    static = Path(str(resources.files("izdat.studio").joinpath("static")))
    routes = [
        Route("/", index),
        Route("/api/info", info),
        Route("/api/side", side),
        Route("/api/decks/{name}", deck_defaults),
        Route("/api/uploads", uploads),
        Route("/api/uploads/{kind}", upload, methods=["POST"]),
        Route("/api/uploads/{id}", delete_upload, methods=["DELETE"]),
        Route("/api/jobs", jobs),
        Route("/api/jobs/{kind}", submit, methods=["POST"]),
        Route("/api/jobs/{id}", job),
        Route("/api/jobs/{id}", delete_job, methods=["DELETE"]),
        Route("/api/jobs/{id}/cancel", cancel, methods=["POST"]),
        Route("/api/jobs/{id}/files/{name}", job_file),
        Route("/api/jobs/{id}/copies", find),
        Route("/api/jobs/{id}/copies/{copy}", copy_chain),
        Route("/api/jobs/{id}/copies/{copy}/tree", copy_tree),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    middleware = [Middleware(BaseHTTPMiddleware, dispatch=_headers),
                  Middleware(_Guard, token=token, hosts=None if allowed_hosts is None else list(allowed_hosts), port=port)]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            studio.jobs.close()

    app = Starlette(routes=routes, middleware=middleware, exception_handlers={HTTPException: _http_error},
                    lifespan=lifespan)
    app.state.studio = studio
    app.state.token = token
    return app
