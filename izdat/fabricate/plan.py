"""The cut in millimetres: the groove as a polyline, the outline and the spindle hole as circles."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from izdat.lathe import Record
from izdat.render import PICTURE_MARGIN_MM

__all__ = ["CutPlan", "SPINDLE_HOLE_MM"]

#: Spindle hole diameter (mm): 0.286 inch, the standard 78/LP spindle (RIAA/IEC).
SPINDLE_HOLE_MM = 7.26


@dataclass(frozen=True, eq=False)
class CutPlan:
    """Where a machine cuts, in mm with the origin at the top left and y down.

    ``x_mm``, ``y_mm`` trace the groove's centre line from the lead-in to one full turn of the
    locked groove. The outline and the spindle hole are circles around ``centre_mm``.
    """

    x_mm: np.ndarray
    y_mm: np.ndarray
    centre_mm: tuple
    outline_radius_mm: float
    hole_radius_mm: float
    groove_width_mm: float
    size_mm: float

    @classmethod
    def of(cls, record: Record, *, start_angle_deg: float = 0.0) -> "CutPlan":
        """The plan of ``record``, its groove starting ``start_angle_deg`` counter-clockwise from +x."""
        end = min(len(record.radius_m), record.locked_start + record.samples_per_rev + 1)
        r_mm = record.radius_m[:end] * 1e3
        theta = math.radians(start_angle_deg) + record.angle_rad()[:end]
        size = record.diameter_m * 1e3 + 2 * PICTURE_MARGIN_MM
        c = size / 2
        return cls(c + r_mm * np.cos(theta), c - r_mm * np.sin(theta), (c, c), record.diameter_m * 1e3 / 2,
                   SPINDLE_HOLE_MM / 2, record.groove_width_m * 1e3, size)

    @property
    def points(self) -> int:
        return len(self.x_mm)

    def length_mm(self) -> float:
        """Length of the groove's centre line (mm)."""
        return float(np.hypot(np.diff(self.x_mm), np.diff(self.y_mm)).sum())
