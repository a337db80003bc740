"""Numba engines of the optical reader's coarse track: where the groove is on every ray of every turn.

Radial profiles along ``B`` rays a turn find the bands' centres on every ray (:func:`ray_bands`, a
matched filter: band mean less the mean of the land either side); linking them turn by turn, ray by
ray (:func:`link`: nearest band to the prediction, never closer than a groove to the previous turn,
coasting over a missing band) gives the groove's radius at every ray of every turn, ``R[k·B + b]``.
:class:`CoarseTrack` runs both a window of radii at a time and links the rays as far as it is asked,
so that only the bands between the track and the window's inner edge, and the rays of a few turns,
are held; the fine fit (``_fine``) starts from its answer, ring by ring.
"""

from __future__ import annotations

import math
import numba
import numpy as np

from izdat.optical._profiles import bilinear

TWO_PI = 2 * math.pi

#: Most bands a ray can have in one window of radii (the window is this many band spacings wide).
WINDOW_BANDS = 16
#: What :func:`link` stops for.
NEED_BANDS, DONE, REACHED = 0, 1, 2


class CoarseTrack:
    """The linked rays, followed on demand: radius ``R`` (px) per ray of every turn (``B`` rays a turn),
    whether each ray found its band, and the land and band grey levels seen there (−1 where it
    coasted). Only rays ``base`` … ``base + len(R) − 1`` are held: :meth:`advance` links more,
    :meth:`release` drops those no longer needed, so a side is followed in the memory of a few turns.

    Every ray's strongest response is measured first (one sweep of the picture holding no bands): a
    band counts above a fifth of it, so the track is followed once, with its thresholds known. The
    bands are then found a window of ``WINDOW_BANDS`` band spacings at a time, each window when
    :func:`link` reaches its edge, and the bands the track has passed are dropped: the bands held are
    about ``B × WINDOW_BANDS`` (16 bytes each), whatever the record's size.
    """

    def __init__(self, img, cx, cy, theta0, sign, N, r_start, width_px, land_px, *, n_samples=None, r_end=None,
                 light=True):
        w = float(width_px)
        land = max(float(land_px), 0.5)
        B = self.B = int(min(max(2 * math.pi * r_start / 2.5, 512), 65536))
        step = float(min(max(w / 12, 0.25), 1.0))
        r_hi = r_start + max(w, 4.0)
        r_lo = max(4.0, (r_end if r_end is not None else 0.0) - w - 4.0)
        self._max_bands = int((r_hi - r_lo) / (w + land) * 1.3) + 16
        flank = max(1.0, min(land, 1.5))
        self._r_hi, self._step = float(r_hi), step
        self._ray = (img, float(cx), float(cy), float(theta0), float(sign), B, float(r_hi), float(r_lo), step, w,
                     flank, bool(light))
        n, hb, fl, sup = _grid(r_hi, r_lo, step, w, flank)
        win = WINDOW_BANDS * (sup + 1)                 # samples a window: bands are more than sup apart
        self._starts = np.arange(hb + fl, n - hb - fl, win)
        self._ends = np.minimum(self._starts + win, n - hb - fl)
        if n_samples is not None:
            turns = -(-int(n_samples) // N) + 1
            self.n_seq = min(int(math.ceil(n_samples * B / N)) + 2, turns * B)
        else:
            self.n_seq = int(2 + (r_start - r_lo) / max(0.3 * w, 0.5)) * B
        # closest to the previous turn, farthest from the prediction, stop where it locks, lock distance
        self._link = (0.7 * (w + land) if land < w else 0.7 * w, 0.45 * (w + land), n_samples is None, 0.25 * w)
        self._best = np.zeros(B)                       # each ray's strongest response (grey levels)
        self._cum0 = np.zeros(B)
        self._counts, self._first, self._emitted = (np.zeros(B, np.int64) for _ in range(3))
        for j in range(len(self._starts)):
            ray_bands(*self._ray, int(self._starts[j]), int(self._ends[j]), False, self._best, self._cum0,
                      self._max_bands, *(np.zeros((B, 0), np.float32),) * 4, self._counts, self._emitted)
        self._cum0[:] = 0.0
        self._bands = tuple(np.zeros((B, 0), np.float32) for _ in range(4))     # centre, strength, land, top
        self._track = np.array([float(r_start), 0.0, 0.0])      # radius, slope, strength
        self._state = np.zeros(4, np.int64)                     # next ray, lost run, lock run, rays followed
        self._r_edge = math.inf if len(self._starts) else -math.inf    # bands are known outside this radius (px)
        self._j = 0
        self.base = 0
        self.R, self.found = np.zeros(0, np.float32), np.zeros(0, np.bool_)   # float32: a thousandth of a pixel
        self.land, self.top = np.zeros(0, np.float32), np.zeros(0, np.float32)
        self.done = False

    @property
    def linked(self) -> int:
        """Rays linked so far; once :attr:`done`, the rays the groove was followed for."""
        return int(self._state[3]) if self.done else int(self._state[0])

    def advance(self, to: int):
        """Link the rays up to ``to`` (exclusive), or until the groove ends."""
        to = min(int(to), self.n_seq)
        if self.done or self._state[0] >= to:
            return
        grow = to - self.base - len(self.R)
        if grow > 0:
            self.R, self.found, self.land, self.top = (np.concatenate([a, np.zeros(grow, a.dtype)])
                                                       for a in (self.R, self.found, self.land, self.top))
        while True:
            code = link(*self._bands, self._counts, self._first, self._emitted, self._max_bands, self._r_edge, to,
                        self.n_seq, *self._link, self._track, self._state, self.base, self.R, self.found, self.land,
                        self.top)
            if code != NEED_BANDS:
                self.done = code == DONE
                return
            need = compact(*self._bands, self._counts, self._first) + WINDOW_BANDS
            if need > self._bands[0].shape[1]:
                self._bands = tuple(np.pad(a, ((0, 0), (0, need + WINDOW_BANDS // 4 - a.shape[1])))
                                    for a in self._bands)
            j = self._j
            ray_bands(*self._ray, int(self._starts[j]), int(self._ends[j]), True, self._best, self._cum0,
                      self._max_bands, *self._bands, self._counts, self._emitted)
            self._j = j + 1
            self._r_edge = (self._r_hi - (self._ends[j] - 1) * self._step if self._j < len(self._starts)
                            else -math.inf)

    def release(self, before: int):
        """Drop the rays before ``before`` (at most up to a turn behind the last linked: the link
        looks a turn back)."""
        before = min(int(before), int(self._state[0]) - self.B)
        if before > self.base:
            k = before - self.base
            self.R, self.found, self.land, self.top = (a[k:].copy() for a in (self.R, self.found, self.land, self.top))
            self.base = before


def coarse_track(img, cx, cy, theta0, sign, N, r_start, width_px, land_px, **kwargs) -> CoarseTrack:
    """The whole coarse track from ``r_start`` (px, at phase 0) inward (see :class:`CoarseTrack`)."""
    c = CoarseTrack(img, cx, cy, theta0, sign, N, r_start, width_px, land_px, **kwargs)
    c.advance(c.n_seq)
    got = c.linked
    c.R, c.found, c.land, c.top = c.R[:got], c.found[:got], c.land[:got], c.top[:got]
    return c


@numba.njit(cache=True)
def _grid(r_hi, r_lo, step, width_px, flank_px):
    """Samples a ray (``n``, ``step`` px apart from ``r_hi`` in), and the matched filter's half band,
    flank and peak suppression (samples)."""
    n = int((r_hi - r_lo) / step) + 1
    hb = max(1, int(round(0.5 * width_px / step)))
    fl = max(1, int(round(flank_px / step)))
    sup = max(1, int(round(0.6 * width_px / step)))
    return n, hb, fl, sup


@numba.njit(cache=True, inline="always")
def _grey(img, cx, cy, r, c, s, light):
    """Grey level at radius ``r`` (px) along the ray (cos ``c``, sin ``s``): groove bright, 0 outside."""
    v = bilinear(img, cx + r * c, cy - r * s)
    if v < 0.0:
        v = 0.0
    elif not light:
        v = 255.0 - v
    return v


@numba.njit(cache=True, inline="always")
def _filter(cum, i, hb, fl):
    """The band's mean and the land's outside and inside it, centred on the sample with cumulative sum
    index ``i`` (grey levels)."""
    mid = (cum[i + hb + 1] - cum[i - hb]) / (2 * hb + 1)
    outer = (cum[i - hb] - cum[i - hb - fl]) / fl
    inner = (cum[i + hb + fl + 1] - cum[i + hb + 1]) / fl
    return mid, outer, inner


@numba.njit(cache=True, parallel=True)
def ray_bands(img, cx, cy, theta0, sign, n_rays, r_hi, r_lo, step, width_px, flank_px, light, k0, k1, emit, best,
              cum0, max_bands, centres, strength, lands, tops, counts, emitted):
    """The bands centred on samples ``k0``…``k1 − 1`` of each ray (radius ``r_hi − k·step`` px), appended
    after its ``counts`` bands (if ``emit``).

    Per band: ``centres`` (radius, outermost first), ``strength`` (band mean less land mean, grey
    levels), ``lands`` and ``tops`` (grey levels). A band is a local maximum of the matched filter
    above a fifth of the ray's strongest response ``best``, raised here to this window's strongest.
    ``cum0``: the profile's cumulative sum where this window starts summing, moved on to where the
    next one does; ``emitted`` counts a ray's bands over all windows, at most ``max_bands``.
    """
    n, hb, fl, sup = _grid(r_hi, r_lo, step, width_px, flank_px)
    i0 = max(0, k0 - hb - fl - sup)
    i1 = min(n, k1 + hb + fl + sup)
    i_next = max(0, k1 - hb - fl - sup)
    q0 = k0 - sup                      # resp[q − q0]: the response at sample q, 0 off the filter's reach
    for a in numba.prange(n_rays):
        ang = theta0 + sign * TWO_PI * a / n_rays
        c = math.cos(ang)
        s = math.sin(ang)
        cum = np.empty(i1 - i0 + 1)
        cum[0] = cum0[a]
        for k in range(i0, i1):
            cum[k - i0 + 1] = cum[k - i0] + _grey(img, cx, cy, r_hi - k * step, c, s, light)
        cum0[a] = cum[i_next - i0]
        resp = np.zeros(k1 - k0 + 2 * sup)
        top = best[a]
        for q in range(max(hb + fl, q0), min(n - hb - fl, k1 + sup)):
            mid, outer, inner = _filter(cum, q - i0, hb, fl)
            # the weaker side counts: a band has land on both sides
            d = mid - max(outer, inner)
            resp[q - q0] = d
            if k0 <= q < k1 and d > top:
                top = d
        best[a] = top
        if not emit:
            continue
        thr = max(4.0, 0.2 * top)
        cnt = counts[a]
        for k in range(k0, k1):
            if emitted[a] >= max_bands:
                break
            d = resp[k - q0]
            if d <= thr:
                continue
            is_max = True
            for q in range(max(0, k - sup), min(n, k + sup + 1)):
                if resp[q - q0] > d or (resp[q - q0] == d and q < k):
                    is_max = False
                    break
            if is_max:
                frac = 0.0
                den = resp[k - q0 - 1] - 2 * d + resp[k - q0 + 1]
                if den < 0.0:
                    frac = 0.5 * (resp[k - q0 - 1] - resp[k - q0 + 1]) / den
                mid, outer, inner = _filter(cum, k - i0, hb, fl)
                centres[a, cnt] = r_hi - (k + frac) * step
                strength[a, cnt] = d
                lands[a, cnt] = 0.5 * (outer + inner)
                tops[a, cnt] = mid
                cnt += 1
                emitted[a] += 1
        counts[a] = cnt


@numba.njit(cache=True)
def compact(centres, strength, lands, tops, counts, first):
    """Drop each ray's bands before ``first`` (outside the track: never taken again); returns the most
    bands a ray keeps."""
    held = 0
    for b in range(centres.shape[0]):
        f = first[b]
        m = counts[b] - f
        for q in range(m):
            centres[b, q] = centres[b, q + f]
            strength[b, q] = strength[b, q + f]
            lands[b, q] = lands[b, q + f]
            tops[b, q] = tops[b, q + f]
        counts[b] = m
        first[b] = 0
        held = max(held, m)
    return held


@numba.njit(cache=True)
def link(centres, strength, lands, tops, counts, first, emitted, max_bands, r_edge, to, n_seq, min_sep, tol,
         stop_on_lock, lock_px, track, state, base, R, found, land_out, top_out):
    """Follow the groove through the ray bands: sequence ``s = k·B + b`` (turn k, ray b).

    The prediction is the last radius plus the track's slope (px per ray); the nearest band within
    ``tol`` px is taken unless it lies less than ``min_sep`` px inside the previous turn's radius at
    this ray (it would be the previous turn). Otherwise the track coasts. The bands are known outside
    ``r_edge`` (px); where one inside could be the nearest, returns ``NEED_BANDS`` with the track's
    state kept in ``track`` (radius, slope, band strength) and ``state`` (next ray, lost run, lock
    run): call again with the next window's bands. Returns ``REACHED`` at ray ``to``, and ``DONE``
    once done, with ``state[3]`` the number of rays followed (fewer than ``n_seq`` if ``stop_on_lock``
    and the groove stopped moving inward, or was lost for half a turn). Ray ``s`` is written at
    ``R[s − base]`` (likewise ``found``, ``land_out``, ``top_out``).
    """
    B = centres.shape[0]
    r, slope, strong = track[0], track[1], track[2]
    lost, lock_run = state[1], state[2]
    for s in range(state[0], n_seq):
        if s >= to:
            track[0], track[1], track[2] = r, slope, strong
            state[0], state[1], state[2] = s, lost, lock_run
            return REACHED
        b = s % B
        pred = r + slope
        limit = 1e18
        q = first[b]
        if s >= B:
            limit = R[s - B - base] - min_sep
            # bands are outermost first and the limit only moves in: those outside it are spent
            while q < counts[b] and centres[b, q] >= limit:
                q += 1
            first[b] = q
        best = -1
        bd = tol
        while q < counts[b] and centres[b, q] >= pred - tol:
            d = abs(centres[b, q] - pred)
            if d < bd and (strong == 0.0 or strength[b, q] > 0.3 * strong):
                bd = d
                best = q
            q += 1
        if q == counts[b] and emitted[b] < max_bands and r_edge > pred - tol:
            track[0], track[1], track[2] = r, slope, strong
            state[0], state[1], state[2] = s, lost, lock_run
            return NEED_BANDS
        if best >= 0:
            rn = centres[b, best]
            if s > 0:
                slope = 0.98 * slope + 0.02 * (rn - r)
            r = rn
            found[s - base] = True
            land_out[s - base] = lands[b, best]
            top_out[s - base] = tops[b, best]
            strong = strength[b, best] if strong == 0.0 else 0.99 * strong + 0.01 * strength[b, best]
            lost = 0
        else:
            r = min(pred, limit)
            found[s - base] = False
            land_out[s - base] = -1.0
            top_out[s - base] = -1.0
            lost += 1
        R[s - base] = r
        if stop_on_lock:
            if lost > B // 2:
                state[0], state[3] = s + 1, s + 1 - lost
                return DONE
            if s >= B:
                if R[s - B - base] - r < lock_px:
                    lock_run += 1
                    if lock_run > B // 2:
                        state[0], state[3] = s + 1, s + 1
                        return DONE
                else:
                    lock_run = 0
    state[0], state[3] = n_seq, n_seq
    return DONE
