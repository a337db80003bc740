"""Numba engines of the optical reader's two-stage groove estimate.

1. **Coarse** (:func:`ray_bands`, :func:`link`): radial profiles along ``B`` rays a turn find the
   bands' centres on every ray (a matched filter: band mean less the mean of the land either side);
   linking them turn by turn, ray by ray (nearest band to the prediction, never closer than a groove
   to the previous turn, coasting over a missing band) gives the groove's radius at every ray of
   every turn, ``R[k·B + b]``.
2. **Fine** (:func:`fine_pass`): one pass over the pixels of the groove band. Every pixel is given
   to the turn whose reference radius at its own angle is nearest, and if it lies within the window
   around that radius its coverage ``c = (v − land)/(top − land)`` adds to the first moment of the
   two groove samples either side of its angle (linear weights). A pixel's coverage is that of the
   radial one-pixel box around its radius, so the centroid of the covered part of the box is known
   exactly (the box's middle for a fully covered pixel, its covered end's middle for a wall pixel);
   summing those makes the first moment exact for a sharp picture, with no interpolation at all.
   The land and top levels are fitted per block of samples in the same pass (least squares of the
   pixels' grey levels on the coverage the reference predicts), for the next pass.

Coordinates: pixel centres at integer (x, y), x right, y down; angle φ = atan2(cy − y, x − cx);
the groove's phase is ``u = sign·(φ − θ0)`` (mod 2π), sample ``j = u·N/2π`` within its turn.
"""

from __future__ import annotations

import math
import os

import numba
import numpy as np

TWO_PI = 2 * math.pi


@numba.njit(cache=True, inline="always")
def _bilinear(img, x, y):
    h, w = img.shape
    if x < 0.0 or y < 0.0 or x >= w - 1 or y >= h - 1:
        return -1.0
    ix = int(x)
    iy = int(y)
    ax = x - ix
    ay = y - iy
    top = img[iy, ix] * (1.0 - ax) + img[iy, ix + 1] * ax
    bot = img[iy + 1, ix] * (1.0 - ax) + img[iy + 1, ix + 1] * ax
    return top * (1.0 - ay) + bot * ay


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
            v = _bilinear(img, cx + r * c, cy - r * s)
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
        for q in range(counts[b]):
            d = abs(centres[b, q] - pred)
            if d < bd and centres[b, q] < limit and (strong == 0.0 or strength[b, q] > 0.3 * strong):
                bd = d
                best = q
        if best >= 0:
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


@numba.njit(cache=True, inline="always")
def _cover(d, hw):
    c = min(d + 0.5, hw) - max(d - 0.5, -hw)
    return 0.0 if c < 0.0 else (1.0 if c > 1.0 else c)


