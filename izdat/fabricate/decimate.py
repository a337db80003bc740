"""Fewer vertices for the machines: the groove's samples thinned to a tolerance band.

The groove is sampled 44,100 times a second of music (33,923 a turn at 78 rpm), 20–40 µm apart:
far finer than a laser's spot or a drag knife's blade follows. A vertex is kept only when the
straight chord from the last kept vertex to the sample after it would pass farther than the
tolerance from some sample it skips (a streaming tolerance band, one pass, compiled): every
skipped sample then lies within the tolerance of the chord that replaces it, and so does the
whole path between them (the distance to a straight segment is convex).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["decimate", "max_deviation_mm", "radius_at_angles", "displacement_of_path", "MAX_RUN", "TOLERANCE_UM"]

#: Most samples one chord may replace: bounds the work per vertex (and a machine's longest move).
MAX_RUN = 4096
#: Range of the tolerance (µm): 0 keeps every sample; 20 µm is a sixth of the groove's width.
TOLERANCE_UM = (0.0, 20.0)


def decimate(x_mm: np.ndarray, y_mm: np.ndarray, tolerance_mm: float, *, final: bool = True) -> np.ndarray:
    """Indices of the vertices to keep of the polyline ``(x_mm, y_mm)``, to ``tolerance_mm`` (mm).

    The first point is kept, and with ``final`` the last. Without ``final`` the chord still open
    at the end is left out: the last index returned is where the next block of points should
    start (blocks then give the same vertices as one pass over all of them).
    """
    x = np.ascontiguousarray(x_mm, np.float64)
    y = np.ascontiguousarray(y_mm, np.float64)
    if tolerance_mm <= 0 or len(x) < 3:
        return np.arange(len(x), dtype=np.int64)
    return _band(x, y, float(tolerance_mm), final, MAX_RUN)


@numba.njit(cache=True)
def _off_chord(x, y, a, c, tol2):
    """Whether some sample strictly between ``a`` and ``c`` lies farther than √tol2 from chord a–c."""
    ax, ay = x[a], y[a]
    dx, dy = x[c] - ax, y[c] - ay
    d2 = dx * dx + dy * dy
    # the middle of the run strays farthest on a smooth curve: look there first
    mid = (a + c) // 2
    for step in range(c - a - 1):
        k = mid + (step + 1) // 2 if step % 2 == 0 else mid - (step + 1) // 2
        if k <= a or k >= c:
            continue
        px, py = x[k] - ax, y[k] - ay
        t = (px * dx + py * dy) / d2 if d2 > 0 else 0.0
        t = min(1.0, max(0.0, t))
        ex, ey = px - t * dx, py - t * dy
        if ex * ex + ey * ey > tol2:
            return True
    # the order above may miss one end of an even run: check the two ends too
    for k in (a + 1, c - 1):
        if a < k < c:
            px, py = x[k] - ax, y[k] - ay
            t = (px * dx + py * dy) / d2 if d2 > 0 else 0.0
            t = min(1.0, max(0.0, t))
            ex, ey = px - t * dx, py - t * dy
            if ex * ex + ey * ey > tol2:
                return True
    return False


@numba.njit(cache=True)
def _band(x, y, tol, final, max_run):
    n = x.shape[0]
    out = np.empty(n, np.int64)
    out[0] = 0
    m = 1
    tol2 = tol * tol
    a = 0
    j = 1
    while j + 1 < n:
        c = j + 1
        if c - a > max_run or _off_chord(x, y, a, c, tol2):
            out[m] = j
            m += 1
            a = j
        j += 1
    if final and out[m - 1] != n - 1:
        out[m] = n - 1
        m += 1
    return out[:m].copy()


@numba.njit(cache=True)
def _deviation(x, y, index, xk, yk):
    worst = 0.0
    for m in range(index.shape[0] - 1):
        a, c = index[m], index[m + 1]
        ax, ay = xk[m], yk[m]
        dx, dy = xk[m + 1] - ax, yk[m + 1] - ay
        d2 = dx * dx + dy * dy
        for k in range(a, c + 1):
            px, py = x[k] - ax, y[k] - ay
            t = (px * dx + py * dy) / d2 if d2 > 0 else 0.0
            t = min(1.0, max(0.0, t))
            ex, ey = px - t * dx, py - t * dy
            worst = max(worst, math.sqrt(ex * ex + ey * ey))
    return worst


def max_deviation_mm(x_mm, y_mm, index, xk_mm, yk_mm) -> float:
    """The farthest (mm) any sample ``(x_mm[k], y_mm[k])`` lies from the chord of kept vertices
    ``(xk_mm, yk_mm)`` (at sample indices ``index``) that spans it."""
    return float(_deviation(np.asarray(x_mm, np.float64), np.asarray(y_mm, np.float64),
                            np.asarray(index, np.int64), np.asarray(xk_mm, np.float64),
                            np.asarray(yk_mm, np.float64)))


def radius_at_angles(x_mm, y_mm, centre_mm, angle_rad: np.ndarray) -> np.ndarray:
    """The radius (mm) of the path ``(x_mm, y_mm)`` (y down) at each angle of ``angle_rad``
    (counter-clockwise as seen, unwrapped, growing along the path), linear in angle between vertices.

    How a groove file's path is played: the kept vertices' radii, interpolated at the angles the
    samples were cut at.
    """
    cx, cy = centre_mm
    dx, dy = np.asarray(x_mm, np.float64) - cx, cy - np.asarray(y_mm, np.float64)
    theta = np.unwrap(np.arctan2(dy, dx))
    theta += 2 * math.pi * np.round((angle_rad[0] - theta[0]) / (2 * math.pi))
    return np.interp(angle_rad, theta, np.hypot(dx, dy))


def displacement_of_path(record, x_mm, y_mm, centre_mm, start_angle_deg: float) -> np.ndarray:
    """The modulation (m) of ``record``'s programme as the path ``(x_mm, y_mm)`` carries it: the
    path's radius at each programme sample's angle (:func:`radius_at_angles`) less the record's
    unmodulated track. Play it with ``record.playback(displacement)``."""
    a, b = record.program_start, record.program_end
    angles = math.radians(start_angle_deg) + (2 * math.pi / record.samples_per_rev) * np.arange(b)
    r_m = radius_at_angles(x_mm, y_mm, centre_mm, angles)[a:] * 1e-3
    track = record.radius_m[a:b] - record.displacement_m
    return r_m - track
