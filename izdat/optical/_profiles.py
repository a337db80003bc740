"""Numba engines shared by the optical reader: bilinear sampling of uint8 pixels and radial profiles.

Coordinates: pixel centres at integer (x, y), x right, y down; angles counter-clockwise as seen in
the picture, so a point at radius r and angle θ about (cx, cy) is (cx + r·cos θ, cy − r·sin θ).
"""

from __future__ import annotations

import math

import numba
import numpy as np

@numba.njit(cache=True, inline="always")
def unit(img):
    """Grey levels of ``img`` per step of its pixels: 1 for 8-bit pictures, 255/65535 for 16-bit
    ones (the reader works on the 0–255 scale)."""
    return 1.0 if img.itemsize == 1 else 255.0 / 65535.0


@numba.njit(cache=True, inline="always")
def bilinear(img, x, y):
    """Grey level (0–255, whatever the picture's depth) at (x, y); −1 outside the picture."""
    h, w = img.shape
    if x < 0.0 or y < 0.0 or x >= w - 1 or y >= h - 1:
        return -1.0
    ix = int(x)
    iy = int(y)
    ax = x - ix
    ay = y - iy
    top = img[iy, ix] * (1.0 - ax) + img[iy, ix + 1] * ax
    bot = img[iy + 1, ix] * (1.0 - ax) + img[iy + 1, ix + 1] * ax
    return (top * (1.0 - ay) + bot * ay) * unit(img)


@numba.njit(cache=True, parallel=True)
def polar_profiles(img, cx, cy, angles, r0, step, n, light):
    """Radial profiles: ``out[a, k]`` is the grey level at radius ``r0 + k·step`` px along
    ``angles[a]`` (groove made bright if ``light`` is False: 255 − v); −1 outside the picture."""
    out = np.empty((angles.shape[0], n), np.float32)
    for a in numba.prange(angles.shape[0]):
        c = math.cos(angles[a])
        s = math.sin(angles[a])
        for k in range(n):
            r = r0 + k * step
            v = bilinear(img, cx + r * c, cy - r * s)
            if v >= 0.0 and not light:
                v = 255.0 - v
            out[a, k] = v
    return out


@numba.njit(cache=True, parallel=True)
def block_texture(img, b):
    """Mean absolute step between horizontal neighbours within each ``b`` × ``b`` block (grey levels
    of the picture's own depth): where a picture has fine lines. Whole steps are summed exactly."""
    hb, wb = img.shape[0] // b, img.shape[1] // b
    out = np.empty((hb, wb), np.float32)
    for by in numba.prange(hb):
        for bx in range(wb):
            total = 0
            for y in range(by * b, by * b + b):
                for x in range(bx * b, bx * b + b - 1):
                    total += abs(np.int64(img[y, x + 1]) - np.int64(img[y, x]))
            out[by, bx] = np.float32(total) / np.float32(b * (b - 1))
    return out
