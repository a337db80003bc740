"""G-code for a CNC drag knife, engraving bit or laser: G21 (mm), G90 (absolute)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from izdat._check import check_number
from izdat.errors import GrooveError
from izdat.fabricate._text import format_points, write_parts
from izdat.fabricate.plan import DECIMALS, CutPlan

__all__ = ["write_gcode", "read_gcode_path", "FEED_MM_MIN", "DEPTH_MM", "SAFE_Z_MM"]

#: Ranges of the G-code settings: feed rate (mm/min), groove depth (mm), safe height (mm).
FEED_MM_MIN, DEPTH_MM, SAFE_Z_MM = (1.0, 100_000.0), (0.001, 5.0), (0.1, 100.0)
#: Groove moves formatted and written at a time (about 2.5 MB of text).
MOVES_PER_WRITE = 1 << 17


def write_gcode(plan: CutPlan, path: str | Path, *, feed_mm_min: float = 600.0, depth_mm: float = 0.06,
                safe_z_mm: float = 2.0, cut_outline: bool = True) -> Path:
    """Write ``plan`` as G-code and return its path.

    The groove is one continuous ``G1`` path at ``depth_mm`` below the surface (Z = −depth),
    fed at ``feed_mm_min``; then the outline and the spindle hole are cut as full ``G2`` circles
    through the film (Z = −(depth + 0.3) mm). The groove's coordinates are rounded to 0.1 µm (:data:`~izdat.fabricate.plan.DECIMALS`), the circles' to 1 µm. The text is
    written :data:`MOVES_PER_WRITE` moves at a time, never held whole.
    """
    check_number("feed_mm_min", feed_mm_min, *FEED_MM_MIN, "mm/min", error=GrooveError)   # before a file is made
    check_number("depth_mm", depth_mm, *DEPTH_MM, "mm", error=GrooveError)
    check_number("safe_z_mm", safe_z_mm, *SAFE_Z_MM, "mm", error=GrooveError)
    return write_parts(path, _parts(plan, format_points, feed_mm_min=feed_mm_min, depth_mm=depth_mm,
                                    safe_z_mm=safe_z_mm, cut_outline=cut_outline))


def _parts(plan: CutPlan, points, *, feed_mm_min: float = 600.0, depth_mm: float = 0.06, safe_z_mm: float = 2.0,
           cut_outline: bool = True):
    """The file's text in pieces: bytes, or what ``points(x, y, **layout)`` gives for the groove's moves."""
    feed_mm_min = check_number("feed_mm_min", feed_mm_min, *FEED_MM_MIN, "mm/min", error=GrooveError)
    depth_mm = check_number("depth_mm", depth_mm, *DEPTH_MM, "mm", error=GrooveError)
    safe_z_mm = check_number("safe_z_mm", safe_z_mm, *SAFE_Z_MM, "mm", error=GrooveError)
    cx, cy = plan.centre_mm
    thinned = (f"; the groove's {plan.samples} samples thinned to within {plan.tolerance_um:g} um\n"
               if plan.tolerance_um > 0 else "")
    yield ("; izdat bone record: groove centre line, then outline and spindle hole\n"
           f"; {plan.points} groove points, {plan.length_mm():.1f} mm of groove\n{thinned}"
           "G21 ; millimetres\nG90 ; absolute\nG17\n"
           f"G0 Z{safe_z_mm:.3f}\nG0 X{plan.x_mm[0]:.4f} Y{plan.y_mm[0]:.4f}\n"
           f"G1 Z{-depth_mm:.3f} F{feed_mm_min / 4:.0f}\nG1 F{feed_mm_min:.0f}\n").encode()
    for start in range(0, plan.points, MOVES_PER_WRITE):
        stop = min(plan.points, start + MOVES_PER_WRITE)
        yield points(plan.x_mm[start:stop], plan.y_mm[start:stop], decimals=DECIMALS, before=b"G1 X", between=b" Y",
                     after=b"\n")
    tail = [f"G0 Z{safe_z_mm:.3f}"]
    if cut_outline:
        through = depth_mm + 0.3
        for radius in (plan.hole_radius_mm, plan.outline_radius_mm):
            tail += [f"G0 X{cx + radius:.3f} Y{cy:.3f}", f"G1 Z{-through:.3f} F{feed_mm_min / 4:.0f}",
                     f"G2 X{cx + radius:.3f} Y{cy:.3f} I{-radius:.3f} J0 F{feed_mm_min:.0f}", f"G0 Z{safe_z_mm:.3f}"]
    tail += ["M2", ""]
    yield "\n".join(tail).encode()


_MOVE = re.compile(rb"^G1 X(-?[0-9.]+) Y(-?[0-9.]+)", re.M)


def read_gcode_path(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The ``G1 X… Y…`` moves of a G-code file as arrays of x and y (mm): the groove path back."""
    text = Path(path).read_bytes()
    pairs = np.array(_MOVE.findall(text), dtype=np.float64)
    return pairs[:, 0], pairs[:, 1]
