"""Radiograph backdrops for bone records: procedural X-rays and X-ray files.

Bone records were cut into discarded hospital film, so every record carries someone's skull, hand
or chest. This module makes that film, as a float32 square array in [0, 1] where 1 is bone (bright,
as film looks on a lightbox) and 0 is bare film where no tissue stopped the beam (dark).

Procedural films are built the way a radiograph forms. Each anatomical part is a solid (a tube, an
ellipsoid, a bent rib) whose *projected thickness* along the beam is computed in closed form on the
pixel grid; thicknesses of overlapping parts add, then the film is exposed as
``1 - exp(-(mu_soft * soft + mu_bone * bone))``. Hollow bones are nested solids of different
density, so a phalanx or rib shows the bright cortical rim of a real one.

Coordinates inside the module are *film units*: x to the right and y downwards, both running from
-1 to 1 across the film, so one film unit is half the film's width whatever its size in pixels.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from izdat.errors import PictureError
from izdat.files import not_a_file

__all__ = ["KINDS", "radiograph", "load_radiograph"]

MIN_SIZE_PX = 16
MAX_SIZE_PX = 8192
MAX_PIXELS = 300_000_000
"""Largest X-ray file accepted, in pixels: bigger ones are refused as possible decompression bombs."""

_Point = tuple[float, float]


# --------------------------------------------------------------------------------------------
# The film: thickness accumulators and the solids that project onto it
# --------------------------------------------------------------------------------------------


class _Film:
    """Projected thickness of soft tissue and bone, in film units, on an ``n`` x ``n`` grid.

    ``soft`` is water-like tissue (negative where air replaces it, as in the lungs); ``bone`` is
    density-weighted bone thickness. Each solid writes only inside its bounding box.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.pixel = 2.0 / n
        self.soft = np.zeros((n, n), np.float32)
        self.bone = np.zeros((n, n), np.float32)

    def window(self, x0: float, x1: float, y0: float, y1: float):
        """Pixel slices and open-grid coordinates of the box ``[x0, x1] x [y0, y1]``, or None."""
        n, px = self.n, self.pixel
        c0 = max(int(math.floor((x0 + 1.0) / px - 0.5)), 0)
        c1 = min(int(math.ceil((x1 + 1.0) / px - 0.5)) + 1, n)
        r0 = max(int(math.floor((y0 + 1.0) / px - 0.5)), 0)
        r1 = min(int(math.ceil((y1 + 1.0) / px - 0.5)) + 1, n)
        if c0 >= c1 or r0 >= r1:
            return None
        xs = (-1.0 + (np.arange(c0, c1, dtype=np.float32) + 0.5) * px)[None, :]
        ys = (-1.0 + (np.arange(r0, r1, dtype=np.float32) + 0.5) * px)[:, None]
        return (slice(r0, r1), slice(c0, c1)), xs.astype(np.float32), ys.astype(np.float32)

    def layer(self, name: str) -> np.ndarray:
        return self.bone if name == "bone" else self.soft


def _chord(radius, dist2):
    """Length of a chord through a circle of ``radius`` at squared distance ``dist2`` from its centre."""
    return 2.0 * np.sqrt(np.maximum(radius * radius - dist2, 0.0))


def _nested(radius, dist2, layers: Sequence[tuple[float, float]]):
    """Projected density of nested round shells.

    ``layers`` lists ``(radius fraction, density)`` from the outside in: density ``d_i`` fills the
    shell between fraction ``s_i`` and the next one. The projection telescopes to
    ``sum_i (d_i - d_{i-1}) * chord(s_i * radius)``.
    """
    total = 0.0
    previous = 0.0
    for fraction, density in layers:
        total = total + (density - previous) * _chord(radius * fraction, dist2)
        previous = density
    return total


def _cortical(cortex: float = 0.3, marrow: float = 0.35, density: float = 1.0):
    """Layers of a long bone: a dense cortex ``cortex`` of the radius thick around lighter marrow."""
    return ((1.0, density), (1.0 - cortex, density * marrow))


