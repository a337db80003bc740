"""The stylus: a spherical tip riding between the two walls of a V groove.

A tip of radius ρ cannot follow groove curvature sharper than it is round: where the groove bends
tighter, the tip rides over the inside of the bend and touches the wall somewhere else. That is
*tracing distortion*, and here it is computed from the geometry, not added as a generic curve.

Geometry
--------
The lathe's 90° V cutter moves sideways with the modulation y(s) (s: length along the groove), so
the groove wall at height z above the bottom lies at y(s) ± z: both walls are 45° planes in any
cross-section. A sphere of radius ρ with its centre at lateral position c and height h clears the
outer wall if, for every offset u along the groove,

    y_o(s+u) − c ≥ √2·√(ρ² − u²) − h

(minimise the distance to the wall line {(u, y_o(u) + z, z)} over z). So the highest c the outer
wall allows is a grey-scale *erosion* of that wall by an ellipse of half-axes ρ (along the groove)
and √2·ρ (across it), and the lowest c the inner wall allows is the *dilation* of that wall by
the same ellipse. Under its tracking force the tip sinks until it touches both walls:

    c(s) = ½·[E(y_o)(s) + D(y_i)(s)],      h(s) = ½·[D(y_i)(s) − E(y_o)(s)]  (the pinch effect).

The lateral pickup hears c. For a sine the even-order terms of E and D cancel in c (they go into
the vertical pinch motion h) and the odd ones add: lateral tracing distortion is mostly third
harmonic (Pierce and Hunt 1938; Corrington 1951). The ellipse's radius of curvature at its apex is
ρ/√2, so the tip leaves the groove bottom of a sine y = A·sin(ks) once A·k² > √2/ρ: distortion rises
with frequency (k² = (2πf/v)²), towards the centre of the record (v = 2πr·rpm/60 falls) and with a
blunter tip.

References
----------
- J. A. Pierce and F. V. Hunt, "On distortion in sound reproduction from phonograph records",
  J. Acoust. Soc. Am. 10, 14–28 (1938).
- M. S. Corrington, "Tracing distortion in phonograph records", RCA Review 10, 241–253 (1949);
  "Correction of tracing distortion in phonograph records", RCA Review 12 (1951).
- Tip sizes: 78 rpm styli 2.5–3.5 mil (64–89 µm), microgroove 1 mil (25 µm), stereo 0.7 mil
  (18 µm): DESIGN.md ("Physical references") and the issue; 1 mil = 25.4 µm exactly.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["STYLI_UM", "trace"]

#: Tip radii (µm) by name: 78-era steel and sapphire styli (2.5, 3 and 3.5 mil), the LP microgroove
#: stylus (1 mil) and the stereo one (0.7 mil). 1 mil = 25.4 µm.
STYLI_UM = {"78": 64.0, "78-3mil": 76.2, "78-3.5mil": 88.9, "microgroove": 25.4, "stereo": 17.8}
SQRT2 = math.sqrt(2.0)


def trace(outer_m: np.ndarray, inner_m: np.ndarray, step_m: np.ndarray, tip_radius_m: float) -> np.ndarray:
    """Lateral path of the tip centre between two groove walls (m).

    Parameters
    ----------
    outer_m, inner_m : ndarray of float64
        Lateral position of each wall relative to its own unmodulated place (m), per groove sample:
        for a clean groove both are the modulation itself; roughness, dust and scratches differ.
    step_m : ndarray of float64
        Groove length from each sample to the next (m), 2π·r / samples_per_rev.
    tip_radius_m : float
        Radius of the spherical tip (m), > 0.

    Returns
    -------
    ndarray of float64
        Lateral position of the tip centre (m) per groove sample; equal to the walls' common
        position wherever the groove is straight.
    """
    outer = np.ascontiguousarray(outer_m, dtype=np.float64)
    inner = np.ascontiguousarray(inner_m, dtype=np.float64)
    step = np.ascontiguousarray(np.broadcast_to(step_m, outer.shape), dtype=np.float64)
    return _trace(outer, inner, step, float(tip_radius_m))


@numba.njit(cache=True, fastmath=True)
def _trace(outer, inner, step, rho):
    n = len(outer)
    out = np.empty(n)
    kmax = int(rho / np.min(step)) + 1
    # e(u) = √2·√(ρ² − u²) and its first two derivatives at whole samples u = −k…k, rebuilt as the
    # groove step drifts (0.4 % a turn on a 78).
    e0 = np.empty(2 * kmax + 1)
    e1 = np.empty(2 * kmax + 1)
    e2 = np.empty(2 * kmax + 1)
    h_table = -1.0
    k = 0
    for i in range(n):
        h = step[i]
        if abs(h - h_table) > 1e-4 * h:
            h_table = h
            k = int(rho / h)
            if k * h >= rho:
                k -= 1
            for u in range(-k, k + 1):
                du = u * h
                q = max(rho * rho - du * du, 1e-30)
                sq = math.sqrt(q)
                e0[u + k] = SQRT2 * sq
                e1[u + k] = -SQRT2 * du / sq
                e2[u + k] = -SQRT2 * rho * rho / (q * sq)
        if i >= k + 2 and i + k + 2 < n:         # inside: both walls' whole-sample search in one loop
            bo = 1e300
            bi = 1e300
            jo = 0
            ji = 0
            for u in range(-k, k + 1):
                e = e0[u + k]
                v = outer[i + u] - e
                if v < bo:
                    bo = v
                    jo = u
                v = -inner[i + u] - e
                if v < bi:
                    bi = v
                    ji = u
            hi = _refine(outer, i + jo, jo + k, bo, h, 1.0, e1, e2)
            lo = -_refine(inner, i + ji, ji + k, bi, h, -1.0, e1, e2)
        else:
            hi = _contact(outer, i, k, h, 1.0, e0, e1, e2)
            lo = -_contact(inner, i, k, h, -1.0, e0, e1, e2)
        out[i] = 0.5 * (hi + lo)
    return out


@numba.njit(cache=True, fastmath=True)
def _newton(wm2, wm1, w0, wp1, wp2, best, h, sign, e1, e2):
    """One Newton step on g = sign·wall − e around a sample: the wall's slope and curvature from
    5-point central differences, e's from its derivatives ``e1``, ``e2``; kept within one sample."""
    g1 = sign * (8.0 * (wp1 - wm1) - (wp2 - wm2)) / (12.0 * h) - e1
    g2 = sign * (16.0 * (wp1 + wm1) - 30.0 * w0 - wp2 - wm2) / (12.0 * h * h) - e2
    if g2 > 0.0:
        d = min(max(-g1 / g2, -h), h)
        v = best + g1 * d + 0.5 * g2 * d * d
        if v < best:
            return v
    return best


