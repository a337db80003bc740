"""The issue's reference reader: a plain centroid reader that is *told* the track (centre, start
angle, direction, pitch, rpm, DPI) and so cannot fail to find it; what it gets is what the picture
holds for the simplest estimator.

At each groove sample (about one pixel apart along the groove) it samples the picture along the
radius (bilinear, points ``step_px`` apart over ±0.45 pitch about the unmodulated spiral), takes the
deviation from the window's median, less three times the picture's noise (σ from the median
difference between neighbouring samples), as weight (so a light band, a dark one, dark walls with a
bright bottom and an asymmetric pair all weigh their middle, and the film's noise weighs nothing)
and returns the weighted mean radius. No
smoothing, no model of the look."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage, signal

FLOOR = 1.0


def read(pixels: np.ndarray, *, centre_px, start_deg: float, direction: str, pitch_mm: float, outer_mm: float,
         rpm: float, dpi: float, seconds: float, sample_rate: int = 22050, step_px: float = 0.25,
         block: int = 65536) -> np.ndarray:
    """Displacement (m, outward positive, high-passed at 20 Hz) of the told track, at ``sample_rate``."""
    img = np.asarray(pixels, np.float32)
    px_per_m = dpi / 25.4e-3
    rev_s = rpm / 60
    per_rev = int(2 ** math.ceil(math.log2(2 * math.pi * outer_mm * 1e-3 * px_per_m)))   # ≥ 1 a pixel
    fs = per_rev * rev_s
    n = int(seconds * fs)
    s = 1.0 if direction == "counterclockwise" else -1.0
    lines = int(math.ceil(0.9 * pitch_mm * 1e-3 * px_per_m / step_px)) + 1
    offs = np.linspace(-0.45, 0.45, lines) * pitch_mm * 1e-3
    out = np.empty(n)
    cx, cy = centre_px
    for a in range(0, n, block):
        i = np.arange(a, min(n, a + block))
        turn = i / per_rev
        th = math.radians(start_deg) + s * 2 * np.pi * turn
        base = outer_mm * 1e-3 - pitch_mm * 1e-3 * turn
        r = base[:, None] + offs[None, :]
        x = cx + r * px_per_m * np.cos(th)[:, None]
        y = cy - r * px_per_m * np.sin(th)[:, None]
        v = ndimage.map_coordinates(img, [y.ravel(), x.ravel()], order=1, mode="nearest").reshape(r.shape)
        dev = np.abs(v - np.median(v, axis=1, keepdims=True))
        floor = 3 * 1.4826 * np.median(np.abs(np.diff(v, axis=0))) / math.sqrt(2)   # 3 σ of the noise
        w = np.maximum(dev - floor * FLOOR, 0.0)
        out[i] = (w * offs[None, :]).sum(1) / np.maximum(w.sum(1), 1e-12)
    y = signal.resample_poly(out, sample_rate, int(round(fs))) if abs(fs - round(fs)) < 1e-9 else \
        np.interp(np.arange(int(seconds * sample_rate)) / sample_rate, np.arange(n) / fs, out)
    return signal.sosfiltfilt(signal.butter(2, 20.0, "highpass", fs=sample_rate, output="sos"), y)


def read_cut(pixels, cut, **kw) -> np.ndarray:
    """:func:`read` told the track of a :class:`makers.Cut`."""
    return read(pixels, centre_px=cut.centre_px, start_deg=cut.start_deg, direction=cut.direction,
                pitch_mm=cut.pitch_mm, outer_mm=cut.outer_mm, rpm=cut.rpm, dpi=cut.dpi, seconds=cut.seconds,
                sample_rate=int(cut.sample_rate), **kw)
