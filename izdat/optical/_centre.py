"""Find the spiral in a picture: its centre (not the burnt hole's, not the image's), which way the
groove turns, where it starts, and how wide it is.

1. Coarse: the groove band is the only place with fine texture; the centroid of a map of local
   contrast (blocks of about 0.3 mm) is within a few millimetres of the centre.
2. Fine: radial profiles along many rays around the guess. Between neighbouring rays the grooves
   shift by a fraction of the pitch (the spiral) plus the projection of the centring error; the
   shifts summed round the circle are a first harmonic whose coefficients are the centre's offset,
   and whose mean is the pitch, with the sign of the groove's direction. Repeated until it settles.
3. Start: along every ray the outermost groove; going the groove's way round, that radius falls
   slowly except at one angle, where it jumps out by a pitch or more: where the groove begins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, signal

from izdat.errors import PictureError
from izdat.optical import _profiles

__all__ = ["SpiralGuess", "find_spiral"]


@dataclass(frozen=True)
class SpiralGuess:
    centre_px: tuple
    direction: int            # +1: the groove's angle grows counter-clockwise, −1 clockwise
    start_angle: float        # rad
    start_radius_px: float
    width_px: float
    pitch_px: float
    inner_radius_px: float
    light: bool = True        # the groove shows lighter than the film
    look: str = ""            # what the groove looks like across (izdat.optical._look's finder says)
    profile: np.ndarray = None    # its mean cross-section over one pitch (grey levels), where known


def find_spiral(img: np.ndarray, px_per_m: float, *, light: bool = True) -> SpiralGuess:
    """Locate the spiral in ``img`` (uint8); raises :class:`PictureError` if there is none."""
    h, w = img.shape
    cx, cy = _coarse_centre(img, px_per_m)
    n_ang = 720
    pitch = direction = prof = None
    for it in range(4):
        prof = None                     # the last round's profiles go before this round's are taken
        r0, r1 = _band_limits(img, cx, cy, px_per_m, light)
        angles = np.arange(n_ang) * 2 * math.pi / n_ang
        step = 0.5
        n = int((r1 - r0) / step)
        max_shift = int(0.45 * 0.6e-3 * px_per_m / step) + 2
        if n < 4 * max_shift + 16:
            raise PictureError(f"the picture holds no readable groove: at {px_per_m * 0.0254:.0f} DPI it is only "
                               f"{w / px_per_m * 1e3:.0f} × {h / px_per_m * 1e3:.0f} mm, too small to hold a record")
        prof = _highpass(_profiles.polar_profiles(img, cx, cy, angles, r0, step, n, light),
                         max(3, int(0.6e-3 * px_per_m / step)))
        shifts, quality = _neighbour_shifts(prof, max_shift=max_shift)
        shifts *= step
        total = shifts.sum()
        cum = np.cumsum(shifts) - total * np.arange(1, n_ang + 1) / n_ang
        # seen from a guess e short of the centre, radii read r(θ) + e·u(θ): the cumulative shift's
        # first harmonic is e·u(θ)
        ex = 2 * np.mean(cum * np.cos(angles + angles[1]))
        ey = 2 * np.mean(cum * np.sin(angles + angles[1]))   # x right, y up
        cx, cy = cx + ex, cy - ey
        pitch = abs(total)
        direction = 1 if total < 0 else -1
        if math.hypot(ex, ey) < 0.05 and it >= 1:
            break
    if quality < 0.2 or pitch < 1.0:
        raise PictureError("the picture holds no readable groove: no spiral of fine lines was found in it")
    width = _groove_width(prof, step)
    if width < 1.2:
        raise PictureError(f"the groove is only {width:.1f} pixels wide at this resolution: scan at a higher DPI "
                           f"to see its modulation")
    start_angle, start_r, inner_r = _start(img, cx, cy, direction, r0, r1, width, light, 3.2e-3 * px_per_m)
    return SpiralGuess((cx, cy), direction, start_angle, start_r, width, pitch, inner_r)


def _coarse_centre(img, px_per_m):
    b = max(2, int(0.3e-3 * px_per_m))
    energy = ndimage.median_filter(_profiles.block_texture(img, b), 3)
    thr = np.percentile(energy, 75)
    mask = energy > thr
    lab, n = ndimage.label(mask)
    if n == 0:
        raise PictureError("the picture holds no readable groove: it has no fine texture at all")
    sizes = ndimage.sum(mask, lab, range(1, n + 1))
    keep = np.isin(lab, 1 + np.flatnonzero(sizes >= 0.2 * sizes.max()))
    yy, xx = np.nonzero(keep)
    return (xx.mean() + 0.5) * b - 0.5, (yy.mean() + 0.5) * b - 0.5


def _band_limits(img, cx, cy, px_per_m, light):
    """Radii (px) between which rays from (cx, cy) stay inside the picture and cross grooves."""
    h, w = img.shape
    r_edge = min(cx, cy, w - 1 - cx, h - 1 - cy)
    r_far = max(math.hypot(cx, cy), math.hypot(w - cx, cy), math.hypot(cx, h - cy), math.hypot(w - cx, h - cy))
    r0 = 8e-3 * px_per_m                          # clear of the spindle hole
    r1 = max(r0 + 10, min(r_far, r_edge if r_edge > 0.3 * r_far else r_far))
    return r0, r1


def _highpass(prof, k):
    """Profiles (float32) less their running mean over 2k+1 samples, in place; zero near the
    picture's edge."""
    for a in range(0, len(prof), 32):    # a few rays at a time: no second copy of the profiles
        rows = prof[a:a + 32]
        outside = ndimage.maximum_filter1d((rows < 0).view(np.uint8), 2 * k + 3, axis=1).view(bool)
        rows -= ndimage.uniform_filter1d(rows, 2 * k + 1, axis=1)
        rows[outside] = 0
    return prof


