"""Numba engines of the optical reader's fine groove estimate, and the driver :func:`follow`.

The coarse track (``_coarse``: the groove's radius on every ray of every turn) is the start. Then
passes over the pixels of the groove band (:func:`fine_pass`, :func:`solve_track`). Every pixel is
given to the turn whose reference radius at its own angle is nearest. Its grey level is compared
with a model that is exact for izdat's renders: land + contrast × the coverage of the pixel's radial
one-pixel box by the band (and by its neighbours' bands), blurred by a Gaussian of σ for scanned or
photographed pictures. On a sharp picture the land under each pixel is read from its neighbours
(a radiograph's texture changes every few pixels); on a blurred one it is fitted per block. The
residual against the model's slope is a Gauss–Newton equation for the groove's radius at the
pixel's angle, which lies between two groove samples (the render interpolates linearly between
them): the normal equations of all pixels, plus a prior on the groove's second difference (weighted
by the pixels' noise), make a banded system solved for every sample at once. Land level (with its
radial slope) and contrast are refitted after every pass; σ is chosen once, on the outer turns, as
the blur whose model leaves the least residual. No interpolation of the picture is involved.

Coordinates: pixel centres at integer (x, y), x right, y down; angle φ = atan2(cy − y, x − cx);
the groove's phase is ``u = sign·(φ − θ0)`` (mod 2π), sample ``j = u·N/2π`` within its turn.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from izdat.optical import _wiener
from izdat.optical._coarse import CoarseTrack
from izdat.optical._profiles import unit
from izdat.spiral import turn_outside

TWO_PI = 2 * math.pi


@numba.njit(cache=True, fastmath=True, error_model="numpy")
def _row(img, y, x0, cx, cy, theta0, sign, N, Rref, n, turns, win, bg, amp, alpha, beta, nb, jlo, jhi, ca, sa, cb,
         sb, r_min, r_max, light, tab, tper, film, row_mode, row_f, row_i):
    """Model every pixel of row ``y`` near the sector's wedge (two pixels of margin, so that the pixels
    of the sector have their neighbours): ``row_mode`` 0 (not near a groove), 1 (modelled), 2
    (modelled and this sector's); ``row_f`` columns: grey level, profile, slope, offset d from the
    groove (px), interpolation weight a, land level, contrast, film witness and its weight; ``row_i``: sample i0 and block q."""
    h, w = img.shape
    nblk = bg.shape[0]
    scale = N / TWO_PI
    wid = row_mode.shape[0]
    for k in range(wid):
        row_mode[k] = 0
    dy = cy - y
    # the row's stretch inside the wedge: ca·dy − sa·dx ≥ 0 and sb·dx − cb·dy ≥ 0
    lo_x = -1e18
    hi_x = 1e18
    if sa > 1e-12:
        hi_x = min(hi_x, ca * dy / sa)
    elif sa < -1e-12:
        lo_x = max(lo_x, ca * dy / sa)
    elif ca * dy < 0:
        return
    if sb > 1e-12:
        lo_x = max(lo_x, cb * dy / sb)
    elif sb < -1e-12:
        hi_x = min(hi_x, cb * dy / sb)
    elif -cb * dy < 0:
        return
    x1 = x0 + wid - 1
    xa = max(x0, int(math.floor(cx + lo_x)) - 2) if lo_x > -1e17 else x0
    xb = min(x1, int(math.ceil(cx + hi_x)) + 2) if hi_x < 1e17 else x1
    if xa > xb:
        return
    ro = r_max * r_max - dy * dy
    if ro < 0:
        return
    half_o = math.sqrt(ro)
    xa = max(xa, int(math.floor(cx - half_o)) - 1)
    xb = min(xb, int(math.ceil(cx + half_o)) + 1)
    ri = r_min * r_min - dy * dy
    half_i = math.sqrt(ri) if ri > 0 else -1.0
    guess = 0
    last = xa - 2                       # the last pixel whose angle phi is known
    phi = 0.0
    for x in range(xa, xb + 1):
        dx = x - cx
        if half_i > 0 and abs(dx) < half_i - 1.0:
            continue
        r2 = dx * dx + dy * dy
        if r2 < r_min * r_min or r2 > r_max * r_max:
            continue
        if x == last + 1 and r2 > 1e4:
            # a pixel on from the last: the angle turns by −atan(q), q = dy / (dx·(dx − 1) + dy²),
            # |q| ≤ 1/r, so three terms of atan's series are exact to 1e-14 rad (atan2 cost 18 ns a pixel)
            q = dy / (dx * (dx - 1.0) + dy * dy)
            phi -= q * (1.0 - q * q * (1.0 / 3.0 - 0.2 * q * q))
        else:
            phi = math.atan2(dy, dx)
        last = x
        u = sign * (phi - theta0)
        while u < 0.0:                  # into [0, 2π) (u lies within ±3π: cheaper than a float modulo)
            u += TWO_PI
        while u >= TWO_PI:
            u -= TWO_PI
        jf = u * scale
        j0 = int(jf)
        if j0 >= N:
            j0 = N - 1
        a = jf - j0
        r = math.sqrt(r2)
        lo = turn_outside(Rref, N, turns, j0, r, guess)
        guess = lo
        best = -1
        bd = 1e18
        for t in range(lo, min(turns, lo + 2)):
            i0 = t * N + j0
            if i0 + 1 > n:
                continue
            d = abs(r - (Rref[i0] * (1.0 - a) + Rref[i0 + 1] * a))
            if d < bd:
                bd = d
                best = t
        if best < 0 or bd >= win:
            continue
        i0 = best * N + j0
        d = r - (Rref[i0] * (1.0 - a) + Rref[i0 + 1] * a)
        v = float(img[y, x]) * unit(img)
        if not light:
            v = 255.0 - v
        # land level and contrast between the centres of this block and its neighbour
        pb = jf * nb / N - 0.5
        qb = int(math.floor(pb))
        fb = pb - qb
        qa = best * nb + qb
        if qa < 0:
            qa = 0
            fb = 0.0
        qz = qa + 1
        if qz >= nblk:
            qz = nblk - 1
        # the profile of this groove and its neighbours (a band of the groove's width seen through a
        # one-pixel box and the picture's blur)
        pr = _prof(tab, tper, d)
        if best > 0:
            ip = (best - 1) * N + j0
            pr += _prof(tab, tper, r - (Rref[ip] * (1.0 - a) + Rref[ip + 1] * a))
        if best + 1 < turns:
            ip = (best + 1) * N + j0
            if ip + 1 <= n:
                pr += _prof(tab, tper, r - (Rref[ip] * (1.0 - a) + Rref[ip + 1] * a))
        k = x - x0
        row_mode[k] = 2 if jlo <= j0 < jhi else 1
        jac = _slope(tab, tper, d)
        row_f[k, 0] = v
        row_f[k, 1] = pr
        row_f[k, 2] = jac
        row_f[k, 3] = d
        row_f[k, 4] = a
        row_f[k, 5] = (bg[qa, 0] + bg[qa, 1] * d) * (1.0 - fb) + (bg[qz, 0] + bg[qz, 1] * d) * fb
        row_f[k, 6] = amp[qa] * (1.0 - fb) + amp[qz] * fb
        row_i[k, 0] = i0
        row_i[k, 1] = best * nb + (j0 * nb) // N
        if film:
            # what this pixel says the film is: v = L·(1 + (β − 1)·p) + α·p, solved for L; a witness
            # as good as its profile is sure (a wall pixel's grey level is mostly the groove's place)
            al = alpha[qa] * (1.0 - fb) + alpha[qz] * fb
            f = max(1.0 + (beta - 1.0) * pr, 0.1)
            row_f[k, 7] = (v - al * pr) / f
            row_f[k, 8] = f * f / (1.0 + 50.0 * jac * jac)
            row_f[k, 6] = al


@numba.njit(cache=True, parallel=True, fastmath=True, error_model="numpy")
def fine_pass(img, cx, cy, theta0, sign, N, Rref, n, hw, win, bg, amp, alpha, beta, film, nb, boxes, sec_lo, sec_hi,
              phase, r_min, r_max, light, tab, tper, reject, acc, stats):
    """One pass over the band's pixels (see the module's notes).

    ``Rref`` holds the reference radius (px) of samples 0 … n (padded to whole turns with −1e6);
    ``bg``/``amp`` the land level and the band's contrast per block (``nb`` blocks a turn, block of
    sample i = turn·nb + j·nb // N). With ``film`` the land under each pixel is instead the plane
    through what its eight neighbours say the film is, the band's top being ``alpha + beta·land``
    (``alpha`` per block): a radiograph's texture changes within a few pixels. Sectors
    ``sec_lo[s] ≤ j < sec_hi[s]`` with pixel bounding boxes ``boxes[s]`` (x0, x1, y0, y1) run in
    parallel, those of parity ``phase`` at once, so that no two threads add into the same sample.

    Each pixel within ``win`` px of its nearest turn's reference (at the pixel's own angle) is
    compared with the model: land + contrast × profile (``tab``: profile and its slope over |x|,
    ``tper`` entries a px). The residual and the slope make a Gauss–Newton equation for the groove's
    correction at the pixel's angle, which lies between two samples (linear weights): its normal
    equations go into ``acc`` (diagonal, upper diagonal, right side per sample). Pixels whose
    residual exceeds ``reject`` (in units of the contrast) are left out: dust, scratches. ``stats``
    per block: sums for fitting land (with its radial slope) and contrast (columns 0–8), and the
    slope's and the residual's energy (9, 10).
    """
    turns = Rref.shape[0] // N
    h, w = img.shape
    ns = sec_lo.shape[0]
    for si in numba.prange(ns // 2):
        sec = 2 * si + phase
        jlo = sec_lo[sec]
        jhi = sec_hi[sec]
        x0 = max(0, boxes[sec, 0] - 2)
        x1 = min(w - 1, boxes[sec, 1] + 2)
        y0 = max(0, boxes[sec, 2] - 1)
        y1 = min(h - 1, boxes[sec, 3] + 1)
        if x0 > x1 or y0 > y1:
            continue
        wid = x1 - x0 + 1
        pa = theta0 + sign * TWO_PI * jlo / N
        pb = theta0 + sign * TWO_PI * jhi / N
        if pa > pb:
            pa, pb = pb, pa
        ca, sa = math.cos(pa), math.sin(pa)
        cb, sb = math.cos(pb), math.sin(pb)
        mode = np.zeros((3, wid), np.int8)
        fv = np.zeros((3, wid, 9))
        iv = np.zeros((3, wid, 2), np.int64)
        for yy in range(y0, y1 + 2):
            if yy <= y1:
                sl = yy % 3
                _row(img, yy, x0, cx, cy, theta0, sign, N, Rref, n, turns, win, bg, amp, alpha, beta, nb, jlo, jhi,
                     ca, sa, cb, sb, r_min, r_max, light, tab, tper, film, mode[sl], fv[sl], iv[sl])
            y = yy - 1
            if y < y0:
                continue
            s = y % 3
            for k in range(wid):
                if mode[s, k] != 2:
                    continue
                v = fv[s, k, 0]
                pr = fv[s, k, 1]
                jac = fv[s, k, 2]
                d = fv[s, k, 3]
                a = fv[s, k, 4]
                i0 = iv[s, k, 0]
                q = iv[s, k, 1]
                lv = fv[s, k, 5]
                av = fv[s, k, 6]
                if film:
                    # the film under this pixel: the weighted plane through its neighbours' witnesses
                    sw = swx = swy = swxx = swyy = swxy = sv = svx = svy = 0.0
                    for ddy in range(-1, 2):
                        yn = y + ddy
                        if yn < y0 or yn > y1:
                            continue
                        sn = yn % 3
                        for ddx in range(-1, 2):
                            kn = k + ddx
                            if (ddx == 0 and ddy == 0) or kn < 0 or kn >= wid or mode[sn, kn] == 0:
                                continue
                            wt = fv[sn, kn, 8]
                            lw = fv[sn, kn, 7]
                            sw += wt
                            swx += wt * ddx
                            swy += wt * ddy
                            swxx += wt * ddx * ddx
                            swyy += wt * ddy * ddy
                            swxy += wt * ddx * ddy
                            sv += wt * lw
                            svx += wt * lw * ddx
                            svy += wt * lw * ddy
                    if sw > 0.5:
                        rg = 0.1 * sw + 1e-9
                        m11 = swxx + rg
                        m22 = swyy + rg
                        # the plane's value at the pixel (Cramer's rule for the 3 × 3 normal equations)
                        c00 = m11 * m22 - swxy * swxy
                        c01 = swxy * swy - swx * m22
                        c02 = swx * swxy - m11 * swy
                        det = sw * c00 + swx * c01 + swy * c02
                        if det > 1e-12:
                            lv = (c00 * sv + c01 * svx + c02 * svy) / det
                    av = av + (beta - 1.0) * lv
                    if av < 4.0:
                        av = 4.0
                stats[q, 0] += 1.0
                stats[q, 1] += d
                stats[q, 2] += d * d
                stats[q, 3] += pr
                stats[q, 4] += pr * pr
                stats[q, 5] += d * pr
                stats[q, 6] += v
                stats[q, 7] += v * d
                stats[q, 8] += v * pr
                eps = (v - lv) / av - pr
                if abs(eps) > reject:
                    continue                         # dust, a scratch: not the groove's profile
                jj = jac * jac
                if jj < 1e-6:
                    continue
                stats[q, 9] += jj
                stats[q, 10] += eps * eps * jj
                # Gauss–Newton: eps ≈ jac·((1 − a)·δ[i0] + a·δ[i0 + 1])
                acc[i0, 0, 0] += jj * (1.0 - a) * (1.0 - a)
                acc[i0, 0, 1] += jj * (1.0 - a) * a
                acc[i0, 0, 2] += jac * eps * (1.0 - a)
                acc[i0 + 1, 0, 0] += jj * a * a
                acc[i0 + 1, 0, 2] += jac * eps * a


@numba.njit(cache=True, inline="always", fastmath=True, error_model="numpy")
def _lookup(t, per_px, x):
    f = abs(x) * per_px                 # entries per px (a power of two: exact, and no division)
    i = int(f)
    if i >= t.shape[0] - 1:
        return t[t.shape[0] - 1]
    u = f - i
    return t[i] * (1.0 - u) + t[i + 1] * u


@numba.njit(cache=True, inline="always", fastmath=True, error_model="numpy")
def _prof(t, per_px, x):
    return _lookup(t[0], per_px, x)


@numba.njit(cache=True, inline="always", fastmath=True, error_model="numpy")
def _slope(t, per_px, x):
    g = _lookup(t[1], per_px, x)
    return g if x > 0 else -g


def profile_tables(hw, sigma, step=1 / 64):
    """Tables over |x| (px from the groove's centre) of the profile P (coverage of a one-pixel box
    by the band, blurred by a Gaussian of ``sigma`` px) and of −dP/dx·sign(x) = d(P)/d(centre)·sign."""
    from scipy.special import ndtr
    reach = hw + 0.5 + 5 * sigma + 2
    x = np.arange(0, reach + step, step)

    def f2(u, s):                       # second antiderivative of the Gaussian
        if s < 1e-3:
            return np.maximum(u, 0.0)
        z = u / s
        return u * ndtr(z) + s * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    def f1(u, s):
        return (u > 0).astype(float) if s < 1e-3 else ndtr(u / s)

    a, b = hw + 0.5, hw - 0.5
    p = f2(x + a, sigma) - f2(x + b, sigma) - f2(x - b, sigma) + f2(x - a, sigma)
    dp = f1(x + a, sigma) - f1(x + b, sigma) - f1(x - b, sigma) + f1(x - a, sigma)   # dP/dx
    tab = np.stack([p, -dp]).astype(np.float64)     # d(model)/d(centre) = −dP/dx; odd: stored for x > 0
    return tab, step


#: The k-th difference's coefficients, k = 2 and 3.
DIFFERENCES = (np.array([1.0, -2.0, 1.0]), np.array([-1.0, 3.0, -3.0, 1.0]))


@numba.njit(cache=True)
def solve_track(acc, side, n, lam, ref, out, diff):
    """The correction δ to the reference ``ref`` (samples 0 … n − 1) that best fits the pixels'
    normal equations in ``acc[:, side]`` (diagonal, upper diagonal, right side), with a prior of
    weight ``lam`` on the difference ``diff`` (its coefficients) of ``ref + δ``: a smooth,
    band-limited groove, its response falling as f⁴ above the cut-off for the second difference,
    f⁶ for the third; where no pixel saw a sample it is interpolated as a polynomial would.
    Banded LDLᵀ; writes ``out[0:n]``."""
    b = len(diff) - 1
    m = np.zeros((b + 1, n))            # m[k, i] = M[i, i + k]
    rhs = np.empty(n)
    for i in range(n):
        m[0, i] = acc[i, side, 0] + 1e-9
        m[1, i] = acc[i, side, 1] if i < n - 1 else 0.0
        rhs[i] = acc[i, side, 2]
    for k in range(n - b):               # rows of the difference: (k, …, k + b)
        d = 0.0
        for p in range(b + 1):
            d += diff[p] * ref[k + p]
        for p in range(b + 1):
            rhs[k + p] -= lam * diff[p] * d
            for q in range(p, b + 1):
                m[q - p, k + p] += lam * diff[p] * diff[q]
    # LDLᵀ in place: m[0] becomes D, m[k, i] becomes L[i + k, i]
    for i in range(n):
        dv = m[0, i]
        for k in range(1, b + 1):
            if i - k >= 0:
                dv -= m[k, i - k] * m[k, i - k] * m[0, i - k]
        m[0, i] = dv
        for k in range(1, b + 1):
            if i + k >= n:
                break
            v = m[k, i]
            for t in range(1, b + 1 - k):          # columns i − t, shared by rows i and i + k
                if i - t < 0:
                    break
                v -= m[k + t, i - t] * m[t, i - t] * m[0, i - t]
            m[k, i] = v / dv
    for i in range(n):                   # L y = rhs
        for k in range(1, b + 1):
            if i - k >= 0:
                rhs[i] -= m[k, i - k] * rhs[i - k]
    for i in range(n):
        rhs[i] /= m[0, i]
    for i in range(n - 1, -1, -1):       # Lᵀ x = y
        v = rhs[i]
        for k in range(1, b + 1):
            if i + k < n:
                v -= m[k, i] * out[i + k]
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


@numba.njit(cache=True)
def _fill(values, ok):
    """``values`` with the entries where ``ok`` is False interpolated from their neighbours (held
    flat beyond the first and last good entry, as np.interp does)."""
    n = values.size
    out = np.zeros_like(values)
    last = -1
    for i in range(n):
        if not ok[i]:
            continue
        if last < 0:
            for k in range(i):
                out[k] = values[i]
        else:
            for k in range(last + 1, i):
                t = (k - last) / (i - last)
                out[k] = values[last] * (1.0 - t) + values[i] * t
        out[i] = values[i]
        last = i
    if last >= 0:
        for k in range(last + 1, n):
            out[k] = values[last]
    return out


def _smooth_blocks(x, nb, k=3):
    """Moving average over ``k`` blocks along the groove (blocks in groove order)."""
    if x.size < k:
        return x
    pad = np.concatenate([x[:1].repeat(k // 2), x, x[-1:].repeat(k // 2)])
    c = np.cumsum(np.concatenate([[0.0], pad]))
    return ((c[k:] - c[:-k]) / k).astype(x.dtype)


def _solve_windows(acc, n, lam, ref, out, order=2, window=1 << 17, overlap=1 << 13):
    """:func:`solve_track` with a prior on the ``order``-th difference, over overlapping windows of
    samples (bounded memory; the prior couples samples only over a few dozen where pixels see the
    groove, so the windows' seams do not show)."""
    tmp = np.empty(min(n, window + 2 * overlap))
    for start in range(0, n, window):
        a, b = max(0, start - overlap), min(n, start + window + overlap)
        solve_track(acc[a:b], 0, b - a, lam, ref[a:b], tmp, DIFFERENCES[order - 2])
        stop = min(n, start + window)
        out[start:stop] = tmp[start - a:stop - a]


def _fit_levels(stats, bg, amp, nb, chunk=1 << 20):
    """Land level (with its radial slope) and band contrast per block: least squares of the pixels'
    grey levels v = bg0 + bg1·d + amp·ĉ(d), with ĉ the profile the reference predicts."""
    sol = np.zeros((len(stats), 3))
    ok = np.zeros(len(stats), bool)
    for a in range(0, len(stats), chunk):
        sol[a:a + chunk], ok[a:a + chunk] = _fit_chunk(stats[a:a + chunk])
    ok &= sol[:, 2] > 4.0
    if ok.sum() <= 2:
        return bg, amp
    out = np.empty_like(bg)
    out[:, 0] = _smooth_blocks(_fill(sol[:, 0], ok), nb)
    out[:, 1] = _smooth_blocks(_fill(sol[:, 1], ok), nb)
    return out, _smooth_blocks(_fill(sol[:, 2], ok), nb)


@numba.njit(cache=True)
def _fit_chunk(stats):
    """Per block, the least squares (bg0, bg1, amp) from the sums in ``stats`` (Cramer's rule) and
    whether the block had enough pixels on both land and band to pose it."""
    nb = stats.shape[0]
    sol = np.zeros((nb, 3))
    ok = np.zeros(nb, np.bool_)
    for q in range(nb):
        n = float(stats[q, 0])
        sd, sdd, sc, scc, sdc = float(stats[q, 1]), float(stats[q, 2]), float(stats[q, 3]), float(stats[q, 4]), float(stats[q, 5])
        sv, svd, svc = float(stats[q, 6]), float(stats[q, 7]), float(stats[q, 8])
        if not (n > 12 and sc > 2 and n - sc > 2):
            continue
        # [[n, sd, sc], [sd, sdd, sdc], [sc, sdc, scc]] · x = [sv, svd, svc]
        c00 = sdd * scc - sdc * sdc
        c01 = sdc * sc - sd * scc
        c02 = sd * sdc - sdd * sc
        det = n * c00 + sd * c01 + sc * c02
        if abs(det) <= 1e-6 * n * n * n:
            continue
        c11 = n * scc - sc * sc
        c12 = sd * sc - n * sdc
        c22 = n * sdd - sd * sd
        sol[q, 0] = (c00 * sv + c01 * svd + c02 * svc) / det
        sol[q, 1] = (c01 * sv + c11 * svd + c12 * svc) / det
        sol[q, 2] = (c02 * sv + c12 * svd + c22 * svc) / det
        ok[q] = True
    return sol, ok


class Track:
    """The result of :func:`follow`: radius (px) per sample, the intervals of samples coasted over
    rather than measured, the fraction of the coarse track's rays that found their band, and what
    was seen."""

    def __init__(self, radius, untrusted, rays_found, n_rays, turns, blur_px=0.0):
        self.radius = radius
        self.untrusted = untrusted      # (start, stop) sample intervals coasted over
        self.rays_found = rays_found
        self.n_rays = n_rays
        self.turns = turns
        self.blur_px = blur_px    # the picture's blur σ the fit found (px)


def follow(img, cx, cy, theta0, sign, N, r_start, width_px, land_px, *, n_samples=None, r_end=None,
           light=True, passes=2, lam=30.0, block_rays=2.0, ring_turns=12, release=None, denoise=0.5,
           fit_width=False):
    """Follow the groove from ``r_start`` (px, at phase 0) inward: radius (px) at every sample.

    ``n_samples``: how many samples to read (record.json); otherwise the groove is followed until it
    locks (stops moving inward) or is lost for half a turn. ``r_end``: a radius (px) the groove does
    not go inside. ``passes`` over the band's pixels; ``lam``: weight of the smoothness prior at the
    pixels' noise ``NOISE_REF`` (scaled with the noise squared); ``block_rays``: rays per block of fitted land
    level and contrast. The coarse track is linked and the fine fit run ring by ring, ``ring_turns``
    turns at a time with a turn either side for their neighbours, so the working memory is a ring's,
    not the side's: what is kept is the radius (float32, as the fit works: a step of 5·10⁻⁴ px at
    6000 px) of every sample, and where the track coasted. ``release``, if given, is called before
    each ring with the radius (px) outside which the picture will not be read again
    (:class:`~izdat.optical._load.RowRelease`). Each ring is fitted twice from the same pixels, with
    the prior and at ``FINE_SHARE`` of it (``FINE_SHARE_BLURRED`` on a blurred picture); the two
    are blended by the data's own Wiener gain at ``denoise`` (0–1; :func:`~izdat.optical._wiener.blend`). With ``fit_width`` (a width the spiral
    finder guessed) the width is fitted on the outer turns too (:func:`_fit_width`).
    """
    theta0 = float(theta0) % TWO_PI                 # the engines turn angles into [0, 2π) by ±2π steps
    hw = 0.5 * float(width_px)
    pitch = float(width_px) + max(float(land_px), 0.5)          # px, the closest two turns come
    c = CoarseTrack(img, cx, cy, theta0, sign, N, r_start, width_px, land_px, n_samples=n_samples, r_end=r_end,
                    light=light)
    B = c.B
    nb = 64 * max(1, int(round(B / 64 / block_rays)))
    ahead = 5 * B                                  # rays linked beyond a ring: its last turn and the levels' reach

    def samples():                                 # samples to read, as far as known
        if n_samples is not None:
            return int(n_samples)
        return int((c.linked - 1) * N // B) if c.done else int((c.n_seq - 1) * N // B)

    c.advance((CALIBRATE_TURNS + 1) * B + ahead)
    if (c.done and c.linked < B // 2) or (c.land[:c.linked] >= 0).sum() < 2:
        return Track(np.zeros(0, np.float32), np.zeros((0, 2), np.int64), 0.0, B, 0)
    n = samples()
    # while its end is not known, the radius is as long as the groove could be (the coarse track
    # stops where it moves in less than a quarter groove a turn): pages never written are never
    # mapped, and it is cut to the groove's length at the end
    radius = np.empty(n, np.float32)
    fine_less_smooth = np.empty(n, np.float16) if passes > 1 else None
    gaps, found, seen = [], 0, 0
    st = _ring(c, N, nb, n, 0, min(-(-(n + 1) // N), CALIBRATE_TURNS))
    sigma = _calibrate(img, cx, cy, theta0, sign, N, hw, light, lam, st)
    if fit_width:
        # a guessed width trades against the blur (a band too wide looks blurred): the width whose
        # model leaves the least residual at that blur, then the blur again at that width
        hw = _fit_width(img, cx, cy, theta0, sign, N, hw, light, lam, st, sigma)
        if hw != 0.5 * float(width_px):
            st = _ring(c, N, nb, n, 0, min(-(-(n + 1) // N), CALIBRATE_TURNS))
            sigma = _calibrate(img, cx, cy, theta0, sign, N, hw, light, lam, st)
    t0 = 0
    while t0 * N < n:
        c.release((t0 - 1) * B - ahead)           # what the last ring needed and this one does not
        c.advance((t0 + ring_turns + 1) * B + ahead)
        n = samples()
        turns = -(-(n + 1) // N)
        if t0 >= turns:
            break
        lo, hi = max(0, t0 - 1), min(turns, t0 + ring_turns + 1)
        if release is not None:   # the groove only goes in: no later ring reads outside this one's outermost
            # turn, its outer neighbour (a pitch), the band's half-width, the blur's reach and the pass's margins
            release(float(np.max(c.R[lo * B - c.base:c.linked - c.base])) + pitch + hw + 5 * sigma + 8)
        st = _ring(c, N, nb, n, lo, hi)
        st["sigma"] = sigma
        start = st["Rref"].copy()
        _passes(img, cx, cy, theta0, sign, N, hw, light, passes, lam, st)
        a, b = t0 * N, min(n, (t0 + ring_turns) * N)
        fine, coarse = st["Rref"][a - lo * N:b - lo * N], start[a - lo * N:b - lo * N]
        # the fine fit may not take the groove to its neighbour's place (a picture too coarse or too
        # blurred for the pixels to hold the groove): there the coarse track stands, untrusted
        lost = ~(np.abs(fine - coarse) < 0.5 * pitch)
        radius[a:b] = np.where(lost, coarse, fine)
        if fine_less_smooth is not None:
            fine_less_smooth[a:b] = np.where(lost, 0.0, st["fine"][a - lo * N:b - lo * N] - fine)
        del st, start, fine, coarse
        rays = np.minimum(np.rint(np.arange(a, b) * (B / N)).astype(np.int64), c.linked - 1) - c.base
        gaps.append(_runs(~c.found[rays] | lost) + a)
        del rays, lost
        k0, k1 = a * B // N, min(c.linked, -(-b * B // N))
        found += int(c.found[k0 - c.base:k1 - c.base].sum())
        seen += k1 - k0
        t0 += ring_turns
    radius.resize(n, refcheck=False)         # the groove's end may lie in a ring already read
    if fine_less_smooth is not None:
        fine_less_smooth.resize(n, refcheck=False)
        _wiener.blend(radius, fine_less_smooth, float(denoise), blur_px=sigma, samples_per_rev=N)
        del fine_less_smooth
    gaps = np.minimum(_merge(gaps), n)
    return Track(radius, gaps[gaps[:, 0] < n], found / max(seen, 1), B, -(-(n + 1) // N), sigma)


def _runs(flag):
    """The (start, stop) intervals where ``flag`` is set."""
    edges = np.flatnonzero(np.diff(flag, prepend=False, append=False))
    return edges.reshape(-1, 2)


def _merge(runs):
    """Intervals from consecutive pieces, those that meet at a piece's edge joined."""
    runs = np.concatenate(runs) if runs else np.zeros((0, 2), np.int64)
    if len(runs) < 2:
        return runs
    keep = np.concatenate([[True], runs[1:, 0] != runs[:-1, 1]])
    starts = runs[keep, 0]
    stops = runs[np.concatenate([keep[1:], [True]]), 1]
    return np.stack([starts, stops], 1)


def _ring(c, N, nb, n, lo, hi):
    """The fit's state for turns ``lo`` to ``hi`` (samples ``lo·N`` … ``min(n, hi·N)``): the reference
    radius at every sample from the coarse rays of ``c`` (linear between them), land and top per
    block from the rays' (``nb`` blocks a turn). Only the rays of these turns (and four turns either
    side, for the levels) are looked at."""
    B, base = c.B, c.base
    a, b = lo * N, min(n, hi * N)
    Rref = np.full((hi - lo) * N + 1, -1e6, np.float32)
    last = c.linked - 1
    for s0 in range(a, b + 1, 1 << 16):                          # linear between rays, a slice at a time
        pos = np.arange(s0, min(b + 1, s0 + (1 << 16))) * (B / N)  # the samples, in rays
        k = np.minimum(pos.astype(np.int64), last - 1)
        f = np.minimum(pos - k, 1.0)                              # held flat past the last ray, as np.interp does
        Rref[s0 - a:s0 - a + len(pos)] = c.R[k - base] * (1.0 - f) + c.R[k + 1 - base] * f
    pos = (np.arange(lo * nb, hi * nb) + 0.5) * (B / nb)          # the blocks' centres, in rays
    r0, r1 = max(base, int(pos[0]) - 4 * B), min(c.linked, int(pos[-1]) + 4 * B)
    land, top = c.land[r0 - base:r1 - base], c.top[r0 - base:r1 - base]
    idx = np.flatnonzero(land >= 0)
    if len(idx) < 2:
        land, top, r0 = c.land[:c.linked - base], c.top[:c.linked - base], base
        idx = np.flatnonzero(land >= 0)
    bg = np.zeros(((hi - lo) * nb, 2))
    bg[:, 0] = np.interp(pos, idx + r0, land[idx])
    amp = np.maximum(np.interp(pos, idx + r0, top[idx]) - bg[:, 0], 4.0)
    return dict(Rref=Rref, n=b - a, turns=hi - lo, nb=nb, bg=bg, amp=amp)


def _film_law(bg, amp, nb, k=65, beta=None):
    """The band's top as a straight line of the film under it, ``top = alpha + beta·land``: ``beta``
    from how the blocks' tops follow their lands (a radiograph's shapes span the film's range),
    ``alpha`` per block, smoothed over ``k`` blocks (a picture's lighting changes slowly) (izdat's renders: alpha = 0.45 × 255, beta = 0.55)."""
    land = bg[:, 0]
    top = land + amp
    if beta is not None:
        return _smooth_blocks(top - beta * land, nb, k), beta
    dl = land - land.mean()
    dt = top - top.mean()
    # a film without texture cannot tell: then the band is as much lighter on any film (beta = 1),
    # as if one grey level of spread in every block said so
    mu = float(len(land))
    beta = float((np.dot(dl, dt) + mu) / (np.dot(dl, dl) + mu))
    beta = min(max(beta, 0.1), 1.5)          # a band darker than its film, or ten times lighter: no
    return _smooth_blocks(top - beta * land, nb, k), beta


#: Blurs (px) tried on the outer CALIBRATE_TURNS turns, and the blur under which a picture counts as sharp.
SIGMAS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)
SHARP_PX = 0.3
#: The pixels' residual (in units of the band's contrast) at which the prior weighs ``lam``.
NOISE_REF = 0.012
#: The fine fit's share of the prior's weight (λ 30 → 0.03). Measured at 1200 DPI: a bright melody cut
#: with the lathe's defaults, at 4 kHz, −19 dB at the full weight, −2.8 at 1/10, −0.4 at 1/100; a held
#: 3 kHz tone on the inner turns of a 120 mm record −3.9 dB at 1/100, −0.9 at 1/1000. Blurred pictures
#: (the third difference, already scaled by the pixels' information) take 1/100: at 1/1000 the aged
#: tone's noise came through the blend (30.1 → 27.1 dB).
FINE_SHARE = 0.001
FINE_SHARE_BLURRED = 0.01
CALIBRATE_TURNS = 8


def _calibrate(img, cx, cy, theta0, sign, N, hw, light, lam, st):
    """The picture's blur σ (px), chosen on the turns of ``st`` (the outer ones): two passes over
    their groove, then one more from there for each σ in ``SIGMAS`` (with the film read pixel by
    pixel for the sharp ones, by blocks for the blurred, as the passes will); the σ whose model
    leaves the least residual wins (the vertex of the parabola through it and its neighbours). Under
    ``SHARP_PX`` the residual cannot tell a blur from the film's texture: the picture is sharp (0)."""
    st["sigma"] = SIGMAS[len(SIGMAS) // 2]
    for p in range(2):
        _pass(img, cx, cy, theta0, sign, N, hw, light, lam, st, first=p == 0, film=p > 0)
    tried = []
    for sg in SIGMAS:             # one more pass each from the same start: how well each blur explains the pixels
        trial = dict(st, Rref=st["Rref"].copy(), sigma=sg)
        tried.append(_pass(img, cx, cy, theta0, sign, N, hw, light, lam, trial, first=False, film=sg < SHARP_PX))
    sigma = _least(SIGMAS, tried)
    return 0.0 if sigma < SHARP_PX else sigma


def _least(xs, ys):
    """The ``x`` of the least ``y`` (non-finite ``y`` count as infinite), refined to the vertex of the
    parabola through it and its neighbours (kept between them)."""
    ys = [y if math.isfinite(y) else math.inf for y in ys]
    k = int(np.argmin(ys))
    x = xs[k]
    if 0 < k < len(ys) - 1:
        (x0, x1, x2), (y0, y1, y2) = xs[k - 1:k + 2], ys[k - 1:k + 2]
        num = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)
        den = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
        if den != 0:
            x = float(min(max(x1 - 0.5 * num / den, x0), x2))
    return x


#: Widths tried against the spiral finder's guess (its half-height width read 5 % wide on a clean
#: izdat render: 5.97 px for 5.67, and the blur found for it, 0.42 px, cost 23.2 → 14.7 dB).
WIDTH_FACTORS = (0.9, 0.95, 1.0, 1.05)


def _fit_width(img, cx, cy, theta0, sign, N, hw, light, lam, st, sigma):
    """The half-width (px) among ``hw`` × ``WIDTH_FACTORS`` whose model, at blur ``sigma``, leaves the
    least residual on the turns of ``st``, one pass each from the same start (the vertex of the
    parabola through the best and its neighbours)."""
    tried = []
    for f in WIDTH_FACTORS:
        trial = dict(st, Rref=st["Rref"].copy(), sigma=sigma)
        tried.append(_pass(img, cx, cy, theta0, sign, N, hw * f, light, lam, trial, first=False,
                           film=sigma < SHARP_PX))
    return hw * _least(WIDTH_FACTORS, tried)


def _passes(img, cx, cy, theta0, sign, N, hw, light, passes, lam, st):
    """``passes`` over the pixels of the turns in ``st`` at its blur σ. The film under each pixel is
    read from its neighbours only where the picture is sharp enough to show it; a blurred picture's
    pixels mix film and groove, and the blocks' levels do better. The last pass also gives the fine
    fit (``st["fine"]``, see :mod:`~izdat.optical._wiener`)."""
    sharp = st["sigma"] == 0.0
    for p in range(passes):
        _pass(img, cx, cy, theta0, sign, N, hw, light, lam, st, first=p == 0, film=sharp and p > 0,
              fine_too=p == passes - 1 and p > 0)


def _pass(img, cx, cy, theta0, sign, N, hw, light, lam, st, *, first, film, r_lo=None, fine_too=False):
    """One pass over the pixels from radius ``r_lo`` (px) outward: the groove ``st["Rref"]`` corrected,
    then the land and contrast per block, the film's law and the blur σ refitted. With ``fine_too``
    the same pixels are also solved at ``FINE_SHARE`` of the prior's weight, into ``st["fine"]``."""
    Rref, n, turns, nb, bg, amp, sigma = st["Rref"], st["n"], st["turns"], st["nb"], st["bg"], st["amp"], st["sigma"]
    n_sec = 64
    r_lo_px = float(np.min(Rref[:n + 1])) - hw - 3.0 if r_lo is None else r_lo
    r_hi_px = float(np.max(Rref[:n + 1])) + hw + 3.0
    sec_lo, sec_hi, boxes = sectors(cx, cy, theta0, sign, N, n_sec, max(r_lo_px, 0.0), r_hi_px)
    acc = np.zeros((turns * N + 1, 1, 3), np.float32)
    stats = np.zeros((turns * nb, 11), np.float32)
    tab, step = profile_tables(hw, sigma)
    tper = 1.0 / step                   # entries per px: the engines multiply (step is a power of two)
    win = hw + 1.0 + 2.0 * sigma + (0.5 if first else 0.0)
    reject = 0.6 if first else 0.3
    alpha, beta = _film_law(bg, amp, nb, beta=st.get("beta")) if film else (amp, 1.0)
    for phase in (0, 1):
        fine_pass(img, float(cx), float(cy), float(theta0), float(sign), N, Rref, n, hw, win, bg, amp, alpha,
                  float(beta), film, nb, boxes, sec_lo, sec_hi, phase, max(r_lo_px, 0.0), r_hi_px, bool(light), tab,
                  tper, reject, acc, stats)
    off = np.zeros(n + 1, np.float32)
    flat = np.zeros(n + 1, np.float32) if fine_too else None
    # the prior's weight follows the pixels' noise (as a Wiener filter's would): a noisy or blurred
    # picture is read smoother, a clean one finer. Floored at a hundredth of the weight at NOISE_REF
    # for the solver's sake only: held at that weight (as before), a settled fit of a noise-free
    # picture was cut at ≈ 2.4 kHz on the outer turns (music at 2400 DPI, 3 passes: 26.0 → 30.6 dB)
    noise = math.sqrt(stats[:, 10].sum() / max(stats[:, 9].sum(), 1e-9))
    lam_p = lam if first else lam * min(max((noise / NOISE_REF) ** 2, 0.01), 40.0)
    if first or sigma < SHARP_PX:
        _solve_windows(acc, n + 1, lam_p, Rref, off)
        if fine_too:
            _solve_windows(acc, n + 1, lam_p * FINE_SHARE, Rref, flat)
    else:
        # blurred: the pixels say little per sample and the prior's cut-off falls within the audio
        # band; the third difference cuts at the same place (where the second's halves the groove,
        # ω0⁴ = S/λ, S the pixels' weight per sample) but falls faster above it
        info = float(np.median(acc[:n + 1:16, 0, 0] + 2.0 * acc[:n + 1:16, 0, 1]))
        lam3 = lam_p * math.sqrt(lam_p / info) if info > 0 else lam_p
        _solve_windows(acc, n + 1, lam3, Rref, off, order=3)
        if fine_too:
            _solve_windows(acc, n + 1, lam3 * FINE_SHARE_BLURRED, Rref, flat, order=3)
    if fine_too:
        flat += Rref[:n + 1]
        st["fine"] = flat
    Rref[:n + 1] += off
    # land and contrast per block, fitted to the pixels on the profile predicted
    bg, amp = _fit_levels(stats, bg, amp, nb)
    if sigma >= SHARP_PX:
        # under blur a land level sloping across the block mimics a shift of the groove (both are odd
        # about its centre): fitted per block it takes up the groove's low tones (the land is flat)
        bg[:, 1] = 0.0
    st.update(bg=bg, amp=amp, sigma=sigma, beta=beta if film else st.get("beta"))
    return noise