@numba.njit(cache=True, parallel=True)
def fine_pass(img, cx, cy, theta0, sign, N, Rref, n, hw, win, bg, amp, nb, boxes, sec_lo, sec_hi, phase,
              r_min, r_max, light, ramp, reach, reject, cmin, bias, acc, stats):
    """One pass over the band's pixels (see the module's notes).

    ``Rref`` holds the reference radius (px) of samples 0 … n (padded to whole turns with −1e6);
    ``bg``/``amp`` the land level and the band's contrast per block (``nb`` blocks a turn, block of
    sample i = turn·nb + j·nb // N). Sectors ``sec_lo[s] ≤ j < sec_hi[s]`` with pixel bounding boxes
    ``boxes[s]`` (x0, x1, y0, y1) run in parallel, those of parity ``phase`` at once, so that no two
    threads add into the same sample.

    Every pixel on a wall (coverage strictly between 0 and 1) says where that wall is: a wall's ramp
    is ``ramp`` px wide (1 for a sharp picture: the radial one-pixel box), so coverage c puts the
    outer wall at r − ½·ramp + c·ramp... that is, at r + (c − ½)·ramp, and the inner one at
    r − (c − ½)·ramp. Less the half width ``hw`` that is the centre at the pixel's angle; its offset
    from the reference is added, weighted by how far c is from 0 and 1, into the two samples either
    side of the pixel's angle: ``So[i, 0:2]`` for the outer wall, ``Si`` for the inner. Pixels whose
    offset is more than ``reject`` px are left out (dust, scratches). ``stats`` per block gets
    (n, Σĉ, Σĉ², Σv, Σvĉ) with ĉ the coverage the reference predicts, for fitting land and contrast.
    """
    turns = Rref.shape[0] // N
    h, w = img.shape
    ns = sec_lo.shape[0]
    scale = N / TWO_PI
    for si in numba.prange(ns // 2):
        sec = 2 * si + phase
        jlo = sec_lo[sec]
        jhi = sec_hi[sec]
        x0 = max(0, boxes[sec, 0])
        x1 = min(w - 1, boxes[sec, 1])
        y0 = max(0, boxes[sec, 2])
        y1 = min(h - 1, boxes[sec, 3])
        guess = 0
        for y in range(y0, y1 + 1):
            dy = cy - y
            for x in range(x0, x1 + 1):
                dx = x - cx
                r2 = dx * dx + dy * dy
                if r2 < r_min * r_min or r2 > r_max * r_max:
                    continue
                u = sign * (math.atan2(dy, dx) - theta0)
                u = u % TWO_PI
                jf = u * scale
                j0 = int(jf)
                if j0 >= N:
                    j0 = N - 1
                if j0 < jlo or j0 >= jhi:
                    continue
                a = jf - j0
                r = math.sqrt(r2)
                lo = guess
                while lo > 0 and Rref[lo * N + j0] < r:
                    lo -= 1
                while lo < turns - 1 and Rref[(lo + 1) * N + j0] >= r:
                    lo += 1
                guess = lo
                best = -1
                bd = 1e18
                for k in range(lo, min(turns, lo + 2)):
                    i0 = k * N + j0
                    if i0 + 1 > n:
                        continue
                    rp = Rref[i0] * (1.0 - a) + Rref[i0 + 1] * a
                    d = abs(r - rp)
                    if d < bd:
                        bd = d
                        best = k
                if best < 0 or bd >= win:
                    continue
                i0 = best * N + j0
                rp = Rref[i0] * (1.0 - a) + Rref[i0 + 1] * a
                d = r - rp
                q = best * nb + (j0 * nb) // N
                v = float(img[y, x])
                if not light:
                    v = 255.0 - v
                ce = _cover(d, hw)
                stats[q, 0] += 1.0
                stats[q, 1] += ce
                stats[q, 2] += ce * ce
                stats[q, 3] += v
                stats[q, 4] += v * ce
                c = (v - bg[q]) / amp[q]
                wt = min(c, 1.0 - c)
                if wt <= cmin:
                    continue
                if abs(abs(d) - hw) > 0.5 * ramp + reach:
                    continue
                if d > 0:
                    off = d + (c - 0.5) * ramp - hw
                    side = 0
                else:
                    off = d - (c - 0.5) * ramp + hw
                    side = 1
                if abs(off) > reject:
                    continue
                stats[q, 5 + 2 * side] += wt
                stats[q, 6 + 2 * side] += wt * off
                # the walls' common error (a land level a little off moves them apart or together)
                off -= bias[q] if side == 0 else -bias[q]
                side = 0
                # least squares of off = (1 − a)·δ[i0] + a·δ[i0 + 1]: normal equations
                acc[i0, side, 0] += wt * (1.0 - a) * (1.0 - a)
                acc[i0, side, 1] += wt * (1.0 - a) * a
                acc[i0, side, 2] += wt * (1.0 - a) * off
                acc[i0 + 1, side, 0] += wt * a * a
                acc[i0 + 1, side, 2] += wt * a * off


@numba.njit(cache=True)
def solve_track(acc, side, n, lam, ref, out):
    """The correction δ to the reference ``ref`` (samples 0 … n − 1) that best fits the pixels'
    normal equations in ``acc[:, side]`` (diagonal, upper diagonal, right side), with a prior of
    weight ``lam`` on the second difference of ``ref + δ`` (a smooth, band-limited groove: where
    no pixel saw a sample it is interpolated as a cubic would). Banded LDLᵀ; writes ``out[0:n]``."""
    d0 = np.empty(n)
    d1 = np.zeros(n)
    d2 = np.zeros(n)
    rhs = np.empty(n)
    for i in range(n):
        d0[i] = acc[i, side, 0] + 1e-9
        d1[i] = acc[i, side, 1] if i < n - 1 else 0.0
        rhs[i] = acc[i, side, 2]
    for k in range(1, n - 1):            # rows of the second difference: (k − 1, k, k + 1)
        c2 = ref[k - 1] - 2.0 * ref[k] + ref[k + 1]
        d0[k - 1] += lam
        d0[k] += 4.0 * lam
        d0[k + 1] += lam
        d1[k - 1] += -2.0 * lam
        d1[k] += -2.0 * lam
        d2[k - 1] += lam
        rhs[k - 1] -= lam * c2
        rhs[k] += 2.0 * lam * c2
        rhs[k + 1] -= lam * c2
    # LDLᵀ of the symmetric pentadiagonal matrix, in place: d0 ← D, d1 ← L[i+1, i], d2 ← L[i+2, i]
    for i in range(n):
        if i >= 1:
            d0[i] -= d1[i - 1] * d1[i - 1] * d0[i - 1]
        if i >= 2:
            d0[i] -= d2[i - 2] * d2[i - 2] * d0[i - 2]
        if i < n - 1:
            v = d1[i]
            if i >= 1:
                v -= d2[i - 1] * d1[i - 1] * d0[i - 1]
            d1[i] = v / d0[i]
        if i < n - 2:
            d2[i] = d2[i] / d0[i]
    for i in range(n):                   # L y = rhs
        if i >= 1:
            rhs[i] -= d1[i - 1] * rhs[i - 1]
        if i >= 2:
            rhs[i] -= d2[i - 2] * rhs[i - 2]
    for i in range(n):
        rhs[i] /= d0[i]
    for i in range(n - 1, -1, -1):       # Lᵀ x = y
        v = rhs[i]
        if i < n - 1:
            v -= d1[i] * out[i + 1]
        if i < n - 2:
            v -= d2[i] * out[i + 2]
        out[i] = v


# -- the driver -------------------------------------------------------------------------------------

def sectors(cx, cy, theta0, sign, N, n_sec, r_min, r_max):
    """Sample ranges and pixel bounding boxes of ``n_sec`` angular sectors of the annulus."""
    s = np.arange(n_sec)
    lo = -(-(s * N) // n_sec)                 # ceil: sector of j is j·n_sec // N
    hi = np.append(lo[1:], N)
    boxes = np.empty((n_sec, 4), np.int64)
    for k in range(n_sec):
        j = np.linspace(lo[k] - 1, hi[k] + 1, 24)
        ang = theta0 + sign * TWO_PI * j / N
        xs = np.concatenate([cx + r_min * np.cos(ang), cx + r_max * np.cos(ang)])
        ys = np.concatenate([cy - r_min * np.sin(ang), cy - r_max * np.sin(ang)])
        # the arc may bulge past its sampled points by a hair: a pixel of margin
        boxes[k] = (int(math.floor(xs.min())) - 2, int(math.ceil(xs.max())) + 2,
                    int(math.floor(ys.min())) - 2, int(math.ceil(ys.max())) + 2)
    return lo.astype(np.int64), hi.astype(np.int64), boxes


def _fill(values, ok):
    """``values`` with the entries where ``ok`` is False interpolated from their neighbours."""
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return np.zeros_like(values)
    if idx.size == values.size:
        return values
    return np.interp(np.arange(values.size), idx, values[idx]).astype(values.dtype)


def _smooth_blocks(x, nb, k=3):
    """Moving average over ``k`` blocks along the groove (blocks in groove order)."""
    if x.size < k:
        return x
    pad = np.concatenate([x[:1].repeat(k // 2), x, x[-1:].repeat(k // 2)])
    c = np.cumsum(np.concatenate([[0.0], pad]))
    return ((c[k:] - c[:-k]) / k).astype(x.dtype)


class Track:
    """The result of :func:`follow`: radius (px) per sample, trusted flags, and what was seen."""

    def __init__(self, radius, trusted, rays_found, n_rays, turns):
        self.radius = radius
        self.trusted = trusted
        self.rays_found = rays_found
        self.n_rays = n_rays
        self.turns = turns


def follow(img, cx, cy, theta0, sign, N, r_start, width_px, land_px, *, n_samples=None, r_end=None,
           light=True, passes=3, lam=3.0):
    """Follow the groove from ``r_start`` (px, at phase 0) inward: radius (px) at every sample.

    ``n_samples``: how many samples to read (record.json); otherwise the groove is followed until it
    locks (stops moving inward) or is lost for half a turn. ``r_end``: a radius (px) the groove does
    not go inside (default: 2 mm from the centre).
    """
    px_min = 1.0
    w = float(width_px)
    hw = 0.5 * w
    land = max(float(land_px), 0.5)
    B = int(min(max(2 * math.pi * r_start / 2.5, 512), 65536))
    step = float(min(max(w / 20, 0.2), 0.6))
    r_hi = r_start + max(w, 4.0)
    r_lo = max(4.0, (r_end if r_end is not None else 0.0) - w - 4.0)
    n_prof = int((r_hi - r_lo) / step) + 1
    max_bands = int((r_hi - r_lo) / (w + land) * 1.3) + 16
    centres = np.zeros((B, max_bands), np.float32)
    strength = np.zeros((B, max_bands), np.float32)
    lands = np.zeros((B, max_bands), np.float32)
    tops = np.zeros((B, max_bands), np.float32)
    counts = np.zeros(B, np.int64)
    ray_bands(img, float(cx), float(cy), float(theta0), float(sign), B, float(r_hi), float(r_lo), step, w,
              max(px_min, min(land, 1.5)), bool(light), max_bands, centres, strength, lands, tops, counts)
    del n_prof
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
    R, found, land_s, top_s = R[:got], found[:got], land_s[:got], top_s[:got]
    if got < B // 2:
        return Track(np.zeros(0), np.zeros(0, bool), found, B, 0)
    n = int(n_samples) if n_samples is not None else int((got - 1) * N // B)
    n = min(n, int((got - 1) * N // B)) if n_samples is None else n
    turns = -(-(n + 1) // N)
    # reference radius at every sample, from the rays (linear between them)
    samp = np.arange(n + 1) * (B / N)
    Rref = np.full(turns * N + 1, -1e6, np.float32)
    Rref[:n + 1] = np.interp(samp, np.arange(got), R)
    trusted_ray = found
    # land and top per block, from the rays at first
    n_sec = 64
    nb = n_sec * max(1, int(round(B / n_sec / 4)))           # blocks of about 4 rays
    nblk = turns * nb
    blk_pos = (np.arange(nblk) + 0.5) * (B / nb)           # in rays
    ok = land_s >= 0
    if ok.sum() < 2:
        return Track(np.zeros(0), np.zeros(0, bool), found, B, 0)
    idx = np.flatnonzero(ok)
    bg = np.interp(blk_pos, idx, land_s[idx]).astype(np.float64)
    tp = np.interp(blk_pos, idx, top_s[idx]).astype(np.float64)
    amp = np.maximum(tp - bg, 4.0)
    # the matched filter reads the band's mean and the land's beside it, both part covered; undo that
    # roughly: the band's middle is fully covered, the land's flank only a little
    r_lo_px = float(np.min(Rref[:n + 1])) - hw - 3.0
    r_hi_px = float(np.max(Rref[:n + 1])) + hw + 3.0
    sec_lo, sec_hi, boxes = sectors(cx, cy, theta0, sign, N, n_sec, max(r_lo_px, 0.0), r_hi_px)
    acc = np.zeros((turns * N + 1, 1, 3), np.float32)
    bias = np.zeros(nblk)
    stats = np.zeros((nblk, 9))
    wins = [hw + 1.5] + [hw + 1.0] * (passes - 1)
    rejects = [2.0] + [0.5] * (passes - 1)
    reaches = [0.6] + [0.25] * (passes - 1)
    cmin = 0.02
    lam = float(os.environ.get('IZDAT_LAM', lam))
    ramp = 1.0
    for p, win in enumerate(wins):
        acc[:] = 0.0
        stats[:] = 0.0
        for phase in (0, 1):
            fine_pass(img, float(cx), float(cy), float(theta0), float(sign), N, Rref, n, hw, win, bg, amp, nb,
                      boxes, sec_lo, sec_hi, phase, max(r_lo_px, 0.0), r_hi_px, bool(light), ramp, reaches[p],
                      rejects[p], cmin, bias, acc, stats)
        off = np.zeros(n + 1)
        solve_track(acc, 0, n + 1, lam, Rref, off)
        w_o, s_o, w_i, s_i = stats[:, 5], stats[:, 6], stats[:, 7], stats[:, 8]
        okw = (w_o > 0.5) & (w_i > 0.5)
        if p >= 1 and okw.sum() > 2:
            beta = np.where(okw, 0.5 * (s_o / np.maximum(w_o, 1e-9) - s_i / np.maximum(w_i, 1e-9)), 0.0)
            bias = _smooth_blocks(_fill(beta, okw), nb, 5)
        Rref[:n + 1] += off
        # land and contrast per block, fitted to the pixels on the coverage predicted
        cnt, se, se2, sv, sve = stats[:, :5].T
        det = cnt * se2 - se * se
        okb = (cnt > 8) & (det > 1e-6 * np.maximum(cnt, 1) ** 2)
        b_fit = np.where(okb, (se2 * sv - se * sve) / np.where(okb, det, 1), 0)
        a_fit = np.where(okb, (cnt * sve - se * sv) / np.where(okb, det, 1), 0)
        okb &= a_fit > 4.0
        if okb.sum() > 2:
            bg = _smooth_blocks(_fill(b_fit, okb), nb)
            amp = _smooth_blocks(_fill(a_fit, okb), nb)
    radius = Rref[:n].astype(np.float64)
    trusted = trusted_ray[np.minimum(np.rint(np.arange(n) * (B / N)).astype(np.int64), len(found) - 1)]
    return Track(radius, trusted, found, B, turns)
