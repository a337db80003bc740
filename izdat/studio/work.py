"""What the studio's jobs do: each worker wraps the library's machines and writes into ``out``.

A worker is ``worker(params, out, progress, data_dir) -> result`` where ``params`` were checked by
the web layer, ``out`` is the job's files folder, ``progress(fraction, message)`` reports how far
it is, and ``result`` (a JSON-able dict) tells the page what was made. Workers run in their own
process (see :mod:`izdat.studio.jobs`), so they may take their time and be killed.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np

from izdat.errors import GrooveError, IzdatError

__all__ = ["WORKERS", "StudioError", "example_song", "fit_fixes", "optical_available", "listen_available",
           "read_back_dpi", "shelf_entry", "side_estimate", "song_seconds"]

#: Longest side (px) of the preview pictures the page shows before the full picture is zoomed into.
PREVIEW_PX = 1400


class StudioError(IzdatError, ValueError):
    """A job that cannot run as asked (one sentence for the page), with the ``fixes`` the page may offer
    as buttons: ``[{"label": "Cut only the first 23 s", "set": {"trim_s": 23}}, ...]``."""

    def __init__(self, message: str, fixes: list[dict] | None = None):
        super().__init__(message)
        self.fixes = list(fixes or [])


#: The speeds (rev/min) the studio's Cut page offers, fastest first.
STUDIO_RPMS = (78.0, 45.0, 33.333)
#: The picture resolutions (dpi) the studio's Cut page offers.
STUDIO_DPIS = (150, 300, 600, 800, 1200)


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _rpm_text(rpm: float) -> str:
    return "33⅓" if abs(rpm - 33.333) < 0.01 else f"{rpm:g}"


def fit_fixes(lathe, duration_s: float, *, inner_given: bool = False) -> tuple[str, list[dict]]:
    """Why a song of ``duration_s`` (s) does not fit ``lathe``'s side, and the settings of the Cut page
    that would make it fit (each checked on a lathe built with it, at the nominal pitch, so a button
    never offers what cannot be cut): cutting only what fits, a slower speed the page offers, a larger
    disc (in steps of 10 mm up to the lathe's largest)."""
    from izdat.lathe import Lathe
    capacity = lathe.capacity_s()
    message = (f"the song lasts {_clock(duration_s)} but a {lathe.diameter_mm:g} mm side at "
               f"{_rpm_text(lathe.rpm)} rpm holds {_clock(capacity)}")
    fixes = []
    if capacity >= 1:
        fixes.append({"label": f"Cut only the first {math.floor(capacity)} s", "set": {"trim_s": math.floor(capacity)}})

    def holds(**changes) -> bool:
        kw = {"rpm": lathe.rpm, "diameter_mm": lathe.diameter_mm, "inner_radius_mm": lathe.inner_radius_mm,
              "eq": lathe.eq}
        kw.update(changes)
        if "diameter_mm" in changes and not inner_given:
            kw["inner_radius_mm"] = round(min(52.0, 0.2 * kw["diameter_mm"]), 1)
        try:
            return Lathe(**kw).capacity_s() >= duration_s
        except IzdatError:
            return False
    for rpm in STUDIO_RPMS:
        if rpm < lathe.rpm - 0.01 and holds(rpm=rpm):
            fixes.append({"label": f"Cut at {_rpm_text(rpm)} rpm", "set": {"rpm": rpm}})
            break
    top = Lathe.LIMITS.get("diameter_mm", (50.0, 420.0, "mm"))[1]
    d = 10 * math.ceil((lathe.diameter_mm + 1) / 10)
    while d <= top:
        if holds(diameter_mm=d):
            fixes.append({"label": f"Use a {d:g} mm disc", "set": {"diameter_mm": d}})
            break
        d += 10
    return message, fixes


def side_estimate(lathe, seconds: float | None) -> dict:
    """What the Cut page says before cutting: how long the side plays (s, at the nominal pitch) and,
    for a song of ``seconds``, whether it fits, its programme turns, and about how long the groove is
    (m) and takes to cut at the G-code's feed (s): the programme at the nominal pitch, the lead-in's
    turns, the lead-out's spiral down to the locked groove and that circle, each summed as turns of
    their mean radius (the cut's own record.json states the exact figures afterwards)."""
    import inspect

    from izdat.fabricate.gcode import write_gcode
    from izdat.lathe import LEAD_IN_TURNS, LEAD_OUT_PITCH_M, LOCKED_GROOVE_INSET_M
    feed = float(inspect.signature(write_gcode).parameters["feed_mm_min"].default)
    out = {"capacity_s": round(lathe.capacity_s(), 1), "seconds": None, "fits": None, "feed_mm_min": feed}
    if not seconds:
        return out
    turns = seconds * lathe.rpm / 60
    pitch = lathe.pitch_um * 1e-6
    r0 = lathe.program_start_radius_m
    r_end = max(lathe.inner_radius_mm / 1e3, r0 - turns * pitch)
    r_locked = min(lathe.inner_radius_mm / 1e3, r_end) - LOCKED_GROOVE_INSET_M
    r_outer = lathe.diameter_mm / 2e3 - lathe.outer_margin_mm / 1e3
    lead_in = LEAD_IN_TURNS * 2 * math.pi * (r0 + r_outer) / 2
    programme = turns * 2 * math.pi * (r0 + r_end) / 2
    lead_out = ((r_end - r_locked) / LEAD_OUT_PITCH_M + 0.75) * 2 * math.pi * (r_end + r_locked) / 2
    length_m = lead_in + programme + lead_out + 2 * math.pi * r_locked
    try:
        lathe.check_fits(seconds)
        fits = True
    except GrooveError:
        fits = False
    out.update({"seconds": round(seconds, 2), "fits": fits, "programme_turns": round(turns, 1),
                "groove_m": round(length_m, 2), "cutting_s": round(length_m * 1000 / feed * 60)})
    return out


def song_seconds(path: Path) -> float:
    """The length (s) of an audio file from its header, nothing decoded."""
    import soundfile
    info = soundfile.info(str(path))
    return info.frames / info.samplerate


def example_song() -> Path | None:
    """The bundled example song (``examples/song.flac`` of the source tree), if it is there."""
    here = Path(__file__).resolve()
    for base in (here.parent / "examples", here.parents[2] / "examples"):
        if (base / "song.flac").is_file():
            return base / "song.flac"
    return None


def optical_available() -> bool:
    return importlib.util.find_spec("izdat.optical") is not None


def listen_available() -> bool:
    try:
        return importlib.util.find_spec("izdat.underground.listen") is not None
    except (ImportError, ValueError):
        return False


def _upload(data_dir: Path, upload_id: str) -> Path:
    from izdat.studio.jobs import valid_id
    path = data_dir / "uploads" / upload_id / "data"
    if not valid_id(upload_id) or not path.is_file():
        raise StudioError("the uploaded file is gone (deleted?); upload it again")
    return path


def _song(params: dict, data_dir: Path) -> Path:
    if params.get("song") == "example":
        song = example_song()
        if song is None:
            raise StudioError("the example song is not installed with this copy of izdat")
        return song
    return _upload(data_dir, params["song"])


class _Bar:
    """A rich-like progress object (``add_task``/``advance``/``update``) mapped onto a job's range."""

    def __init__(self, progress, lo: float, hi: float, message: str):
        self.progress, self.lo, self.hi, self.message = progress, lo, hi, message
        self.total, self.done = 1, 0

    def add_task(self, description="", total=None, **_):
        self.total = total or 1
        self.done = 0
        self.message = description or self.message
        self.progress(self.lo, self.message)
        return 0

    def advance(self, task=0, advance=1):
        self.done += advance
        self.progress(self.lo + (self.hi - self.lo) * min(1.0, self.done / self.total), self.message)

    def update(self, task=0, **kw):
        if "description" in kw:
            self.message = kw["description"]
        if "advance" in kw:
            self.advance(task, kw["advance"])


def _preview(src: Path, dst: Path, size: int = PREVIEW_PX):
    """A downscaled PNG of a (possibly huge) picture; returns (image, scale from full to preview)."""
    from PIL import Image
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(src) as im:
            im.load()
            full = im.size
            factor = max(1, int(max(full) // (2 * size)))
            small = im.reduce(factor) if factor > 1 else im.copy()
    finally:
        Image.MAX_IMAGE_PIXELS = saved
    small.thumbnail((size, size), Image.LANCZOS)
    small.save(dst, format="PNG", optimize=False)
    return small, small.size[0] / full[0]


def _save_audio(audio, path: Path) -> dict:
    from izdat.audio import save
    save(audio, path)
    return {"file": path.name, "seconds": round(audio.duration_s, 3)}


#: The tracking picture's colours (RGB), those of ``izdat play --report`` (izdat/cli/play.py) for the
#: programme, dimmed outside it; the page's legend (studio.css ``.sw-*``) shows the same.
TRACK_COLOURS = {"measured": (40, 220, 60), "coasted": (240, 40, 40),
                 "measured outside": (40, 110, 50), "coasted outside": (130, 50, 45)}


def _tracking_overlay(picture: Path, groove, out: Path) -> dict:
    """Draw the groove the optical needle followed over a preview of the picture in the colours of
    ``izdat play --report`` (:data:`TRACK_COLOURS`): measured samples green, samples it coasted over
    (dust, scratches, lost track) red, the lead-in, lead-out and locked groove dimmed."""
    from PIL import Image, ImageDraw
    small, scale = _preview(picture, out.with_name("tracking-base.png"))
    out.with_name("tracking-base.png").unlink()
    base = small.convert("RGB")
    base = Image.eval(base, lambda v: int(v * 0.75))
    draw = ImageDraw.Draw(base)
    width = max(2, round(max(base.size) / 600))
    n = len(groove.radius_m)
    step = max(1, n // 60_000)
    i = np.arange(0, n, step)
    sign = 1.0 if groove.direction == "counterclockwise" else -1.0
    theta = math.radians(groove.start_angle_deg) + sign * 2 * math.pi * i / groove.samples_per_rev
    r_px = groove.radius_m[i] * groove.dpi / 0.0254
    x = (groove.centre_px[0] + r_px * np.cos(theta)) * scale
    y = (groove.centre_px[1] - r_px * np.sin(theta)) * scale
    ok = groove.trusted[i]
    prog = (i >= groove.program_start) & (i < groove.program_end)
    for k in range(len(i) - 1):
        colour = TRACK_COLOURS[("measured" if ok[k] else "coasted") + ("" if prog[k] else " outside")]
        draw.line([(x[k], y[k]), (x[k + 1], y[k + 1])], fill=colour, width=width)
    base.save(out, format="PNG")
    trusted = groove.trusted[groove.program_start:groove.program_end]
    lost = int((~trusted).sum()) if trusted.size else 0
    programme_turns = (groove.program_end - groove.program_start) / groove.samples_per_rev
    return {"file": out.name, "confidence": round(groove.confidence, 4), "programme_turns": round(programme_turns, 1),
            "seconds": round(groove.duration_s, 3), "dpi": groove.dpi, "coasted_samples": lost,
            "samples": int(trusted.size), "centre_px": [round(float(c), 1) for c in groove.centre_px]}


def _read_back(picture: Path, meta: Path | None, out: Path, progress, lo: float, hi: float,
               *, rpm: float = 78.0, dpi: float | None = None, eq: str | None = None) -> dict:
    """Play a picture with the optical needle: audio and a tracking report (or why it could not).

    As ``izdat play`` does: with record.json its programme, curve and level; without it the programme
    found from the groove's pitch (lead-in, lead-out and locked groove not played), the curve the
    groove's spectrum points to (or the one asked, with a word when the spectrum disagrees), the
    audio high-passed at 20 Hz and normalised, and a warning when it is mostly subsonic. Each choice
    is said in ``notes``, and the other curve offered in ``fixes``."""
    if not optical_available():
        return {"error": "the optical reader is not available in this copy of izdat"}
    from izdat.audio import Audio
    from izdat.groove import equalisation
    from izdat.optical import OpticalReader, load_picture, read_meta
    from izdat.optical._programme import (HIGH_PASS_HZ, SUBSONIC_EDGE_HZ, SUBSONIC_SHARE, guess_curve, high_pass,
                                          subsonic_share, trim_to_programme)
    progress(lo, "optical needle: following the groove")
    notes, fixes = [], []
    try:
        m = read_meta(meta) if meta is not None else None
        reader = OpticalReader(rpm=m.rpm if m else rpm, dpi=dpi, eq=eq)
        scan = load_picture(picture, dpi=dpi)
        groove = reader.read(scan, m, release=True)
        del scan
        if m is None:
            groove, found = trim_to_programme(groove)
            if found is not None:
                a, b, pitch = found
                n = groove.samples_per_rev
                notes.append(f"no record.json: the programme found from the groove's pitch ({pitch * 1e6:.0f} µm a "
                             f"turn): {(b - a) / n:.1f} programme turns, {(b - a) / groove.sample_rate:.2f} s; the "
                             f"lead-in ({a / n:.1f} turns), lead-out and locked groove are not played")
        guess = guess_curve(groove) if m is None else None
        if eq:
            curve = equalisation(eq)
            if guess is not None and guess.velocity != (not curve.displacement):
                notes.append(f"played with the {curve.name} curve as asked, but {guess.describe()}")
                fixes.append({"label": f"Play with {guess.likely}", "set": {"eq": guess.likely}})
        elif m is not None:
            curve = m.eq
        elif guess is None:
            curve = equalisation("none")
            notes.append("no record.json, and the programme is too short to tell its curve from its spectrum: "
                         "played with none (constant amplitude)")
            fixes.append({"label": "Play with blumlein", "set": {"eq": "blumlein"}})
        else:
            curve = equalisation(guess.likely)
            other = "none" if guess.velocity else "blumlein"
            notes.append(f"no record.json: played with the {guess.likely} curve, as {guess.describe()}")
            fixes.append({"label": f"Play with {other} instead", "set": {"eq": other}})
        audio = groove.playback(eq=curve, gain_m=m.gain_m if m else None, sample_rate=44_100.0)
    except IzdatError as exc:
        return {"error": str(exc)}
    if m is None:
        x = high_pass(audio.samples, audio.sample_rate)
        peak = float(np.max(np.abs(x))) if len(x) else 0.0
        audio = Audio(np.asarray(x * (10 ** (-1 / 20) / peak if peak > 0 else 0.0), np.float32), audio.sample_rate)
        notes.append(f"no record.json, so no level: high-passed at {HIGH_PASS_HZ:g} Hz (the cutters' subsonic "
                     f"filter) and normalised to a −1 dBFS peak")
    share = subsonic_share(audio.samples, audio.sample_rate)
    if share > SUBSONIC_SHARE:
        notes.append(f"warning: {share:.0%} of the audio's energy lies below {SUBSONIC_EDGE_HZ:g} Hz, rumble rather "
                     f"than programme: the needle's track may be off (see the tracking picture)")
    progress(lo + 0.7 * (hi - lo), "optical needle: tracking report")
    result = {"audio": _save_audio(audio, out / "optical.wav"), "curve": curve.name, "notes": notes, "fixes": fixes}
    spectrogram(audio, out / "sound-optical.png", "optical read-back")
    result["audio"]["sonogram"] = "sound-optical.png"
    result["tracking"] = _tracking_overlay(picture, groove, out / "tracking.png")
    return result


# -- cut ------------------------------------------------------------------------------------------


def read_back_dpi() -> dict | None:
    """The coarsest picture (dpi) the optical needle reads a default lathe's groove from: its closest
    turns (groove width plus land, µm) must be ``MIN_PITCH_PX`` pixels apart and the groove
    ``MIN_WIDTH_PX`` across (the reader's own bounds, :mod:`izdat.optical._read`); ``None`` without it."""
    try:
        from izdat.lathe import Lathe
        from izdat.optical._read import MIN_PITCH_PX, MIN_WIDTH_PX
    except ImportError:
        return None
    lathe = Lathe()
    tight_um = lathe.groove_width_um + lathe.land_um
    need = max(MIN_WIDTH_PX / (lathe.groove_width_um * 1e-6), MIN_PITCH_PX / (tight_um * 1e-6)) * 0.0254
    return {"dpi": math.ceil(need), "closest_turns_um": round(tight_um, 1)}


def _dpi_fixes(error: str, dpi: float) -> list[dict]:
    """A finer picture the Cut page offers when the optical needle found this one too coarse: the DPI
    the reader's sentence names ("... at 500 DPI or more"), or the one the closest turns a variable
    pitch may cut need (:func:`read_back_dpi`), whichever is finer."""
    import re
    found = re.search(r"(\d+) DPI or more", error)
    if not found:
        return []
    closest = read_back_dpi() or {"dpi": 0}
    need = max(int(found.group(1)), closest["dpi"], int(dpi) + 1)
    finer = [d for d in STUDIO_DPIS if d >= need]
    if not finer:
        return []
    return [{"label": f"Cut again at {finer[0]} dpi", "set": {"dpi": finer[0]}}]


def cut(params: dict, out: Path, progress, data_dir: Path) -> dict:
    """Cut a song into a bone record; gramophone preview and optical read-back of its picture."""
    from izdat.audio import load
    from izdat.gramophone import Gramophone
    from izdat.groove import equalisation
    from izdat.lathe import Lathe
    from izdat.outputs import FORMATS, write_record

    song = _song(params, data_dir)
    progress(0.02, "reading the song")
    audio = load(song)
    diameter = params["diameter_mm"]
    inner = params.get("inner_radius_mm") or round(min(52.0, 0.2 * diameter), 1)
    lathe = Lathe(rpm=params["rpm"], diameter_mm=diameter, inner_radius_mm=inner, eq=equalisation(params["eq"]),
                  level_db=params.get("level_db", 0.0))
    xray = params.get("xray")
    xray_name = None
    if xray and xray.get("upload"):
        xray_arg = _upload(data_dir, xray["upload"])
        try:
            xray_name = json.loads((xray_arg.parent / "meta.json").read_text())["name"]
        except (OSError, ValueError, KeyError):
            xray_name = "your X-ray"
    else:
        xray_arg = xray.get("kind") if xray else None
    progress(0.05, "cutting the groove")
    try:
        record = lathe.cut(audio, trim_s=params.get("trim_s"),
                           on_progress=lambda f: progress(0.05 + 0.25 * f, "cutting the groove"))
    except GrooveError:
        duration = min(audio.duration_s, params.get("trim_s") or math.inf)
        message, fixes = fit_fixes(lathe, duration, inner_given=bool(params.get("inner_radius_mm")))
        # the variable pitch could not make it fit: offer a little less than the nominal capacity
        for fix in fixes:
            if "trim_s" in fix["set"] and fix["set"]["trim_s"] >= duration:
                fix["set"]["trim_s"] = max(1, math.floor(0.9 * duration))
                fix["label"] = f"Cut only the first {fix['set']['trim_s']} s"
        raise StudioError(message, fixes) from None
    bar = _Bar(progress, 0.3, 0.62, "writing the record's files")
    write_record(record, out, formats=tuple(FORMATS), dpi=params["dpi"], xray=xray_arg, seed=params["seed"], bar=bar)
    progress(0.63, "preview picture")
    small, _ = _preview(out / "record.png", out / "record-preview.png")
    progress(0.66, "gramophone: needle in the groove")
    heard = Gramophone(seed=params["seed"], plays=params.get("plays", 0))(record)
    gramophone = _save_audio(heard, out / "gramophone.wav")
    progress(0.7, "pictures of the sound")
    song_heard = audio.trim(params["trim_s"]) if params.get("trim_s") else audio
    source = _save_audio(song_heard, out / "source.wav")
    spectrogram(song_heard, out / "sound-source.png", "the song")
    source["sonogram"] = "sound-source.png"
    spectrogram(load(out / "preview.wav"), out / "sound-cut.png", "the groove as cut (clean preview)")
    spectrogram(heard, out / "sound-gramophone.png", "gramophone")
    gramophone["sonogram"] = "sound-gramophone.png"
    optical = _read_back(out / "record.png", out / "record.json", out, progress, 0.75, 0.98)
    if "error" in optical:
        optical["fixes"] = _dpi_fixes(optical["error"], params["dpi"])
    info = json.loads((out / "record.json").read_text())
    sizes = {f: (out / name).stat().st_size for f, name in FORMATS.items()}
    return {"kind": "cut", "song": params.get("song_name", song.name), "record": {
                "picture": "record.png", "preview": "record-preview.png",
                "preview_size": list(small.size), "picture_size": [info["picture"]["width_px"], info["picture"]["height_px"]],
                "files": {f: {"file": name, "bytes": sizes[f]} for f, name in FORMATS.items()},
                "rpm": info["rpm"], "diameter_mm": info["diameter_mm"], "program_s": round(record.program_s, 2),
                "programme_turns": round(record.programme_turns, 1), "eq": record.eq.name, "dpi": params["dpi"],
                "limiter": record.limiter.summary(),
                "xray": {"file": xray_name} if xray_name else info.get("xray"),
                "pitch_um": info["pitch"], "band": _band(info), "cutting": _cutting(info)},
            "source": source, "preview": {"file": "preview.wav", "sonogram": "sound-cut.png"}, "gramophone": gramophone,
            "optical": optical}


def _band(info: dict) -> dict | None:
    """Where the music lies on the picture, for the page's loupe: the radii (mm) of the lead-in's
    start, the programme's ends and the locked groove, and the point (fractions of the picture's width
    and height) midway across the programme band, right of the spiral's centre."""
    try:
        pic = info["picture"]
        px_mm = pic["dpi"] / 25.4
        mid = (info["program_start_radius_mm"] + info["program_end_radius_mm"]) / 2
        cx, cy = pic["spiral_centre_px"]
        return {"lead_in_mm": round(info["groove_start_radius_mm"], 2),
                "programme_mm": [round(info["program_start_radius_mm"], 2), round(info["program_end_radius_mm"], 2)],
                "locked_mm": round(info["locked_groove_radius_mm"], 2),
                "aim": [round((cx + mid * px_mm) / pic["width_px"], 4), round(cy / pic["height_px"], 4)],
                "width": round((info["program_start_radius_mm"] - info["program_end_radius_mm"]) * px_mm / pic["width_px"], 5)}
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def _cutting(info: dict) -> dict | None:
    """The groove's length (m) and the time (s) to cut it at the G-code's feed, from record.json."""
    fab = info.get("fabrication") or {}
    try:
        return {"groove_m": round(fab["groove_length_mm"] / 1000, 2), "seconds": round(fab["cutting_time_s"]),
                "feed_mm_min": fab["gcode"]["feed_mm_min"]}
    except (KeyError, TypeError):
        return None


# -- play -----------------------------------------------------------------------------------------


def play(params: dict, out: Path, progress, data_dir: Path) -> dict:
    """Play a record's picture with the optical needle."""
    if params.get("cut_job"):
        from izdat.studio.jobs import valid_id
        folder = data_dir / "jobs" / params["cut_job"] / "files"
        picture, meta = folder / "record.png", folder / "record.json"
        if not valid_id(params["cut_job"]) or not picture.is_file():
            raise StudioError("that cut record is gone (deleted?); choose another or upload a picture")
    else:
        picture = _upload(data_dir, params["picture"])
        meta = _upload(data_dir, params["meta"]) if params.get("meta") else None
    progress(0.02, "loading the picture")
    small, _ = _preview(picture, out / "picture-preview.png")
    result = _read_back(picture, meta, out, progress, 0.1, 0.99, rpm=params.get("rpm", 78.0),
                        dpi=params.get("dpi"), eq=params.get("eq"))
    if "error" in result:
        raise StudioError(result["error"])
    return {"kind": "play", "preview": "picture-preview.png", "preview_size": list(small.size), **result}


# -- dub ------------------------------------------------------------------------------------------


def spectrogram(audio, path: Path, title: str) -> None:
    """A waveform over a log-frequency spectrogram in dB re the loudest bin, labelled axes and a colour
    scale (:func:`izdat.sonogram.sonogram_png`, the demo page's pictures), as a PNG 900 px wide."""
    from izdat.sonogram import sonogram_png
    path.write_bytes(sonogram_png(audio, title, width_px=900))


def dub(params: dict, out: Path, progress, data_dir: Path) -> dict:
    """Copy a song tape to tape through a chain of decks; audio and a spectrogram per generation."""
    from izdat.audio import load
    from izdat.tape import PRESETS

    song = _song(params, data_dir)
    progress(0.02, "reading the song")
    audio = load(song)
    if params.get("trim_s"):
        audio = audio.trim(params["trim_s"])
    if params.get("concert"):
        from izdat.tape.concert import apartment_concert
        progress(0.03, "the apartment concert: a room, one microphone, the audience")
        audio = apartment_concert(audio, seed=params["seed"])
    chain = params["chain"]
    decks = chain_decks(chain, params.get("settings"), params["seed"])
    n = len(decks)
    gens = []
    spectrogram(audio, out / "generation-00.png", "the source" + (" at an apartment concert" if params.get("concert") else ""))
    progress(0.05, "recording generation 1")
    tape = decks[0].record(audio)
    for g, deck in enumerate(decks):
        if g > 0:
            progress(0.05 + 0.9 * g / n, f"dubbing generation {g + 1} on {PRESETS[chain[g]].title}")
            tape = decks[g - 1].dub(tape, onto=deck)
        heard = deck.play(tape)
        a = _save_audio(heard, out / f"generation-{g + 1:02d}.wav")
        spectrogram(heard, out / f"generation-{g + 1:02d}.png",
                    f"generation {g + 1}: {PRESETS[chain[g]].title}, {PRESETS[chain[g]].speed_cm_s:g} cm/s")
        gens.append({"generation": g + 1, "deck": chain[g], "title": PRESETS[chain[g]].title,
                     "machine": {"tape": deck.tape.name, "speed_error_pct": round(float(deck.speed_error_pct), 3),
                                 "azimuth_arcmin": round(float(deck.azimuth_arcmin), 2), "bias": float(deck.bias),
                                 "record_level_db": float(deck.record_level_db)},
                     "audio": a, "spectrogram": f"generation-{g + 1:02d}.png"})
        progress(0.05 + 0.9 * (g + 1) / n, f"generation {g + 1} done")
    _save_audio(audio, out / "generation-00.wav")
    progress(0.96, "measuring each generation with izdat measure's meter")
    meter = chain_meter(chain, params["seed"], params.get("settings"))
    for gen, m in zip(gens, meter):
        gen["meter"] = m
    meter_chart(meter, [PRESETS[name].title for name in chain], out / "meter.png")
    return {"kind": "dub", "source": {"audio": {"file": "generation-00.wav", "seconds": round(audio.duration_s, 3)},
                                      "spectrogram": "generation-00.png"}, "generations": gens, "meter": "meter.png"}


def chain_decks(chain: list[str], settings: list[dict] | None, seed: int) -> list:
    """The machines of a dubbing chain: one :class:`~izdat.tape.TapeDeck` per deck and settings (the
    same model with the same knobs is the same machine, copying onto itself), serial numbers
    ``seed``, ``seed + 1``, … in the order they first appear."""
    from izdat.tape import TapeDeck
    machines: dict[str, object] = {}
    decks = []
    for name, knobs in zip(chain, settings or [{}] * len(chain)):
        key = json.dumps([name, knobs or {}], sort_keys=True)
        if key not in machines:
            machines[key] = TapeDeck(name, seed=seed + len(machines), **(knobs or {}))
        decks.append(machines[key])
    return decks


def chain_meter(chain: list[str], seed: int, settings: list[dict] | None = None) -> list[dict]:
    """``izdat measure``'s meter (izdat.tape.meter) on each generation of a dubbing chain: the test
    signals recorded on the first deck and copied deck to deck as the song was (machines with the
    job's seeds), read after each copy: the upper −3 dB limit (Hz, 1/6-octave tones at −20 dB), the
    unweighted S/N (dB: the first deck's MOL over the copy's noise floor) and the weighted W&F (%, 2σ
    of a 3150 Hz tone; the quasi-peak reading beside it)."""
    import contextlib

    from izdat.audio import Audio
    from izdat.tape import meter as m

    rows = []
    for g in range(1, len(chain) + 1):
        decks = chain_decks(chain, settings, seed)[:g]          # fresh machines, as the job's
        machines = {id(d): d for d in decks}

        def through(deck, signal, generations=1, fs=m.METER_RATE_HZ, decks=decks, machines=machines):
            for d in machines.values():
                d.reset()
            tape = decks[0].record(Audio(signal, fs))
            for a, b in zip(decks, decks[1:]):
                tape = a.dub(tape, onto=b)
            return decks[-1].play(tape).samples

        @contextlib.contextmanager
        def chained():                 # the meter's signals through this chain, not n copies on one deck
            saved = m.through
            m.through = through
            try:
                yield
            finally:
                m.through = saved
        mol, _ = m.max_output_level_dbfs(chain_decks(chain[:1], (settings or [{}])[:1], seed)[0])
        with chained():
            wf = m.measure_wow_flutter(decks[0], 1)
            noise = m.noise_floor_dbfs(decks[0], 1)
            fr = m.frequency_response(decks[0], 1)
        rows.append({"generation": g, "deck": chain[g - 1], "upper_hz": round(float(fr["upper_hz"]), 1),
                     "snr_db": round(float(mol - noise["unweighted"]), 2),
                     "wow_flutter_pct": round(float(wf["weighted"]), 4),
                     "wow_flutter_qp_pct": round(float(wf["quasi_peak"]), 4)})
    return rows


def meter_chart(rows: list[dict], titles: list[str], path: Path) -> None:
    """Three panels over the generations: upper −3 dB limit (Hz), S/N (dB) and W&F (%)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    g = [r["generation"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 2.9), dpi=100, constrained_layout=True)
    panels = [("upper_hz", "upper −3 dB limit (Hz)", "#1f77b4", "{:.0f}"), ("snr_db", "S/N unweighted (dB)", "#2ca02c", "{:.1f}"),
              ("wow_flutter_pct", "W&F weighted 2σ (%)", "#d62728", "{:.2f}")]
    for ax, (key, label, colour, fmt) in zip(axes, panels):
        ax.plot(g, [r[key] for r in rows], "o-", color=colour)
        for x, r in zip(g, rows):
            ax.annotate(fmt.format(r[key]), (x, r[key]), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
        ax.set_title(label, fontsize=9, loc="left")
        ax.set_xticks(g)
        ax.set_xticklabels([f"{x}\n{t.split(' (')[0]}" for x, t in zip(g, titles)], fontsize=7)
        ax.set_xlabel("generation", fontsize=8)
        ax.grid(alpha=0.3)
        ax.margins(y=0.25)
    fig.savefig(path, format="png")
    plt.close(fig)


# -- underground ----------------------------------------------------------------------------------


def underground(params: dict, out: Path, progress, data_dir: Path) -> dict:
    """Run a small underground simulation: lineage database, plots and a choice of copies to hear."""
    from izdat import __version__
    from izdat.underground import build_society, simulate
    from izdat.underground.lineage import write_lineage
    from izdat.underground.plots import write_plots
    from izdat.underground.scenario import merge_scenario
    from izdat.underground.simulate import C_CITY, C_GEN, C_MEDIUM, C_FATE, C_TITLE, F_MADE, FATES, MEDIA

    sc = merge_scenario({"spread": {"pass_probability": params["pass_probability"]},
                         "state": {"ban_year": params["ban_year"]}},
                        text=f"[spread]\npass_probability = {params['pass_probability']}\n"
                             f"[state]\nban_year = {params['ban_year']}\n")
    progress(0.05, "building the society")
    society = build_society(params["people"], sc, params["seed"])
    progress(0.3, "copies spreading")
    history = simulate(society, sc, seed=params["seed"], start_year=params["start_year"], end_year=params["end_year"])
    progress(0.6, "writing the lineage")
    write_lineage(out / "lineage.sqlite", history, society, scenario_text=sc.text, version=str(__version__))
    from izdat.underground.summary import summarize
    summary = summarize(history, society, sc)
    progress(0.75, "drawing the plots")
    plots = [p.name for p in write_plots(summary, out, wage_rub=(sc["money"]["wage_low_rub"], sc["money"]["wage_high_rub"]))]
    ci, cf = history.ci, history.cf
    pick = _pick_copies(ci)
    cities = [c["name"] for c in sc.cities]
    copies = []
    import datetime as dt
    epoch = dt.date(1946, 1, 1)
    for k in pick:
        copies.append({"id": int(k), "title": int(ci[k, C_TITLE]), "medium": MEDIA[ci[k, C_MEDIUM]],
                       "generation": int(ci[k, C_GEN]), "city": cities[ci[k, C_CITY]] if ci[k, C_CITY] < len(cities) else "?",
                       "made": str(epoch + dt.timedelta(days=float(cf[k, F_MADE]))), "fate": FATES[ci[k, C_FATE]]})
    keep = {k: v for k, v in summary.items() if k != "yearly"}
    (out / "summary.json").write_text(json.dumps(summary, default=_plain))
    ensemble = _ensemble(params, sc, summary, progress) if params.get("runs", 1) > 1 else None
    y = summary["yearly"]
    yearly = {"years": [int(v) for v in y["years"]],
              "alive": {m: [int(v) for v in vals] for m, vals in y["alive"].items()},
              "made": {m: [int(v) for v in vals] for m, vals in y["made"].items()},
              "confiscated": [int(v) for v in y["confiscated"]], "arrests": [int(v) for v in y["arrests"]]}
    return {"kind": "underground", "plots": plots, "summary": json.loads(json.dumps(keep, default=_plain)),
            "copies": copies, "database": "lineage.sqlite", "yearly": yearly,
            "events": _events(sc, summary, params["start_year"], params["end_year"]),
            "cities": cities, "ensemble": ensemble}


def _ensemble(params: dict, sc, first: dict, progress) -> dict:
    """The same society and state under ``runs`` seeds (the job's seed, then the next ones): each run's
    headline figures, and per medium and year the copies alive as mean, lowest and highest."""
    from izdat.underground import build_society, simulate
    from izdat.underground.summary import summarize
    runs = int(params["runs"])
    summaries = [first]
    for k in range(1, runs):
        seed = params["seed"] + k
        progress(0.8 + 0.15 * k / runs, f"run {k + 1} of {runs} (seed {seed})")
        society = build_society(params["people"], sc, seed)
        history = simulate(society, sc, seed=seed, start_year=params["start_year"], end_year=params["end_year"])
        summaries.append(summarize(history, society, sc))
    alive = {}
    for m in first["yearly"]["alive"]:
        stack = np.array([s["yearly"]["alive"][m] for s in summaries], dtype=float)
        alive[m] = {"mean": [round(float(v), 1) for v in stack.mean(axis=0)],
                    "lo": [int(v) for v in stack.min(axis=0)], "hi": [int(v) for v in stack.max(axis=0)]}
    return {"runs": runs, "seeds": [params["seed"] + k for k in range(runs)],
            "copies": [int(s["copies"]) for s in summaries], "arrests": [int(s["arrests"]) for s in summaries],
            "max_generation": [int(s["max_generation"]) for s in summaries], "alive": alive}


def _events(sc, summary: dict, start: int, end: int) -> list[dict]:
    """The state's dates of the run's scenario (the ban, the ring broken, the patrols, the easing) and
    the first confiscation the run saw, for the page's markers; only those within the run's years."""
    state = sc["state"]
    marks = [(state.get("ban_year"), "bone records banned"), (state.get("ring_broken_year"), "the ring broken"),
             (state.get("patrols_from"), "Komsomol patrols"), (state.get("eases_from"), "the state eases"),
             (summary.get("first_confiscation_year"), "first confiscation")]
    return [{"year": int(year), "label": label} for year, label in marks
            if isinstance(year, (int, float)) and start <= year <= end]


def _plain(v):
    try:
        return v.item()
    except AttributeError:
        return str(v)


def _pick_copies(ci, n: int = 24) -> list[int]:
    """Copies worth hearing: the deepest of each medium, then the deepest overall, at most ``n``."""
    from izdat.underground.simulate import C_GEN, C_MEDIUM
    if len(ci) == 0:
        return []
    order = np.lexsort((np.arange(len(ci)), -ci[:, C_GEN]))
    chosen: list[int] = []
    for m in np.unique(ci[:, C_MEDIUM]):
        rows = order[ci[order, C_MEDIUM] == m][:3]
        chosen.extend(int(r) for r in rows)
    for r in order:
        if len(chosen) >= n:
            break
        if int(r) not in chosen:
            chosen.append(int(r))
    return sorted(chosen[:n], key=lambda r: (-int(ci[r, C_GEN]), r))


# -- listen ---------------------------------------------------------------------------------------


def listen(params: dict, out: Path, progress, data_dir: Path) -> dict:
    """Hear one copy of an underground run through its lineage (``izdat.underground.listen``)."""
    if not listen_available():
        raise StudioError("listening to a copy is not available in this copy of izdat yet (izdat.underground.listen)")
    from izdat.audio import load
    from izdat.studio.jobs import valid_id
    mod = importlib.import_module("izdat.underground.listen")
    db = data_dir / "jobs" / params["run"] / "files" / "lineage.sqlite"
    if not valid_id(params["run"]) or not db.is_file():
        raise StudioError("that simulation is gone (deleted?); run it again")
    song = _song(params, data_dir)
    progress(0.05, "walking the copy's lineage")
    audio = load(song)
    if params.get("trim_s"):
        audio = audio.trim(params["trim_s"])

    def step(done, total, what=""):
        progress(0.05 + 0.85 * done / max(1, total), f"step {done} of {total}: {what}" if what else f"step {done} of {total}")

    heard = mod.listen(db, params["copy"], audio, progress=step)
    progress(0.9, "spectrogram")
    a = _save_audio(heard, out / "copy.wav")
    spectrogram(heard, out / "copy.png", f"copy {params['copy']}")
    return {"kind": "listen", "copy": params["copy"], "audio": a, "spectrogram": "copy.png"}


WORKERS = {"cut": cut, "play": play, "dub": dub, "underground": underground, "listen": listen}


def _in_turns(figures: dict) -> str:
    """" in 5.2 programme turns", or nothing for a result made before the studio counted them."""
    turns = figures.get("programme_turns")
    return f" in {turns:g} programme turns" if isinstance(turns, (int, float)) else ""


def shelf_entry(job: dict) -> dict:
    """What the Shelf shows of a finished job beside its title: a thumbnail (one of its own pictures,
    or ``None``) and a line of the figures that tell two results of the same song apart."""
    r = job.get("result") or {}
    p = job.get("params") or {}
    try:
        if job.get("kind") == "cut":
            rec = r["record"]
            xray = rec.get("xray") or {}
            return {"thumb": rec.get("preview"),
                    "summary": f"{rec['program_s']:g} s{_in_turns(rec)} · "
                               f"{rec['eq']} · {rec['dpi']:g} dpi · X-ray {xray.get('kind') or xray.get('file') or 'by seed'}"
                               f" · seed {p.get('seed', 0)}"}
        if job.get("kind") == "play":
            t = r["tracking"]
            return {"thumb": t.get("file"),
                    "summary": f"{t['seconds']:g} s{_in_turns(t)} · "
                               f"{100 * t['confidence']:.1f} % tracked · {t['dpi']:g} dpi"}
        if job.get("kind") == "dub":
            gens = r["generations"]
            return {"thumb": gens[-1]["spectrogram"] if gens else r["source"]["spectrogram"],
                    "summary": " → ".join(g["title"] for g in gens) + f" · {r['source']['audio']['seconds']:g} s"}
        if job.get("kind") == "underground":
            s = r["summary"]
            return {"thumb": (r.get("plots") or [None])[0],
                    "summary": f"{int(s.get('copies', 0)):,} copies · deepest generation {s.get('max_generation')} · "
                               f"ban {p.get('ban_year')} · seed {p.get('seed')}"}
        if job.get("kind") == "listen":
            return {"thumb": r.get("spectrogram"), "summary": f"{r['audio']['seconds']:g} s"}
    except (KeyError, TypeError, IndexError):
        pass
    return {"thumb": None, "summary": ""}