def _neighbour_shifts(prof, max_shift):
    """Shift (in samples, sub-sample) of each profile against the next one round the circle."""
    n_ang, n = prof.shape
    shifts = np.zeros(n_ang)
    qual = []
    lags = np.arange(-max_shift, max_shift + 1)
    for a in range(n_ang):
        p, q = prof[a].astype(np.float64), prof[(a + 1) % n_ang].astype(np.float64)
        c = np.array([np.dot(p[max_shift:n - max_shift], q[max_shift + L:n - max_shift + L]) for L in lags])
        k = int(np.argmax(c))
        if 0 < k < len(c) - 1:
            den = c[k - 1] - 2 * c[k] + c[k + 1]
            frac = 0.5 * (c[k - 1] - c[k + 1]) / den if den != 0 else 0.0
        else:
            frac = 0.0
        shifts[a] = lags[k] + frac
        norm = math.sqrt(np.dot(p, p) * np.dot(q, q)) or 1.0
        qual.append(c[k] / norm)
    return shifts, float(np.median(qual))


def _groove_width(prof, step):
    """Typical groove width (px): the width at half height of the profiles' peaks."""
    widths = []
    for p in prof[:: max(1, len(prof) // 64)]:
        peaks, _ = signal.find_peaks(p, prominence=0.5 * np.percentile(np.abs(p), 95))
        if len(peaks):
            wds = signal.peak_widths(p, peaks, rel_height=0.5)[0]
            widths.extend(wds)
    if not widths:
        return 0.0
    return float(np.median(widths)) * step


def _start(img, cx, cy, direction, r0, r1, width, light, max_gap):
    """Angle (rad) and radius (px) where the groove begins, and the innermost groove radius."""
    n_ang = 1440
    angles = direction * np.arange(n_ang) * 2 * math.pi / n_ang
    step = 0.5
    n = int((r1 - r0) / step)
    outer = np.full(n_ang, np.nan)
    inner = np.full(n_ang, np.nan)
    for a in range(n_ang):
        if a % 32 == 0:                 # the profiles a few rays at a time: a ray is the picture's size
            hp = _highpass(_profiles.polar_profiles(img, cx, cy, angles[a:a + 32], r0, step, n, light),
                           max(3, int(1.2 * width / step)))
        p = hp[a % 32].astype(np.float64)
        peaks, props = signal.find_peaks(p, prominence=1.0, width=(0.4 * width / step, 1.4 * width / step))
        if len(peaks) < 3:
            continue
        prom = props["prominences"]
        big = prom[prom > 0.3 * prom.max()]
        strong = peaks[prom > 0.4 * np.median(big)]
        if len(strong) < 2:
            continue
        # a groove has another turn within a lead-in's pitch inside it; the disc's rim does not
        gaps = np.diff(strong) * step
        near = np.flatnonzero(gaps <= max_gap)
        if len(near):
            outer[a] = r0 + strong[near[-1] + 1] * step
            inner[a] = r0 + strong[near[0]] * step
    ok = np.isfinite(outer)
    if ok.mean() < 0.5:
        raise PictureError("the picture holds no readable groove: its lines do not form a spiral")
    outer = np.interp(np.arange(n_ang), np.flatnonzero(ok), outer[ok], period=n_ang)
    outer = ndimage.median_filter(outer, 9, mode="wrap")      # a speck or a scratch moves a few rays only
    jump = outer - np.roll(outer, 1)              # going the groove's way round
    a0 = int(np.argmax(jump))
    return float(angles[a0]), float(np.median(outer[a0:a0 + 5])), float(np.nanmedian(inner))