@numba.njit(cache=True, fastmath=True)
def _refine(wall, c, t, best, h, sign, e1, e2):
    """One Newton step from the best whole sample ``c`` (table index ``t``), away from the ends."""
    return _newton(wall[c - 2], wall[c - 1], wall[c], wall[c + 1], wall[c + 2], best, h, sign, e1[t], e2[t])


@numba.njit(cache=True, fastmath=True)
def _contact(wall, i, k, h, sign, e0, e1, e2):
    """min over |u| < ρ of g(u) = sign·wall(s_i + u) − e(u).

    The best whole-sample offset j first (this finds the right contact when the tip bridges a
    crest and touches elsewhere), then one Newton step from it on a local quadratic model of g:
    the wall's slope and curvature from 5-point central differences (4th order), e's from its
    exact derivatives, the step kept within one sample. The contact point so moves continuously;
    against a brute-force search on a sine the third harmonic agrees within 2 %.
    """
    n = len(wall)
    best = 1e300
    j = 0
    if i >= k + 2 and i + k + 2 < n:
        for u in range(-k, k + 1):
            v = sign * wall[i + u] - e0[u + k]
            if v < best:
                best = v
                j = u
        c = i + j
        wm2, wm1, w0, wp1, wp2 = wall[c - 2], wall[c - 1], wall[c], wall[c + 1], wall[c + 2]
    else:
        for u in range(-k, k + 1):
            v = sign * wall[min(max(i + u, 0), n - 1)] - e0[u + k]
            if v < best:
                best = v
                j = u
        c = i + j
        wm2 = wall[min(max(c - 2, 0), n - 1)]
        wm1 = wall[min(max(c - 1, 0), n - 1)]
        w0 = wall[min(max(c, 0), n - 1)]
        wp1 = wall[min(max(c + 1, 0), n - 1)]
        wp2 = wall[min(max(c + 2, 0), n - 1)]
    return _newton(wm2, wm1, w0, wp1, wp2, best, h, sign, e1[j + k], e2[j + k])
