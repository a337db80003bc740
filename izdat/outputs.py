"""Write a cut record's files: picture, laser/CNC files, playback metadata and a preview."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

import izdat
from izdat.audio import save
from izdat.errors import GrooveError, PictureError
from izdat._check import check_int, check_number
from izdat.fabricate import CutPlan, write_dxf, write_gcode, write_svg
from izdat.fabricate.plan import check_tolerance, cutting_time_s, file_sizes
from izdat.fabricate.gcode import DEPTH_MM, FEED_MM_MIN
from izdat.files import atomic_path, check_output_folder, staged_folder
from izdat.gramophone import Gramophone
from izdat.lathe import Record
from izdat.png import write_grey_png
from izdat.render import HOLE_OFFSET_MM, MAX_DPI, MAX_SEED, check_memory, picture_size_px, render, start_angle_deg
from izdat.xray import KINDS, load_radiograph, radiograph

__all__ = ["FORMATS", "write_record", "backdrop", "check_formats", "check_dpi", "check_record_settings"]

#: File kinds ``write_record`` can write, and their names in the output folder.
FORMATS = {"png": "record.png", "svg": "record.svg", "gcode": "record.gcode", "dxf": "record.dxf",
           "json": "record.json", "wav": "preview.wav"}
#: Side of the radiograph the renderer stretches over the disc (px): film grain finer than this is
#: lost under the groove anyway.
XRAY_PX = 2048


def backdrop(xray: str | Path | None, seed: int) -> tuple[np.ndarray, dict]:
    """The radiograph to cut into: a built-in kind (``skull``, ``hand``, ``chest``), a file
    (PNG, JPEG, TIFF, DICOM), or ``None`` for a built-in kind chosen by ``seed``."""
    if xray is None:
        xray = KINDS[seed % len(KINDS)]
    if str(xray) in KINDS:
        return radiograph(str(xray), XRAY_PX, seed=seed), {"kind": str(xray), "seed": seed}
    if not Path(xray).exists() and not Path(xray).is_symlink():
        raise PictureError(f"{str(xray)!r} is neither a built-in X-ray ({', '.join(KINDS)}) nor a file")
    return load_radiograph(xray, XRAY_PX), {"file": Path(xray).name}


def check_formats(formats) -> list[str]:
    """The format names, cleaned; raises :class:`GrooveError` naming any unknown one."""
    formats = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise GrooveError(f"unknown format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}")
    return formats


def check_dpi(dpi: float) -> float:
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 50 <= dpi <= MAX_DPI:
        raise GrooveError(f"dpi must be between 50 and {MAX_DPI} dots per inch, not {dpi!r}")
    return float(dpi)


def check_record_settings(*, formats=tuple(FORMATS), dpi: float = 1200, bits: int = 8, seed: int = 0,
                          hole_offset_mm: float | None = None, feed_mm_min: float = 600.0,
                          depth_mm: float = 0.06, tolerance_um: float = 0.1, names: dict | None = None) -> dict:
    """Every setting of :func:`write_record`, checked before any work: the cleaned values by name.

    ``names`` maps a parameter to the name the message should use (the CLI's ``--feed`` for
    ``feed_mm_min``). Raises :class:`GrooveError` (``TypeError`` too, for the wrong kind).
    """
    names = names or {}

    def label(key):
        return names.get(key, key)
    if bits not in (8, 16) or isinstance(bits, bool):
        raise GrooveError(f"{label('bits')} must be 8 or 16, not {bits!r}")
    out = {"formats": check_formats(formats), "bits": int(bits),
           "dpi": check_number(label("dpi"), dpi, 50, MAX_DPI, "dots per inch", error=GrooveError),
           "seed": check_int(label("seed"), seed, 0, MAX_SEED, error=GrooveError),
           "feed_mm_min": check_number(label("feed_mm_min"), feed_mm_min, *FEED_MM_MIN, "mm/min", error=GrooveError),
           "depth_mm": check_number(label("depth_mm"), depth_mm, *DEPTH_MM, "mm", error=GrooveError),
           "tolerance_um": check_tolerance(tolerance_um, label("tolerance_um")),
           "hole_offset_mm": None if hole_offset_mm is None else
           check_number(label("hole_offset_mm"), hole_offset_mm, *HOLE_OFFSET_MM, "mm", error=GrooveError)}
    return out


def write_record(record: Record, outdir: str | Path, *, formats=tuple(FORMATS), dpi: float = 1200,
                 xray: str | Path | tuple | None = None, seed: int = 0, hole_offset_mm: float | None = None,
                 feed_mm_min: float = 600.0, depth_mm: float = 0.06, bits: int = 8, tolerance_um: float = 0.1,
                 bar=None, on_plan=None) -> dict[str, Path]:
    """Write the chosen ``formats`` of ``record`` into ``outdir``, all or nothing.

    ``xray`` is a built-in kind, a file, ``None`` (a kind chosen by ``seed``) or a ``(film, info)``
    pair from :func:`backdrop`; ``bits`` (8 or 16) the grey depth of record.png; ``tolerance_um``
    (µm, 0–20, default 0.1; 0 keeps every sample) how far the SVG's, G-code's and DXF's groove
    path may stray from the groove's samples (:class:`~izdat.fabricate.CutPlan`). ``on_plan``, if
    given, is called with the plan and the machine files' sizes (bytes, by format) before any of
    them is written (the CLI prints them with :func:`izdat.fabricate.plan.describe`). Returns the paths
    written, by format (see :data:`FORMATS`);
    ``bar`` is an optional progress object with ``add_task``/``advance`` (rich).

    Every setting, the output folder and each file's place in it, and the memory the picture
    needs are checked before anything is drawn or created (:class:`GrooveError`,
    :class:`OutputError`); a failure leaves ``outdir`` as it was (not even created).
    """
    settings = check_record_settings(formats=formats, dpi=dpi, bits=bits, seed=seed, hole_offset_mm=hole_offset_mm,
                                     feed_mm_min=feed_mm_min, depth_mm=depth_mm, tolerance_um=tolerance_um)
    formats, dpi = settings["formats"], settings["dpi"]
    tolerance_um = settings["tolerance_um"]
    feed_mm_min, depth_mm = settings["feed_mm_min"], settings["depth_mm"]
    check_output_folder(outdir, [FORMATS[f] for f in formats])
    if "png" in formats:
        check_memory(record.diameter_m, dpi, bits)
    angle = start_angle_deg(seed)
    meta = {"izdat_version": izdat.__version__, "kind": "bone record", "seed": seed, **record.info()}
    written = {}
    plan = sizes = None
    if {"svg", "gcode", "dxf", "json"} & set(formats):
        plan = CutPlan.of(record, start_angle_deg=angle, tolerance_um=tolerance_um)
        sizes = file_sizes(plan, formats, feed_mm_min=feed_mm_min, depth_mm=depth_mm)
        if on_plan is not None:
            on_plan(plan, sizes)
    cost = _costs(record, formats, dpi, sizes)
    steps = bar.add_task("writing", total=sum(cost.values())) if bar is not None else None
    step = _Steps(bar, steps, cost)
    with staged_folder(outdir) as stage:
        picture = None
        if "png" in formats or "json" in formats:
            film, film_info = xray if isinstance(xray, tuple) else backdrop(xray, seed)
            if "png" in formats:
                picture = render(record, dpi=dpi, xray=film, seed=seed, hole_offset_mm=hole_offset_mm, bits=bits,
                                 on_progress=step.part("draw"))
                write_grey_png(stage / FORMATS["png"], picture.pixels, dpi=dpi, on_progress=step.part("png"))
                meta["picture"] = {"file": FORMATS["png"], **picture.info()}
            meta["xray"] = film_info
        for fmt, writer in (("svg", lambda p: write_svg(plan, p)),
                            ("gcode", lambda p: write_gcode(plan, p, feed_mm_min=feed_mm_min, depth_mm=depth_mm)),
                            ("dxf", lambda p: write_dxf(plan, p))):
            if fmt in formats:
                writer(stage / FORMATS[fmt])
                step.part(fmt)(1.0)
        if "wav" in formats:
            gramophone = _preview_gramophone(picture, hole_offset_mm, seed)
            save(gramophone.play(record), stage / FORMATS["wav"])
            meta["preview"] = {"file": FORMATS["wav"],
                               "model": "the new record on a gramophone: steel needle, electric pickup with the "
                                        "playback curve, X-ray film surface, the burnt hole's wow (docs/gramophone.md)",
                               "gramophone": gramophone.settings()}
            step.part("wav")(1.0)
        if "json" in formats:
            meta["fabrication"] = {"units": "mm", "origin": "top left, y down (DXF: bottom left, y up)",
                                   "size_mm": plan.size_mm, "centre_mm": list(plan.centre_mm),
                                   "groove_start_angle_deg": angle, "groove_points": plan.points,
                                   "groove_samples": plan.samples, "tolerance_um": plan.tolerance_um,
                                   "groove_length_mm": plan.length_mm(),
                                   "cutting_time_s": cutting_time_s(plan, feed_mm_min),
                                   "cutting_time_note": "groove length over the G-code feed rate",
                                   "file_sizes_bytes": {FORMATS[f]: n for f, n in sizes.items()},
                                   "spindle_hole_diameter_mm": 2 * plan.hole_radius_mm,
                                   "gcode": {"feed_mm_min": feed_mm_min, "depth_mm": depth_mm}}
            meta["files"] = [FORMATS[f] for f in formats]
            with atomic_path(stage / FORMATS["json"]) as tmp:
                tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
            step.part("json")(1.0)
        written = {f: Path(outdir) / FORMATS[f] for f in formats}
    return written


def _preview_gramophone(picture, hole_offset_mm, seed) -> Gramophone:
    """The default gramophone, with the hole where the picture burnt it (its offset and angle)."""
    settings = {"seed": seed}
    if picture is not None:
        (cx, cy), (hx, hy) = picture.centre_px, picture.hole_centre_px
        settings["hole_offset_mm"] = picture.hole_offset_mm
        settings["hole_angle_deg"] = (math.degrees(math.atan2(cy - hy, hx - cx)) - picture.start_angle_deg) % 360
    elif hole_offset_mm is not None:
        settings["hole_offset_mm"] = hole_offset_mm
    return Gramophone(**settings)


#: Rough seconds per unit of each part of writing a record (measured on a 2-core machine: the
#: picture drawn and compressed, per pixel; the machine files, per byte; the gramophone preview, per
#: second of groove), so the "writing" bar fills at about an even pace.
_SECONDS_PER = {"draw": 2e-8, "png": 4e-9, "svg": 4e-7, "gcode": 2e-7, "dxf": 2e-7, "wav": 0.2, "json": 0.0}


def _costs(record, formats, dpi, sizes) -> dict:
    """Estimated seconds of each part of :func:`write_record` (see ``_SECONDS_PER``)."""
    pixels = picture_size_px(record.diameter_m, dpi) ** 2
    units = {"draw": pixels, "png": pixels, "wav": len(record.radius_m) / record.sample_rate, "json": 0,
             **(sizes or {})}
    parts = [p for p in ("draw", "png", "svg", "gcode", "dxf", "wav", "json") if ("png" if p == "draw" else p) in formats]
    return {p: max(_SECONDS_PER[p] * units[p], 0.01) for p in parts}


class _Steps:
    """Moves one progress task through the parts of a job, each weighted by its cost."""

    def __init__(self, bar, task, cost: dict):
        self.bar, self.task, self.cost, self.done = bar, task, cost, {}

    def part(self, name: str):
        """The callback for part ``name``: called with the fraction of that part done (0–1)."""
        def move(fraction):
            if self.bar is None:
                return
            now = self.cost[name] * min(max(float(fraction), 0.0), 1.0)
            step, self.done[name] = now - self.done.get(name, 0.0), now
            if step > 0:
                self.bar.advance(self.task, step)
        return move
