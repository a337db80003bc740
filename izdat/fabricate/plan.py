"""The cut in millimetres: the groove as a polyline, the outline and the spindle hole as circles."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from izdat._check import check_number
from izdat.errors import GrooveError
from izdat.fabricate.decimate import TOLERANCE_UM, decimate
from izdat.lathe import Record
from izdat.render import PICTURE_MARGIN_MM

__all__ = ["CutPlan", "SPINDLE_HOLE_MM", "TOLERANCE_UM", "file_sizes", "cutting_time_s", "check_tolerance", "describe", "DECIMALS"]

#: Spindle hole diameter (mm): 0.286 inch, the standard 78/LP spindle (RIAA/IEC).
SPINDLE_HOLE_MM = 7.26
#: Decimals (of a millimetre) of the groove's coordinates in the files: 0.1 µm, so the rounding
#: (±0.05 µm) stays well inside the thinning's tolerance and far below the quietest modulation.
DECIMALS = 4
#: Groove samples turned into millimetres at a time (bounds the plan's working memory).
BLOCK = 1 << 20


def check_tolerance(tolerance_um, name: str = "tolerance_um") -> float:
    """``tolerance_um`` checked: a number of micrometres in :data:`TOLERANCE_UM` (:class:`GrooveError`)."""
    return check_number(name, tolerance_um, *TOLERANCE_UM, "µm", error=GrooveError)


@dataclass(frozen=True, eq=False)
class CutPlan:
    """Where a machine cuts, in mm with the origin at the top left and y down.

    ``x_mm``, ``y_mm`` trace the groove's centre line from the lead-in to one full turn of the
    locked groove: the groove samples at ``index`` (of ``samples`` in all), thinned so that no
    sample lies farther than ``tolerance_um`` (µm) from the path (0: every sample). The outline
    and the spindle hole are circles around ``centre_mm``.
    """

    x_mm: np.ndarray
    y_mm: np.ndarray
    centre_mm: tuple
    outline_radius_mm: float
    hole_radius_mm: float
    groove_width_mm: float
    size_mm: float
    index: np.ndarray | None = None
    samples: int = 0
    tolerance_um: float = 0.0

    @classmethod
    def of(cls, record: Record, *, start_angle_deg: float = 0.0, tolerance_um: float = 0.1) -> "CutPlan":
        """The plan of ``record``, its groove starting ``start_angle_deg`` counter-clockwise from +x,
        its samples thinned to ``tolerance_um`` (µm, 0–20, default 0.1; 0 keeps every sample).

        The groove is turned into millimetres and thinned a block of samples at a time, so only
        the kept vertices are held.
        """
        tolerance_um = check_tolerance(tolerance_um)
        end = min(len(record.radius_m), record.locked_start + record.samples_per_rev + 1)
        size = record.diameter_m * 1e3 + 2 * PICTURE_MARGIN_MM
        c = size / 2
        step = 2 * math.pi / record.samples_per_rev
        angle0 = math.radians(start_angle_deg)

        def points(a, b):
            r_mm = record.radius_m[a:b] * 1e3
            theta = angle0 + step * np.arange(a, b)
            return c + r_mm * np.cos(theta), c - r_mm * np.sin(theta)

        xs, ys, kept = [], [], []
        anchor = 0
        while True:
            stop = min(end, anchor + BLOCK)
            x, y = points(anchor, stop)
            keep = decimate(x, y, tolerance_um * 1e-3, final=stop == end)
            take = keep if anchor == 0 else keep[1:]      # the anchor was kept by the block before
            xs.append(x[take])
            ys.append(y[take])
            kept.append(anchor + take)
            if stop == end:
                break
            anchor += int(keep[-1])
        return cls(np.concatenate(xs), np.concatenate(ys), (c, c), record.diameter_m * 1e3 / 2,
                   SPINDLE_HOLE_MM / 2, record.groove_width_m * 1e3, size, np.concatenate(kept), end, tolerance_um)

    @property
    def points(self) -> int:
        """Vertices of the groove's path."""
        return len(self.x_mm)

    def length_mm(self) -> float:
        """Length of the groove's path (mm)."""
        return float(np.hypot(np.diff(self.x_mm), np.diff(self.y_mm)).sum())


def cutting_time_s(plan: CutPlan, feed_mm_min: float) -> float:
    """Time (s) a machine takes along the groove at ``feed_mm_min`` (mm/min): its length over the feed."""
    return plan.length_mm() / feed_mm_min * 60


def file_sizes(plan: CutPlan, formats, *, feed_mm_min: float = 600.0, depth_mm: float = 0.06) -> dict[str, int]:
    """The size (bytes) each of ``formats`` (``svg``, ``gcode``, ``dxf``; others are skipped) will
    have when written from ``plan``, counted without making the text."""
    from izdat.fabricate import dxf, gcode, svg
    parts = {"svg": lambda: svg._parts(plan, _count),
             "gcode": lambda: gcode._parts(plan, _count, feed_mm_min=feed_mm_min, depth_mm=depth_mm),
             "dxf": lambda: dxf._parts(plan, _count)}
    return {f: sum(p if isinstance(p, int) else len(p) for p in parts[f]()) for f in formats if f in parts}


def _count(x, y, **kw) -> int:
    from izdat.fabricate._text import count_points
    return count_points(x, y, **kw)


def describe(plan: CutPlan, sizes: dict[str, int], feed_mm_min: float) -> str:
    """One line for a person: the path's vertices, each file's size and the cutting time."""
    files = ", ".join(f"record.{f} {_mb(n)}" for f, n in sizes.items())
    minutes = cutting_time_s(plan, feed_mm_min) / 60
    kept = (f"{plan.points:,} vertices of {plan.samples:,} samples (within {plan.tolerance_um:g} µm)"
            if plan.tolerance_um > 0 else f"{plan.points:,} vertices (every sample)")
    return (f"groove path: {kept}, {plan.length_mm() / 1e3:.1f} m; cutting time {_hm(minutes)} at "
            f"{feed_mm_min:g} mm/min" + (f"; {files}" if files else ""))


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def _hm(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes < 60 else f"{int(minutes // 60)} h {minutes % 60:02.0f} min"
