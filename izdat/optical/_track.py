"""Numba engines of the optical reader: bilinear sampling of uint8 pixels, radial profiles, and the
groove tracker that follows one spiral from its start to the locked groove.

Coordinates: pixel centres at integer (x, y), x right, y down; angles counter-clockwise as seen in
the picture, so a point at radius r and angle θ about (cx, cy) is (cx + r·cos θ, cy − r·sin θ).
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Tracker outcome codes per sample.
GOOD, COASTED, PROFILE = 0, 1, 2


@numba.njit(cache=True, inline="always")
def bilinear(img, x, y):
    """Grey level (0–255) at (x, y); −1 outside the picture."""
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


@numba.njit(cache=True)
def _walls(prof, step, core):
    """Both walls of the band in a profile centred on the prediction: returns (centre offset, width,
    contrast) in profile steps' units scaled by ``step``, or width −1 if no band was found.

    The plateau is the profile's top near the middle; each wall is where the profile crosses half
    way between the plateau and the land beside it (the least value on that side), interpolated.
    Averaging the two walls cancels any error common to both (threshold, blur, lighting slope).
    """
    m = prof.shape[0]
    mid = m // 2
    kp = mid
    top = -1.0
    for k in range(max(1, mid - core), min(m - 1, mid + core + 1)):
        v = (prof[k - 1] + 2.0 * prof[k] + prof[k + 1]) * 0.25
        if v > top:
            top = v
            kp = k
    if prof[kp] > top:
        top = prof[kp]
    lo_in = 1e9
    for k in range(0, kp):
        if prof[k] < lo_in:
            lo_in = prof[k]
    lo_out = 1e9
    for k in range(kp + 1, m):
        if prof[k] < lo_out:
            lo_out = prof[k]
    if lo_in > 1e8 or lo_out > 1e8:
        return 0.0, -1.0, 0.0, 0.0
    t_in = 0.5 * (top + lo_in)
    t_out = 0.5 * (top + lo_out)
    k = kp
    while k > 0 and prof[k - 1] >= t_in:
        k -= 1
    if k == 0:
        return 0.0, -1.0, 0.0, 0.0
    a = prof[k - 1]
    b = prof[k]
    wall_in = (k - 1) + (t_in - a) / (b - a) if b != a else k - 0.5
    k = kp
    while k < m - 1 and prof[k + 1] >= t_out:
        k += 1
    if k == m - 1:
        return 0.0, -1.0, 0.0, 0.0
    a = prof[k]
    b = prof[k + 1]
    wall_out = k + (a - t_out) / (a - b) if b != a else k + 0.5
    centre = (0.5 * (wall_in + wall_out) - mid) * step
    land = 0.5 * (lo_in + lo_out)
    return centre, (wall_out - wall_in) * step, top - land, land


@numba.njit(cache=True)
def _solve3(a, v):
    """Solve the 3 × 3 system a·x = v (Cramer); returns x and whether it was well posed."""
    det = (a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1]) - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
           + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]))
    x = np.zeros(3)
    if abs(det) < 1e-9:
        return x, False
    for k in range(3):
        m = a.copy()
        m[:, k] = v
        x[k] = (m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]) - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
                + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0])) / det
    return x, True


@numba.njit(cache=True)
def walls2d(img, cx, cy, c, s, r_w, half_w, half_t, land, top, ramp, incline, light, buf):
    """Centre radius (px) of the band near radius ``r_w`` on the ray (c, s) = (cos θ, sin θ), from
    both of its walls, each fitted to the pixels on it.

    Every pixel within about ``half_t`` px along the groove and near either expected wall
    (``r_w ± half_w``) is put at its exact radius and its grey level turned into coverage (0 at the
    ``land`` level, 1 at the band's ``top``). A part-covered pixel lies on its wall's ramp, a straight
    line ``ramp`` px wide (1 for a sharp picture: a scanner integrates over each pixel's area), so it
    says where coverage is ½ there: the wall. A least-squares fit of those places gives the two walls
    and the groove's incline along the window (the modulation tilts it); pixels that disagree (dust,
    a neighbour's wall) are dropped and the fit repeated. Blur widens the ramp alike on both walls,
    and the mean of the two walls stays put.

    Returns (centre, width, incline) in px, or (−1, −1, 0) when a wall has no pixel on its ramp.
    ``incline`` is the guess used when the window holds too few pixels to fit it.
    """
    h, w = img.shape
    px = cx + r_w * c
    py = cy - r_w * s
    ext = half_w + 1.5 + half_t + 1.0
    x0 = max(0, int(math.floor(px - ext)))
    x1 = min(w - 1, int(math.ceil(px + ext)))
    y0 = max(0, int(math.floor(py - ext)))
    y1 = min(h - 1, int(math.ceil(py + ext)))
    span = top - land
    if span <= 1.0:
        return -1.0, -1.0, incline
    cap = buf.shape[0]
    n = 0
    reach = 0.5 * ramp + 0.45          # ramp pixels lie within half a ramp of their wall
    for y in range(y0, y1 + 1):
        dy = cy - y
        for x in range(x0, x1 + 1):
            dx = x - cx
            tt = -dx * s + dy * c
            wt = 1.0 - abs(tt) / half_t
            if wt <= 0.0:
                continue
            xr = math.sqrt(dx * dx + dy * dy) - r_w - incline * tt
            if abs(xr + half_w) <= reach:
                side = 0
            elif abs(xr - half_w) <= reach:
                side = 1
            else:
                continue
            v = float(img[y, x])
            if not light:
                v = 255.0 - v
            cov = (v - land) / span
            if cov < 0.01 or cov > 0.99 or n >= cap:
                continue
            # where coverage is ½ on this pixel's wall (coverage rises towards the band's middle)
            wall = xr + (0.5 - cov) * ramp if side == 0 else xr - (0.5 - cov) * ramp
            buf[n, 0] = side
            buf[n, 1] = wall + incline * tt       # back to plain radius offset: fit the incline here
            buf[n, 2] = tt
            buf[n, 3] = wt * (min(cov, 1.0 - cov) + 0.02)   # trust the middle of the ramp most
            n += 1
    # a neighbour's wall or a speck lands some pixels far from the rest: keep those near each
    # side's median place
    for sd in range(2):
        cnt = 0
        for k in range(n):
            if int(buf[k, 0]) == sd:
                cnt += 1
        if cnt == 0:
            continue
        vals = np.empty(cnt)
        cnt = 0
        for k in range(n):
            if int(buf[k, 0]) == sd:
                vals[cnt] = buf[k, 1] - incline * buf[k, 2]
                cnt += 1
        med = np.median(vals)
        for k in range(n):
            if int(buf[k, 0]) == sd and abs(buf[k, 1] - incline * buf[k, 2] - med) > 0.3 * ramp + 0.15:
                buf[k, 3] = 0.0
    a = np.zeros((3, 3))
    v3 = np.zeros(3)
    sol = np.zeros(3)
    for rnd in range(2):
        a[:, :] = 0.0
        v3[:] = 0.0
        cnt0 = 0.0
        cnt1 = 0.0
        for k in range(n):
            wk = buf[k, 3]
            if wk <= 0.0:
                continue
            sd = int(buf[k, 0])
            tt = buf[k, 2]
            if sd == 0:
                cnt0 += wk
            else:
                cnt1 += wk
            # unknowns: wall_in, wall_out, incline; row: [1-sd, sd, tt]
            r0 = 1.0 - sd
            r1 = float(sd)
            a[0, 0] += wk * r0
            a[1, 1] += wk * r1
            a[0, 2] += wk * r0 * tt
            a[1, 2] += wk * r1 * tt
            a[2, 2] += wk * tt * tt
            v3[0] += wk * r0 * buf[k, 1]
            v3[1] += wk * r1 * buf[k, 1]
            v3[2] += wk * tt * buf[k, 1]
        if cnt0 <= 0.0 or cnt1 <= 0.0:
            return -1.0, -1.0, incline
        a[2, 0] = a[0, 2]
        a[2, 1] = a[1, 2]
        # a weak prior on the incline keeps the fit posed when the pixels barely spread along the groove
        prior = 0.05 * (cnt0 + cnt1)
        a[2, 2] += prior
        v3[2] += prior * incline
        sol, ok = _solve3(a, v3)
        if not ok:
            return -1.0, -1.0, incline
        if rnd == 0:
            for k in range(n):
                pred = (sol[0] if buf[k, 0] == 0 else sol[1]) + sol[2] * buf[k, 2]
                if abs(buf[k, 1] - pred) > 0.35 * ramp + 0.1:
                    buf[k, 3] = 0.0
    return r_w + 0.5 * (sol[0] + sol[1]), sol[1] - sol[0], sol[2]


@numba.njit(cache=True)
def track(img, cx, cy, cos_t, sin_t, r_start, n_samples, half_win, step, width_px, min_sep, n_tan,
          tan_px, light, stop_on_lock, radius, status, width, contrast):
    """Follow the groove sample by sample from radius ``r_start`` (px).

    Sample i lies at angle index ``i mod n_rev`` of the tables ``cos_t``/``sin_t`` (one turn, in
    the groove's direction). At each sample a radial profile (``n_tan`` rays ``tan_px`` apart
    along the groove, averaged) around the predicted radius gives both walls; the groove centre is
    their mean. A sample whose band is missing, too faint, of the wrong width, or closer than
    ``min_sep`` px to the previous turn (the neighbour) is not trusted: the track coasts on its
    recent slope instead, so it never jumps to a neighbouring groove.

    Returns the number of samples tracked (less than ``n_samples`` if ``stop_on_lock`` and the
    groove stopped advancing inward: the locked groove).
    """
    n_rev = cos_t.shape[0]
    K = int(math.ceil(half_win / step))
    m = 2 * K + 1
    prof = np.empty(m, np.float64)
    core = max(1, int(0.5 * width_px / step))
    r = r_start
    slope = 0.0            # px per sample (negative: inward)
    good_contrast = 0.0
    land = -1.0
    top = -1.0
    ramp = 1.0
    incline = 0.0
    half_wd = 0.5 * width_px
    buf = np.empty((512, 4))
    half_r = 0.5 * width_px + max(0.6, min(half_win - 0.5 * width_px, 1.5))
    half_t = max(1.0, tan_px * n_tan * 0.5)
    tan_px_sample = tan_px * n_tan
    lock_run = 0
    lock_len = n_rev // 4
    lost = 0
    for i in range(n_samples):
        j = i % n_rev
        c = cos_t[j]
        s = sin_t[j]
        r_pred = r + slope
        # radial profile, averaged over n_tan rays along the groove
        for k in range(m):
            prof[k] = 0.0
        ok = True
        for t in range(n_tan):
            off = (t - 0.5 * (n_tan - 1)) * tan_px
            bx = cx + r_pred * c - off * s
            by = cy - r_pred * s - off * c
            for k in range(m):
                rr = (k - K) * step
                v = bilinear(img, bx + rr * c, by - rr * s)
                if v < 0.0:
                    ok = False
                    v = 0.0
                elif not light:
                    v = 255.0 - v
                prof[k] += v
        d, wd, ct, lnd = _walls(prof, step, core)
        ct /= n_tan
        lnd /= n_tan
        seen = ok and wd > 0.0 and 0.5 * width_px <= wd <= 1.6 * width_px
        if seen and good_contrast > 0.0 and ct < 0.35 * good_contrast:
            seen = False
        if seen:
            land = lnd if land < 0.0 else 0.7 * land + 0.3 * lnd
            top = (lnd + ct) if top < 0.0 else 0.7 * top + 0.3 * (lnd + ct)
        r_c = -1.0
        w_c = -1.0
        inc = incline
        if land >= 0.0:
            r_c = r_pred
            for it in range(2):
                r_it, w_c, inc = walls2d(img, cx, cy, c, s, r_c, half_wd, half_t, land, top, ramp, incline,
                                         light, buf)
                if r_it < 0.0:   # no pixel on a wall's ramp here (a wall on a pixel boundary): look wider
                    r_it, w_c, inc = walls2d(img, cx, cy, c, s, r_c, half_wd, 2.0 * half_t, land, top, ramp,
                                             incline, light, buf)
                if r_it < 0.0:
                    r_c = -1.0
                    break
                r_c = r_it
        code = GOOD
        r_new = r_c
        if r_c < 0.0 or abs(r_c - r_pred) > 0.35 * width_px or not 0.6 * width_px <= w_c <= 1.5 * width_px:
            code = PROFILE                                  # the walls fit failed: the profile's walls
            r_new = r_pred + d
            if not seen or abs(d) > 0.35 * width_px:
                code = COASTED
        if code != COASTED and i >= n_rev and r_new > radius[i - n_rev] - min_sep:
            code = COASTED                                  # that would be the previous turn
        if code == GOOD:
            incline = min(1.0, max(-1.0, inc))
            half_wd = 0.99 * half_wd + 0.01 * 0.5 * w_c
        if code != COASTED:
            slope = 0.995 * slope + 0.005 * (r_new - r)
            r = r_new
            if seen:
                good_contrast = ct if good_contrast == 0.0 else 0.999 * good_contrast + 0.001 * ct
        else:
            r = r_pred
            incline = 0.0
        status[i] = code
        radius[i] = r
        width[i] = wd
        contrast[i] = ct
        lost = lost + 1 if code == COASTED else 0
        if stop_on_lock and lost > n_rev // 2:     # half a turn without a groove: it has ended
            return i + 1 - lost
        if stop_on_lock and i >= n_rev:
            if radius[i - n_rev] - r < 0.25 * width_px:
                lock_run += 1
                if lock_run > lock_len:
                    return i + 1
            else:
                lock_run = 0
    return n_samples