def _tube(film: _Film, points: Sequence[_Point], radii: Sequence[float], layers, *, layer="bone",
          combine: Callable = np.add) -> None:
    """A bent, tapered tube (sphere swept along a polyline) such as a phalanx or clavicle.

    Parameters
    ----------
    points : sequence of (x, y)
        Axis of the tube in film units.
    radii : sequence of float
        Radius at each point, film units; linear in between.
    layers : sequence of (float, float)
        Nested shells, see `_nested`.
    """
    pts = np.asarray(points, np.float32)
    rad = np.asarray(radii, np.float32)
    reach = float(rad.max())
    box = film.window(pts[:, 0].min() - reach, pts[:, 0].max() + reach,
                      pts[:, 1].min() - reach, pts[:, 1].max() + reach)
    if box is None:
        return
    where, xs, ys = box
    shape = (ys.shape[0], xs.shape[1])
    best_gap = np.full(shape, np.inf, np.float32)
    best_d2 = np.zeros(shape, np.float32)
    best_r = np.zeros(shape, np.float32)
    col0, row0 = where[1].start, where[0].start
    for (ax, ay), (bx, by), ra, rb in zip(pts[:-1], pts[1:], rad[:-1], rad[1:]):
        # Work only near this segment: its own box inside the tube's box.
        reach = max(ra, rb)
        near = film.window(min(ax, bx) - reach, max(ax, bx) + reach, min(ay, by) - reach,
                           max(ay, by) + reach)
        if near is None:
            continue
        part = (slice(near[0][0].start - row0, near[0][0].stop - row0),
                slice(near[0][1].start - col0, near[0][1].stop - col0))
        sx, sy = near[1], near[2]
        dx, dy = bx - ax, by - ay
        t = np.clip(((sx - ax) * dx + (sy - ay) * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
        d2 = (sx - ax - t * dx) ** 2 + (sy - ay - t * dy) ** 2
        r = ra + t * (rb - ra)
        gap = np.sqrt(d2) - r
        closer = gap < best_gap[part]
        best_gap[part] = np.where(closer, gap, best_gap[part])
        best_d2[part] = np.where(closer, d2, best_d2[part])
        best_r[part] = np.where(closer, r, best_r[part])
    target = film.layer(layer)
    target[where] = combine(target[where], _nested(best_r, best_d2, layers))


def _ellipsoid(film: _Film, centre: _Point, a: float, b: float, depth: float, layers, *,
               angle: float = 0.0, power: float = 2.0, layer="bone", combine: Callable = np.add) -> None:
    """An ellipsoid (or a boxier super-ellipsoid) seen along its depth axis.

    Parameters
    ----------
    centre : (x, y)
        Centre in film units.
    a, b : float
        Half-width and half-height of the outline, film units, before rotation by ``angle``.
    depth : float
        Half-depth along the beam, film units.
    layers : sequence of (float, float)
        Nested shells, see `_nested`.
    angle : float
        Rotation of the outline, radians, clockwise on the film.
    power : float
        Outline exponent: 2 is an ellipse, 4 a rounded box (vertebral bodies, teeth).
    """
    cx, cy = centre
    reach = max(a, b) * (1.0 if power == 2.0 else 1.42)
    box = film.window(cx - reach, cx + reach, cy - reach, cy + reach)
    if box is None:
        return
    where, xs, ys = box
    cos, sin = math.cos(angle), math.sin(angle)
    u = ((xs - cx) * cos + (ys - cy) * sin) / a
    v = (-(xs - cx) * sin + (ys - cy) * cos) / b
    if power == 2.0:
        q = u * u + v * v
    else:
        q = (np.abs(u) ** power + np.abs(v) ** power) ** (2.0 / power)
    target = film.layer(layer)
    target[where] = combine(target[where], depth * _nested(1.0, q, layers))


def _rib(film: _Film, spine_x: float, top_y: float, width: float, drop: float, side: int,
         radius: float, *, reach: float = 0.64, density: float = 1.0) -> None:
    """One rib of a PA chest film: half an ellipse from the spine round the flank and back in front.

    A rib is a hoop round the thorax tilted so its front end is lower; seen from the front, its
    back part leaves the spine level, curves down along the flank, and its front part runs down
    and in until it turns into (invisible) cartilage. That projection is the left or right half of
    an ellipse whose top touches the spine.

    Parameters
    ----------
    spine_x, top_y : float
        Where the rib leaves the spine, film units.
    width, drop : float
        Half-width of the rib's ellipse and half of the fall from the back end to the front end.
    side : {-1, 1}
        Patient's right (-1, film left) or left (+1, film right).
    radius : float
        Rib radius at its back end, film units; it thins to 60 % at the front.
    reach : float
        How far round the hoop the bony rib goes, as a fraction of half a turn.
    """
    cy = top_y + drop
    x0 = spine_x if side > 0 else spine_x - width - radius
    x1 = spine_x + width + radius if side > 0 else spine_x
    lowest = cy - drop * math.cos(math.pi * min(reach, 1.0))
    box = film.window(x0 - radius, x1 + radius, top_y - 2 * radius, lowest + 2 * radius)
    if box is None:
        return
    where, xs, ys = box
    u = (xs - spine_x) * side / width
    v = (ys - cy) / drop
    f = u * u + v * v - 1.0
    grad = 2.0 * np.sqrt((u / width) ** 2 + (v / drop) ** 2) + 1e-6
    d2 = (f / grad) ** 2
    turn = np.arctan2(u, -v) / math.pi  # 0 at the spine, 0.5 at the flank, 1 at the front
    fade = np.clip((turn - 0.03) / 0.05, 0.0, 1.0) * np.clip((reach - turn) / 0.08, 0.0, 1.0)
    fade = fade * (u > -0.05)
    r = radius * (1.0 - 0.4 * np.clip(turn, 0.0, 1.0))
    front = 1.0 - 0.65 * np.clip((turn - 0.35) / 0.15, 0.0, 1.0)
    film.bone[where] += fade * front * _nested(r, d2, _cortical(0.32, 0.3, density))


def _suture(film: _Film, points: Sequence[_Point], rng: np.random.Generator, *, width: float,
            depth: float) -> None:
    """A zig-zag skull suture: a thin line of missing bone wiggling along a polyline."""
    pts = np.asarray(points, np.float64)
    fine = []
    for a, b in zip(pts[:-1], pts[1:]):
        steps = max(int(np.hypot(*(b - a)) / 0.012), 2)
        t = np.linspace(0.0, 1.0, steps, endpoint=False)[:, None]
        normal = np.array([-(b - a)[1], (b - a)[0]]) / max(np.hypot(*(b - a)), 1e-9)
        wiggle = rng.uniform(-1.0, 1.0, (steps, 1)) * 0.008
        fine.append(a + t * (b - a) + wiggle * normal)
    fine.append(pts[-1:])
    line = np.concatenate(fine)
    _tube(film, line, [width] * len(line), ((1.0, -depth),))


# --------------------------------------------------------------------------------------------
# Anatomy
# --------------------------------------------------------------------------------------------


def _hand(film: _Film, rng: np.random.Generator) -> tuple[float, float]:
    """PA film of a left hand, fingers up: forearm, carpals, metacarpals, phalanges, soft tissue."""
    tilt = rng.normal(0.0, 0.05)
    scale = 1.2 * (1.0 + rng.normal(0.0, 0.03))
    spread = 1.0 + rng.normal(0.0, 0.15)
    cos, sin = math.cos(tilt), math.sin(tilt)

    def place(x: float, y: float) -> _Point:
        x, y = x * scale, (y - 0.1) * scale
        return (x * cos - y * sin - 0.03, x * sin + y * cos + 0.12)

    def along(p: _Point, angle: float, length: float) -> _Point:
        return (p[0] + length * math.sin(angle), p[1] - length * math.cos(angle))

    skin = ((1.0, 1.0),)
    # Forearm and palm soft tissue (merged with max: one body, not overlapping parts).
    _tube(film, [place(0.03, 1.4), place(0.03, 0.55)], [0.25 * scale, 0.23 * scale], ((1.0, 0.5),),
          layer="soft", combine=np.maximum)
    _ellipsoid(film, place(0.02, 0.22), 0.31 * scale, 0.31 * scale, 0.1, skin, power=2.6,
               layer="soft", combine=np.maximum)
    # Radius (thumb side) and ulna, with the flared distal ends.
    _tube(film, [place(0.14, 1.4), place(0.13, 0.85), place(0.12, 0.62)],
          [0.055 * scale, 0.06 * scale, 0.095 * scale], _cortical(0.25, 0.35, 0.6))
    _tube(film, [place(-0.15, 1.4), place(-0.14, 0.85), place(-0.13, 0.63)],
          [0.045 * scale, 0.047 * scale, 0.06 * scale], _cortical(0.25, 0.35, 0.6))
    _ellipsoid(film, place(-0.155, 0.585), 0.02 * scale, 0.03 * scale, 0.02, _cortical(0.3, 0.5))
    # Carpals: proximal row (scaphoid, lunate, triquetrum, pisiform) and distal row.
    carpals = [(0.14, 0.5, 0.075, 0.05, 0.5), (0.02, 0.52, 0.06, 0.05, 0.0),
               (-0.1, 0.5, 0.055, 0.045, -0.3), (-0.15, 0.45, 0.035, 0.035, 0.0),
               (0.2, 0.38, 0.055, 0.05, 0.4), (0.11, 0.37, 0.045, 0.04, 0.2),
               (0.01, 0.38, 0.055, 0.075, 0.0), (-0.1, 0.38, 0.06, 0.065, -0.2)]
    for x, y, a, b, angle in carpals:
        _ellipsoid(film, place(x, y), a * scale * 1.1, b * scale * 1.1, 0.045, _cortical(0.2, 0.45),
                   angle=angle + tilt, power=2.6)
    # Fingers: metacarpal base, metacarpal head, phalanx lengths and bone radius.
    fingers = [((0.16, 0.33), (0.21, 0.0), (0.21, 0.13, 0.09), 1.0),       # index
               ((0.03, 0.32), (0.05, -0.05), (0.24, 0.15, 0.095), 1.05),   # middle
               ((-0.08, 0.33), (-0.1, -0.02), (0.22, 0.14, 0.09), 0.97),   # ring
               ((-0.17, 0.36), (-0.23, 0.07), (0.17, 0.1, 0.08), 0.85)]    # little
    for (base, head, lengths, girth), fan in zip(fingers, (-0.06, 0.0, 0.08, 0.18)):
        angle = math.atan2(head[0] - base[0], base[1] - head[1]) + fan * spread * 0.6
        _digit(film, place(*base), place(*head), lengths, girth * scale, angle + tilt, scale)
    # Thumb: metacarpal from the trapezium, two phalanges, and a sesamoid at its head.
    thumb_angle = 0.75 + rng.normal(0.0, 0.06) + tilt
    _digit(film, place(0.25, 0.34), place(0.4, 0.1), (0.17, 0.0, 0.12), 1.1 * scale, thumb_angle,
           scale)
    _ellipsoid(film, place(0.37, 0.08), 0.018 * scale, 0.015 * scale, 0.015, _cortical(0.3, 0.5))
    _ellipsoid(film, place(0.27, 0.22), 0.12 * scale, 0.16 * scale, 0.09, skin, angle=0.6 + tilt,
               layer="soft", combine=np.maximum)
    return 2.2, 20.0


def _digit(film: _Film, base: _Point, head: _Point, lengths: tuple[float, float, float],
           girth: float, angle: float, scale: float) -> None:
    """A metacarpal from ``base`` to ``head`` and its phalanges pointing at ``angle`` (radians)."""
    gap = 0.014 * scale
    _metacarpal(film, base, head, girth)
    joint = head
    end = head
    for i, length in enumerate(lengths):
        if length <= 0.0:
            continue
        length *= scale
        start = (joint[0] + gap * math.sin(angle), joint[1] - gap * math.cos(angle))
        end = (start[0] + length * math.sin(angle), start[1] - length * math.cos(angle))
        _phalanx(film, start, end, girth * (0.029 - 0.005 * i), distal=(i == 2))
        joint = end
    tip = (end[0] + 0.03 * scale * math.sin(angle), end[1] - 0.03 * scale * math.cos(angle))
    _tube(film, [head, tip], [0.058 * girth, 0.05 * girth], ((1.0, 1.0),), layer="soft",
          combine=np.maximum)


def _metacarpal(film: _Film, base: _Point, head: _Point, girth: float) -> None:
    """A metacarpal: broad base, waisted shaft and a round head at the knuckle."""
    _long_bone(film, base, head, [0.034 * girth, 0.022 * girth, 0.03 * girth])


def _phalanx(film: _Film, start: _Point, end: _Point, radius: float, *, distal: bool) -> None:
    """A phalanx: flared base, waisted shaft, and a condylar head (a flat tuft if ``distal``)."""
    if distal:
        _long_bone(film, start, end, [radius * 1.0, radius * 0.55, radius * 0.75])
    else:
        _long_bone(film, start, end, [radius * 1.1, radius * 0.72, radius * 0.9])


def _long_bone(film: _Film, start: _Point, end: _Point, radii: Sequence[float]) -> None:
    """A small long bone between two joint surfaces: base, waist and head radii (film units).

    The tube's rounded ends are pulled inside ``start`` and ``end`` so a joint keeps its gap.
    """
    length = math.hypot(end[0] - start[0], end[1] - start[1])
    ux, uy = (end[0] - start[0]) / length, (end[1] - start[1]) / length
    base, waist, head = radii
    a = (start[0] + ux * base * 0.7, start[1] + uy * base * 0.7)
    b = (end[0] - ux * head * 0.7, end[1] - uy * head * 0.7)
    mid = (a[0] * 0.45 + b[0] * 0.55, a[1] * 0.45 + b[1] * 0.55)
    _tube(film, [a, mid, b], radii, _cortical(0.38, 0.3))


def _chest(film: _Film, rng: np.random.Generator) -> tuple[float, float]:
    """PA chest film: ribs, clavicles, spine, lungs with vessels, heart, diaphragm domes."""
    shift = rng.normal(0.0, 0.015)
    breath = 1.0 + rng.normal(0.0, 0.03)
    heart_size = 1.0 + rng.normal(0.0, 0.05)
    _thorax(film, shift)
    air = _lungs(film, shift, breath, heart_size)
    _tube(film, [(shift, -1.1), (shift, -0.45), (shift + 0.02, -0.2)], [0.035, 0.035, 0.03],
          ((1.0, -0.6),), layer="soft")  # trachea
    _vessels(film, rng, air, shift)
    _spine(film, shift, top=-1.05, bottom=0.95, count=14, width=0.085, density=0.08)
    for side in (-1, 1):
        for k in range(10):
            top = -0.74 + 0.115 * k * breath + rng.normal(0.0, 0.005)
            width = min(0.3 + 0.16 * k, 0.82) * (1.0 + rng.normal(0.0, 0.02))
            drop = 0.17 + 0.012 * k
            _rib(film, shift + side * 0.05, top, width, drop, side, 0.022 + 0.001 * k,
                 reach=0.6 - 0.02 * k, density=0.85)
        clavicle = [(0.07, -0.64), (0.25, -0.68), (0.45, -0.69), (0.62, -0.79)]
        _tube(film, [(shift + side * px_, py) for px_, py in clavicle], [0.028, 0.025, 0.024, 0.03],
              _cortical(0.35, 0.35))
        _ellipsoid(film, (shift + side * 1.0, -0.68), 0.15, 0.16, 0.15, _cortical(0.12, 0.2, 0.4))
        _tube(film, [(shift + side * 1.0, -0.6), (shift + side * 1.03, 1.2)], [0.085, 0.08],
              _cortical(0.3, 0.2, 0.4))
        _tube(film, [(shift + side * 1.04, -0.7), (shift + side * 1.06, 1.3)], [0.17, 0.15],
              ((1.0, 1.0),), layer="soft", combine=np.maximum)
    return 2.6, 9.0


def _thorax(film: _Film, shift: float) -> None:
    """Soft tissue of the trunk: an elliptic cylinder narrowing over the shoulders to the neck."""
    where, x, y = film.window(-1.0, 1.0, -1.0, 1.0)
    x = x - shift
    shoulder = np.clip((y + 1.0) / 0.4, 0.0, 1.0) ** 0.7
    waist = np.clip((y - 0.5) / 0.5, 0.0, 1.0)
    half_width = 0.21 + 0.67 * shoulder - 0.06 * waist
    film.soft[where] += 0.5 * np.sqrt(np.maximum(1.0 - (x / half_width) ** 2, 0.0))


def _lungs(film: _Film, shift: float, breath: float, heart_size: float) -> np.ndarray:
    """Air in the lungs (and a gastric bubble), taken out of the soft tissue; returns the air.

    Each lung is half an ellipsoid of air cut flat at the mediastinum, carved by the heart and
    standing on its diaphragm dome (the right dome higher, over the liver).
    """
    air = np.zeros_like(film.soft)
    for side, dome_y in ((-1, 0.42 * breath), (1, 0.5 * breath)):
        cx = shift + side * 0.42
        box = film.window(cx - 0.4, cx + 0.4, -0.72 * breath, 0.72 * breath)
        if box is None:
            continue
        where, x, y = box
        u, v = (x - cx) / 0.4, y / (0.72 * breath)
        lung = np.sqrt(np.maximum(1.0 - u * u - v * v, 0.0))
        lung *= np.clip((y + 0.64) / 0.1, 0.0, 1.0)  # rounded apex
        dome = dome_y - 0.2 * np.maximum(1.0 - ((x - cx) / 0.45) ** 2, 0.0)
        lung *= np.clip((dome - y) / 0.03, 0.0, 1.0)
        lung *= np.clip(((x - shift) * side - 0.08) / 0.05, 0.0, 1.0)  # mediastinum
        air[where] += 0.42 * lung
    heart_a, heart_b = 0.38 * heart_size, 0.3 * heart_size
    hx0, hy0 = shift + 0.1, 0.27
    where, x, y = film.window(hx0 - 1.1 * heart_a, hx0 + 1.1 * heart_a, hy0 - 1.1 * heart_b,
                              hy0 + 1.1 * heart_b)
    heart = np.hypot((x - hx0) / heart_a, (y - hy0) / heart_b)
    air[where] *= np.clip((heart - 0.95) / 0.1, 0.0, 1.0)
    where, x, y = film.window(shift + 0.23, shift + 0.47, 0.6, 0.68)
    air[where] += 0.12 * np.sqrt(np.maximum(1.0 - ((x - shift - 0.35) / 0.12) ** 2
                                            - ((y - 0.62) / 0.06) ** 2, 0.0))
    film.soft -= air
    return air


def _vessels(film: _Film, rng: np.random.Generator, air: np.ndarray, shift: float) -> None:
    """Lung markings: branching pulmonary vessels fanning out from each hilum, seen only in air."""
    vessels = _Film(film.n)
    for side in (-1, 1):
        hilum = (shift + side * 0.16, 0.02)
        stack = [(hilum, side * a, 0.016, 0) for a in (0.9, 1.5, 2.3, 2.8)]
        while stack:
            start, angle, radius, level = stack.pop()
            length = 0.13 * 0.78 ** level * rng.uniform(0.7, 1.2)
            end = (start[0] + length * math.sin(angle), start[1] - length * math.cos(angle))
            _tube(vessels, [start, end], [radius, radius * 0.8], ((1.0, 1.0),), layer="soft",
                  combine=np.maximum)
            if level < 5:
                for turn in (-0.35, 0.35):
                    stack.append((end, angle + turn + rng.normal(0.0, 0.12), radius * 0.72,
                                  level + 1))
    where = film.window(-1.0, 1.0, -0.8, 0.8)[0]
    film.soft[where] += 3.0 * vessels.soft[where] * np.clip(air[where] / 0.15, 0.0, 1.0)


def _spine(film: _Film, shift: float, *, top: float, bottom: float, count: int, width: float,
           density: float) -> None:
    """Vertebral column seen from the front: boxy bodies, disc gaps, pedicle rings, spinous tips."""
    step = (bottom - top) / count
    for k in range(count):
        cy = top + (k + 0.5) * step
        grow = 1.0 + 0.35 * k / count
        body = (shift, cy)
        _ellipsoid(film, body, width * grow, step * 0.4, 0.12, _cortical(0.15, 0.4, density), power=4.0)
        for side in (-1, 1):
            _ellipsoid(film, (shift + side * width * grow * 0.75, cy - step * 0.1), 0.018 * grow,
                       0.026, 0.05, _cortical(0.4, 0.1, density * 1.5))
        _ellipsoid(film, (shift, cy + step * 0.3), 0.015, 0.03, 0.06, _cortical(0.4, 0.3, density))


def _skull(film: _Film, rng: np.random.Generator) -> tuple[float, float]:
    """PA skull film: vault with tables and sutures, orbits, nasal cavity, sinuses, jaws, teeth."""
    wide = 1.0 + rng.normal(0.0, 0.03)
    tall = 1.0 + rng.normal(0.0, 0.03)
    dx = rng.normal(0.0, 0.01)

    def at(x: float, y: float) -> _Point:
        return (dx + x * wide, y * tall)

    skin = ((1.0, 1.0),)
    # Scalp, face and neck soft tissue.
    _ellipsoid(film, at(0.0, -0.18), 0.7 * wide, 0.78 * tall, 0.7, skin, layer="soft",
               combine=np.maximum)
    _ellipsoid(film, at(0.0, 0.45), 0.52 * wide, 0.42 * tall, 0.55, skin, layer="soft",
               combine=np.maximum)
    _tube(film, [at(0.0, 0.7), at(0.0, 1.4)], [0.33, 0.36], skin, layer="soft", combine=np.maximum)
    # Cranial vault: outer table, diploe, inner table.
    vault = ((1.0, 1.0), (0.975, 0.45), (0.93, 1.0), (0.91, 0.0))
    _ellipsoid(film, at(0.0, -0.25), 0.64 * wide, 0.68 * tall, 0.7, vault)
    _suture(film, [at(0.0, -0.93), at(0.0, -0.55)], rng, width=0.005, depth=5.0)
    _suture(film, [at(0.0, -0.55), at(-0.3, -0.45), at(-0.6, -0.2)], rng, width=0.005, depth=4.0)
    _suture(film, [at(0.0, -0.55), at(0.3, -0.45), at(0.6, -0.2)], rng, width=0.005, depth=4.0)
    # Skull base and face: a denser block under the vault.
    _ellipsoid(film, at(0.0, 0.2), 0.52 * wide, 0.3 * tall, 0.5, ((1.0, 0.12),), power=3.0)
    for side in (-1, 1):  # frontal sinus, two lobes above the nose
        _ellipsoid(film, at(side * 0.045, -0.12), 0.05, 0.06, 0.05, ((1.0, -0.5),), angle=side * 0.4)
    for side in (-1, 1):
        # Orbits: a cavity with a bright rim; petrous ridge crossing the lower orbit.
        _ellipsoid(film, at(side * 0.24, 0.05), 0.15, 0.13, 0.2, ((1.0, -0.35),), power=3.0)
        _ring(film, at(side * 0.24, 0.05), 0.16 * wide, 0.14 * tall, 0.018, density=1.4)
        _tube(film, [at(side * 0.56, 0.13), at(side * 0.32, 0.1), at(side * 0.12, 0.16)],
              [0.03, 0.025, 0.015], ((1.0, 1.4),))
        # Maxillary sinus, zygoma, mastoid.
        _ellipsoid(film, at(side * 0.2, 0.32), 0.12, 0.1, 0.12, ((1.0, -0.3),))
        _tube(film, [at(side * 0.42, 0.08), at(side * 0.47, 0.22), at(side * 0.42, 0.35)],
              [0.03, 0.035, 0.025], _cortical(0.3, 0.5, 1.2))
        _ellipsoid(film, at(side * 0.5, 0.3), 0.05, 0.08, 0.08, ((1.0, 0.6), (0.7, 0.3)))
    _ellipsoid(film, at(0.0, 0.45), 0.3, 0.1, 0.25, ((1.0, 0.25),), power=3.0)  # maxilla
    # Nasal aperture with septum and turbinates.
    _ellipsoid(film, at(0.0, 0.3), 0.08, 0.14, 0.25, ((1.0, -0.3),))
    _tube(film, [at(0.0, 0.14), at(0.005, 0.42)], [0.008, 0.008], ((1.0, 2.0),))
    for side in (-1, 1):
        _ellipsoid(film, at(side * 0.045, 0.33), 0.025, 0.06, 0.03, ((1.0, 0.6),))
    # Cervical spine behind the jaw, then the mandible and teeth in front.
    _spine(film, dx, top=0.55, bottom=1.3, count=5, width=0.1, density=0.22)
    half = [(0.47, 0.1), (0.475, 0.3), (0.46, 0.47), (0.42, 0.58), (0.33, 0.67), (0.2, 0.74),
            (0.08, 0.78), (0.0, 0.785)]
    mandible = [at(-x, y) for x, y in half] + [at(x, y) for x, y in reversed(half[:-1])]
    radii = [0.03, 0.035, 0.04, 0.042, 0.042, 0.045, 0.048, 0.05]
    _tube(film, mandible, radii + radii[-2::-1], _cortical(0.3, 0.35, 0.9))
    for bite, root in ((0.54, -1), (0.555, 1)):
        for k in range(-7, 8):
            if k == 0:
                continue
            spot = (k - 0.5 * np.sign(k)) / 6.5
            h = (0.085 if abs(k) > 3 else 0.07) * rng.uniform(0.9, 1.1)
            w = 0.022 if abs(k) < 3 else 0.03
            crown = bite + root * (h * 0.75 - 0.02 * spot * spot)
            _ellipsoid(film, at(0.27 * spot, crown), w, h * 0.75, 0.04 if abs(k) < 4 else 0.06,
                       ((1.0, 2.2), (0.6, 1.0)), power=2.4, angle=0.25 * spot * root)
    return 0.4, 6.0


def _ring(film: _Film, centre: _Point, a: float, b: float, radius: float, *, density: float) -> None:
    """A bony rim round an elliptical opening (orbital margin), as a closed tube."""
    t = np.linspace(0.0, 2.0 * math.pi, 33)
    pts = [(centre[0] + a * math.cos(s), centre[1] + b * math.sin(s)) for s in t]
    _tube(film, pts, [radius] * len(pts), _cortical(0.35, 0.4, density))


_ANATOMY = {"skull": _skull, "hand": _hand, "chest": _chest}
KINDS: tuple[str, ...] = tuple(_ANATOMY)
"""Procedural radiographs :func:`radiograph` can make."""


# --------------------------------------------------------------------------------------------
# Exposure and development
# --------------------------------------------------------------------------------------------


def _smooth_noise(rng: np.random.Generator, n: int, cells: int) -> np.ndarray:
    """Zero-mean noise on an ``n`` x ``n`` grid, bilinear between ``cells`` x ``cells`` random knots.

    The upsampling is two matrix products with a hat-function weight matrix, far cheaper than
    `scipy.ndimage.zoom` at film sizes.
    """
    knots = rng.standard_normal((cells, cells), dtype=np.float32)
    position = (np.arange(n, dtype=np.float32) + 0.5) * (cells / n) - 0.5
    weights = np.maximum(1.0 - np.abs(position[:, None] - np.arange(cells, dtype=np.float32)), 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights @ knots @ weights.T


def _develop(film: _Film, rng: np.random.Generator, mu_soft: float, mu_bone: float) -> np.ndarray:
    """Expose and develop the film: attenuation, blur, fog, vignetting and grain, values in [0, 1].

    Parameters
    ----------
    mu_soft, mu_bone : float
        Attenuation per film unit of soft tissue and of unit-density bone.
    """
    n = film.n
    att = _smooth_noise(rng, n, max(n // 8, 4))  # trabecular texture of bone
    att *= 0.08 * mu_bone
    att += mu_bone
    att *= np.maximum(film.bone, 0.0, out=film.bone)
    att += mu_soft * np.maximum(film.soft, 0.0, out=film.soft)
    image = ndimage.gaussian_filter(att, sigma=max(0.6, n / 1400), truncate=2.5, output=film.soft)
    np.negative(image, out=image)
    np.expm1(image, out=image)
    ramp = (-1.0 + (np.arange(n, dtype=np.float32) + 0.5) * film.pixel) ** 2
    falloff = -0.93 * (1.0 - 0.09 * ramp)  # -0.93 undoes expm1's sign and scales to the film range
    image *= falloff[None, :]
    image *= (1.0 - 0.09 * ramp)[:, None]
    image += _smooth_noise(rng, n, 24) * 0.012 + 0.04  # fog and mottle
    grain = rng.standard_normal((n, n), dtype=np.float32)
    grain *= 0.018
    image += grain
    return np.clip(image, 0.0, 1.0, out=image)


def _check_size(size_px: int) -> int:
    if isinstance(size_px, bool) or not isinstance(size_px, (int, np.integer)):
        raise PictureError(f"size_px must be a whole number of pixels, not {size_px!r}.")
    if not MIN_SIZE_PX <= size_px <= MAX_SIZE_PX:
        raise PictureError(f"size_px must be between {MIN_SIZE_PX} and {MAX_SIZE_PX} pixels, "
                           f"not {size_px}.")
    return int(size_px)


def radiograph(kind: str, size_px: int, *, seed: int = 0) -> np.ndarray:
    """Make a procedural radiograph, as film looks on a lightbox.

    Parameters
    ----------
    kind : str
        Which film: one of `KINDS` (``"skull"`` PA, ``"hand"`` PA, ``"chest"`` PA).
    size_px : int
        Width and height of the square film, pixels, 16 to 8192.
    seed : int
        Seed for pose, proportions and grain; the same seed gives the same array. Default 0.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(size_px, size_px)``, values in [0, 1]: 1 is dense bone (clear film),
        0 is bare exposed film where the beam met no tissue.

    Raises
    ------
    PictureError
        For an unknown ``kind`` or a ``size_px`` out of range.

    Notes
    -----
    Every part is a solid whose thickness along the beam is computed in closed form; thicknesses
    add and the film value is ``1 - exp(-(mu_soft * soft + mu_bone * bone))`` before blur, fog,
    vignetting and grain. A 2048 px film takes about a second.

    Examples
    --------
    >>> film = radiograph("hand", 64, seed=1)
    >>> film.shape, film.dtype.name, bool(film.min() >= 0.0 and film.max() <= 1.0)
    ((64, 64), 'float32', True)
    """
    if kind not in _ANATOMY:
        raise PictureError(f"unknown X-ray kind {kind!r}: choose one of {', '.join(KINDS)}.")
    n = _check_size(size_px)
    rng = np.random.default_rng(seed)
    film = _Film(n)
    mu_soft, mu_bone = _ANATOMY[kind](film, rng)
    return _develop(film, rng, mu_soft, mu_bone)


# --------------------------------------------------------------------------------------------
# X-ray files
# --------------------------------------------------------------------------------------------


def load_radiograph(path: str | os.PathLike, size_px: int) -> np.ndarray:
    """Read an X-ray from a PNG, JPEG, TIFF or DICOM file as a square film.

    Parameters
    ----------
    path : str or os.PathLike
        The file. DICOM is recognised by content (the ``DICM`` mark at byte 128, or a dataset
        without preamble), not by suffix.
    size_px : int
        Width and height of the result, pixels, 16 to 8192.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(size_px, size_px)``, values in [0, 1] with bone bright: the picture is
        centre-cropped to a square, resized with Lanczos, and stretched so its darkest pixel is 0
        and its brightest 1 (so a 12-bit scan stored in 16 bits uses the whole range). A picture
        with a single grey level gives zeros.

    Raises
    ------
    PictureError
        For a missing, empty or unreadable file, a DICOM without pixel data, an empty image, an
        image over `MAX_PIXELS` pixels, or a ``size_px`` out of range.

    Notes
    -----
    DICOM pixels go through the modality LUT (rescale slope and intercept) and, when the file has
    one, the VOI LUT or window centre and width; MONOCHROME1 films (bone dark) are inverted.
    Colour pictures are converted to grey; JPEG EXIF rotation is applied.
    """
    n = _check_size(size_px)
    path = Path(path)
    name = path.name or str(path)
    try:
        kind = not_a_file(path)   # before opening: a pipe would wait for a writer
        if kind is not None:
            raise PictureError(f"cannot read {name} as an X-ray: it is {kind}, not a picture.")
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError as error:
        raise PictureError(f"cannot read {name} as an X-ray: {error.strerror or error}.") from None
    if not head:
        raise PictureError(f"cannot read {name} as an X-ray: the file is empty.")
    if head[128:132] == b"DICM":
        pixels = _dicom_pixels(path, name)
    else:
        pixels = _picture_pixels(path, name)
    return _square(pixels, n, name)


@contextlib.contextmanager
def _pixel_limit() -> Iterator[None]:
    """Let Pillow open pictures up to `MAX_PIXELS` and refuse bigger ones (decompression bombs)."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _too_big(name: str, pixels: int) -> PictureError:
    return PictureError(f"cannot read {name} as an X-ray: it has {pixels / 1e6:.0f} megapixels, more "
                        f"than the {MAX_PIXELS // 1_000_000} allowed.")


def _picture_pixels(path: Path, name: str) -> np.ndarray:
    """Grey levels of a PNG, JPEG or TIFF; files Pillow cannot identify are tried as DICOM."""
    try:
        with _pixel_limit(), Image.open(path) as picture:
            width, height = picture.size
            if width * height > MAX_PIXELS:
                raise _too_big(name, width * height)
            picture = ImageOps.exif_transpose(picture)
            if picture.mode not in ("L", "I", "F", "I;16", "I;16B", "I;16L"):
                picture = picture.convert("L")
            return np.asarray(picture).astype(np.float32)
    except UnidentifiedImageError:
        return _dicom_pixels(path, name, sniffed=False)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_big(name, _declared_pixels(path)) from None
    except (OSError, ValueError, SyntaxError) as error:
        if isinstance(error, PictureError):
            raise
        raise PictureError(f"cannot read {name} as an X-ray: the picture is damaged ({error}).") from None


def _declared_pixels(path: Path) -> int:
    """Pixel count a picture file declares in its header (opened without any size limit)."""
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as picture:
            return picture.size[0] * picture.size[1]
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _dicom_pixels(path: Path, name: str, *, sniffed: bool = True) -> np.ndarray:
    """Pixels of a DICOM file with modality and VOI LUTs applied and bone bright.

    ``sniffed`` says the file carries the ``DICM`` mark; without it, a file only counts as DICOM
    if pydicom finds image tags in it.
    """
    import pydicom

    not_an_image = PictureError(f"cannot read {name} as an X-ray: it is not a PNG, JPEG, TIFF or "
                                "DICOM image.")
    try:
        dataset = pydicom.dcmread(path, force=True)
    except Exception:  # pydicom raises many kinds for garbage; all mean "not DICOM"
        if sniffed:
            raise PictureError(f"cannot read {name} as an X-ray: the DICOM file is damaged.") from None
        raise not_an_image from None
    if not sniffed and not any(tag in dataset for tag in ("PixelData", "Rows", "SOPClassUID", "Modality")):
        raise not_an_image
    if "PixelData" not in dataset:
        raise PictureError(f"cannot read {name} as an X-ray: the DICOM file has no pixel data.")
    rows, columns = int(dataset.get("Rows", 0)), int(dataset.get("Columns", 0))
    if rows * columns > MAX_PIXELS:
        raise _too_big(name, rows * columns)
    try:
        pixels = dataset.pixel_array
    except Exception as error:  # missing codec, truncated data, inconsistent tags
        raise PictureError(f"cannot read {name} as an X-ray: its DICOM pixels cannot be decoded "
                           f"({error}).") from None
    if int(dataset.get("NumberOfFrames", 1) or 1) > 1:
        pixels = pixels[0]
    if int(dataset.get("SamplesPerPixel", 1)) > 1:
        pixels = pixels.mean(axis=-1)
    else:
        pixels = _apply_luts(pixels, dataset)
    pixels = np.asarray(pixels, np.float32)
    if str(dataset.get("PhotometricInterpretation", "")).upper() == "MONOCHROME1":
        pixels = -pixels
    return pixels


def _apply_luts(pixels: np.ndarray, dataset) -> np.ndarray:
    """Modality LUT (rescale slope and intercept) then VOI LUT or window, when the file has them."""
    try:
        from pydicom.pixels import apply_modality_lut, apply_voi_lut
    except ImportError:  # pydicom 2.x
        from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut
    pixels = apply_modality_lut(pixels, dataset)
    if "WindowCenter" in dataset or "VOILUTSequence" in dataset:
        pixels = apply_voi_lut(pixels, dataset)
    return pixels


def _square(pixels: np.ndarray, n: int, name: str) -> np.ndarray:
    """Centre-crop to a square, resize to ``n`` pixels with Lanczos, stretch to [0, 1]."""
    if pixels.ndim != 2 or pixels.size == 0:
        raise PictureError(f"cannot read {name} as an X-ray: the image is empty.")
    height, width = pixels.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    pixels = np.ascontiguousarray(pixels[top:top + side, left:left + side], dtype=np.float32)
    low, high = float(np.nanmin(pixels)), float(np.nanmax(pixels))
    if not high > low:
        return np.zeros((n, n), np.float32)
    pixels = (pixels - low) / (high - low)
    if side != n:
        pixels = np.asarray(Image.fromarray(pixels, mode="F").resize((n, n), Image.Resampling.LANCZOS))
    return np.clip(pixels, 0.0, 1.0).astype(np.float32)
