"""The makers' three looks (tests/makers: pictures izdat's renderer did not draw) and how far the
reader's stages get on them (issue 14, item 1; the table in docs/optical.md).

2 s of speech cut by each maker at 1200 DPI. For each look: what ``find_spiral`` guesses, and the
SI-SNR (60 Hz–5 kHz) of the radial displacement against the cut's when the fine stage's band model
is told the true spiral (dark groove), then after a centroid refine (±8 px, weights the squared
departure from the local level). Prints the table; writes nothing.

    python bench/optical_looks.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage, signal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._report import table  # noqa: E402
from izdat.optical import _fine  # noqa: E402
from izdat.optical._centre import find_spiral  # noqa: E402
from izdat.optical._read import CUT_RATE_HZ  # noqa: E402
from tests import makers  # noqa: E402
from tests.makers import flatbed, hairline, transmission  # noqa: E402


def si_snr_of_track(radius_px, cut, x, fs):
    """SI-SNR (dB, 60 Hz–5 kHz) of the track's displacement (its straight run taken off) against ``x``."""
    t = np.arange(len(radius_px))
    r = radius_px.astype(np.float64)
    d = r - np.polyval(np.polyfit(t, r, 1), t)
    y = np.interp(np.arange(len(x)) / fs * CUT_RATE_HZ, t, d)
    sos = signal.butter(4, [60, 5000], "bandpass", fs=fs, output="sos")
    y, x = signal.sosfiltfilt(sos, y), signal.sosfiltfilt(sos, x)
    a = (y @ x) / (x @ x)
    return 10 * np.log10(a * a * (x @ x) / ((y - a * x) @ (y - a * x)))


def centroid_refine(img, cx, cy, theta0, N, radius_px, half_px=8.0, iterations=3):
    """Each sample moved to the centroid of its radial profile's squared departure from the level
    of its profile's ends (median over 257 samples), ``iterations`` times."""
    phi = theta0 + 2 * np.pi * np.arange(len(radius_px)) / N
    c, s = np.cos(phi), np.sin(phi)
    offs = np.arange(-half_px, half_px + 1e-9, 0.5)
    taper = np.hanning(len(offs) + 2)[1:-1]
    r = radius_px.astype(np.float64).copy()
    for _ in range(iterations):
        rr = r[:, None] + offs[None, :]
        v = ndimage.map_coordinates(img.astype(np.float32), [cy - rr * s[:, None], cx + rr * c[:, None]], order=1)
        level = ndimage.median_filter(np.concatenate([v[:, :3], v[:, -3:]], 1).mean(1), 257)
        w = (v - level[:, None]) ** 2 * taper
        r += (w * offs).sum(1) / np.maximum(w.sum(1), 1e-9)
    return r


def main():
    x, fs = makers.speech(2.0)
    cut = makers.Cut(x, fs)
    ppm = cut.px_per_m
    N = int(round(CUT_RATE_HZ * 60 / cut.rpm))
    n = int(cut.seconds * cut.rpm / 60 * N)
    cx, cy = cut.centre_px
    theta0 = math.radians(cut.start_deg)
    pitch = cut.pitch_mm * 1e-3 * ppm
    rows = []
    for look, width_um in ((hairline, 50.0), (flatbed, 120.0), (transmission, 120.0)):
        img = np.rint(look.picture(cut) * 255).astype(np.uint8)
        g = find_spiral(img, ppm, light=False)
        finder = f"centre {math.dist(g.centre_px, cut.centre_px):.1f} px off, pitch {100 * (g.pitch_px / pitch - 1):+.0f} %"
        track = _fine.follow(img, cx, cy, theta0, 1.0, N, cut.outer_mm * 1e-3 * ppm, width_um * 1e-6 * ppm, 10.0,
                             n_samples=n, light=False)
        band = si_snr_of_track(track.radius, cut, x, fs)
        cent = si_snr_of_track(centroid_refine(img, cx, cy, theta0, N, track.radius), cut, x, fs)
        rows.append([look.__name__.split(".")[-1], finder, f"{band:.1f}", f"{cent:.1f}"])
    print(table(["look (2 s speech, 1200 DPI)", "find_spiral", "band model, true spiral (dB)",
                 "+ centroid (dB)"], rows))


if __name__ == "__main__":
    main()
