"""Numba engines of the optical reader's coarse track: where the groove is on every ray of every turn.

Radial profiles along ``B`` rays a turn find the bands' centres on every ray (:func:`ray_bands`, a
matched filter: band mean less the mean of the land either side); linking them turn by turn, ray by
ray (:func:`link`: nearest band to the prediction, never closer than a groove to the previous turn,
coasting over a missing band) gives the groove's radius at every ray of every turn, ``R[k·B + b]``.
:func:`coarse_track` runs both; the fine fit (``_fine``) starts from its answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from izdat.optical._profiles import bilinear

TWO_PI = 2 * math.pi


@dataclass
class Coarse:
    """The linked rays: radius ``R`` (px) per ray of every turn (``B`` rays a turn), whether each ray
    found its band, and the land and band grey levels seen there (−1 where it coasted)."""

    R: np.ndarray
    found: np.ndarray
    land: np.ndarray
    top: np.ndarray
    B: int


def coarse_track(img, cx, cy, theta0, sign, N, r_start, width_px, land_px, *, n_samples=None, r_end=None,
                 light=True) -> Coarse:
    """The groove from ``r_start`` (px, at phase 0) inward, ray by ray (see :func:`follow` in ``_fine``)."""
    px_min = 1.0
    w = float(width_px)
    land = max(float(land_px), 0.5)
    B = int(min(max(2 * math.pi * r_start / 2.5, 512), 65536))
    step = float(min(max(w / 12, 0.25), 1.0))
    r_hi = r_start + max(w, 4.0)
    r_lo = max(4.0, (r_end if r_end is not None else 0.0) - w - 4.0)
    max_bands = int((r_hi - r_lo) / (w + land) * 1.3) + 16
    centres = np.zeros((B, max_bands), np.float32)
    strength = np.zeros((B, max_bands), np.float32)
    lands = np.zeros((B, max_bands), np.float32)
    tops = np.zeros((B, max_bands), np.float32)
    counts = np.zeros(B, np.int64)
    ray_bands(img, float(cx), float(cy), float(theta0), float(sign), B, float(r_hi), float(r_lo), step, w,
              max(px_min, min(land, 1.5)), bool(light), max_bands, centres, strength, lands, tops, counts)
    if n_samples is not None:
        turns = -(-int(n_samples) // N) + 1
        n_seq = int(math.ceil(n_samples * B / N)) + 2
        n_seq = min(n_seq, turns * B)
    else:
        turns = int(2 + (r_start - r_lo) / max(0.3 * w, 0.5))
        n_seq = turns * B
    R = np.zeros(n_seq)
    found = np.zeros(n_seq, np.bool_)
    land_s = np.zeros(n_seq, np.float32)
    top_s = np.zeros(n_seq, np.float32)
    got = link(centres, strength, lands, tops, counts, float(r_start), n_seq, 0.7 * (w + land) if land < w else 0.7 * w,
               0.45 * (w + land), 0.0, n_samples is None, 0.25 * w, R, found, land_s, top_s)
    return Coarse(R[:got], found[:got], land_s[:got], top_s[:got], B)


@numba.njit(cache=True, parallel=True)
def ray_bands(img, cx, cy, theta0, sign, n_rays, r_hi, r_lo, step, width_px, flank_px, light, max_bands,
              centres, strength, lands, tops, counts):
    """Bands along ``n_rays`` rays from radius ``r_hi`` in to ``r_lo`` (px).

    Fills, per ray, ``centres`` (radius, outermost first), ``strength`` (band mean less land mean,
    grey levels), ``lands`` and ``tops`` (grey levels) and ``counts`` (bands found). A band is a
    local maximum of the matched filter above a fifth of the strongest response on the ray.
    """
    n = int((r_hi - r_lo) / step) + 1
    hb = max(1, int(round(0.5 * width_px / step)))
    fl = max(1, int(round(flank_px / step)))
    sup = max(1, int(round(0.6 * width_px / step)))
    for a in numba.prange(n_rays):
        ang = theta0 + sign * TWO_PI * a / n_rays
        c = math.cos(ang)
        s = math.sin(ang)
        prof = np.empty(n + 1)
        cum = np.zeros(n + 1)
        for k in range(n):
            r = r_hi - k * step
            v = bilinear(img, cx + r * c, cy - r * s)
            if v < 0.0:
                v = 0.0
            elif not light:
                v = 255.0 - v
            prof[k] = v
            cum[k + 1] = cum[k] + v
        resp = np.zeros(n)
        land = np.zeros(n)
        top = np.zeros(n)
        best = 0.0
        for k in range(hb + fl, n - hb - fl):
            mid = (cum[k + hb + 1] - cum[k - hb]) / (2 * hb + 1)
            outer = (cum[k - hb] - cum[k - hb - fl]) / fl
            inner = (cum[k + hb + fl + 1] - cum[k + hb + 1]) / fl
            # the weaker side counts: a band has land on both sides
            d = mid - max(outer, inner)
            resp[k] = d
            land[k] = 0.5 * (outer + inner)
            top[k] = mid
            if d > best:
                best = d
        cnt = 0
        thr = max(4.0, 0.2 * best)
        k = hb + fl
        while k < n - hb - fl and cnt < max_bands:
            d = resp[k]
            if d > thr:
                is_max = True
                for q in range(max(0, k - sup), min(n, k + sup + 1)):
                    if resp[q] > d or (resp[q] == d and q < k):
                        is_max = False
                        break
                if is_max:
                    frac = 0.0
                    den = resp[k - 1] - 2 * d + resp[k + 1]
                    if den < 0.0:
                        frac = 0.5 * (resp[k - 1] - resp[k + 1]) / den
                    centres[a, cnt] = r_hi - (k + frac) * step
                    strength[a, cnt] = d
                    lands[a, cnt] = land[k]
                    tops[a, cnt] = top[k]
                    cnt += 1
                    k += sup
                    continue
            k += 1
        counts[a] = cnt


@numba.njit(cache=True)
def link(centres, strength, lands, tops, counts, r_start, n_seq, min_sep, tol, slope0, stop_on_lock,
         lock_px, R, found, land_out, top_out):
    """Follow the groove through the ray bands: sequence ``s = k·B + b`` (turn k, ray b).

    The prediction is the last radius plus the track's slope (px per ray); the nearest band within
    ``tol`` px is taken unless it lies less than ``min_sep`` px inside... outside the previous turn's
    radius at this ray less ``min_sep`` (it would be the previous turn). Otherwise the track coasts.
    Returns the number of rays followed (fewer than ``n_seq`` if ``stop_on_lock`` and the groove stopped
    moving inward, or was lost for half a turn).
    """
    B = centres.shape[0]
    cursor = np.zeros(B, np.int64)
    r = r_start
    slope = slope0
    lost = 0
    lock_run = 0
    strong = 0.0
    for s in range(n_seq):
        b = s % B
        pred = r + slope
        limit = 1e18
        if s >= B:
            limit = R[s - B] - min_sep
        best = -1
        bd = tol
        # bands are outermost first and the track only moves in: search near the last pick on this ray
        q0 = max(0, cursor[b] - 3)
        q1 = counts[b]
        for q in range(q0, q1):
            if centres[b, q] < pred - tol:
                break
            d = abs(centres[b, q] - pred)
            if d < bd and centres[b, q] < limit and (strong == 0.0 or strength[b, q] > 0.3 * strong):
                bd = d
                best = q
        if best >= 0:
            cursor[b] = best
            rn = centres[b, best]
            if s > 0:
                slope = 0.98 * slope + 0.02 * (rn - r)
            r = rn
            found[s] = True
            land_out[s] = lands[b, best]
            top_out[s] = tops[b, best]
            strong = strength[b, best] if strong == 0.0 else 0.99 * strong + 0.01 * strength[b, best]
            lost = 0
        else:
            r = min(pred, limit)
            found[s] = False
            land_out[s] = -1.0
            top_out[s] = -1.0
            lost += 1
        R[s] = r
        if stop_on_lock:
            if lost > B // 2:
                return s + 1 - lost
            if s >= B:
                if R[s - B] - r < lock_px:
                    lock_run += 1
                    if lock_run > B // 2:
                        return s + 1
                else:
                    lock_run = 0
    return n_seq
