"""An experimental spiral finder for pictures of any look (issue 14 item 1, coarse stage); NOT yet
used by the reader (``_read`` still calls :func:`izdat.optical._centre.find_spiral`).

Instead of summing the shifts between neighbouring rays (which underestimates the pitch when few
turns are seen and locks onto steps such as a film's rim), it works on each ray's sample-to-sample
step (a step in level is one spike with a flat spectrum; grooves are a periodic train):

1. the band of grooves from the rays' mean squared step; the centre first from the band's own circle;
2. the strongest period in the band, and the winding of its phase round the circle: a spiral's
   m-th harmonic winds m times, so the pitch is counted (winding / frequency), never a multiple;
3. the centre from the first harmonic of that phase (seen from d off the centre every radius reads
   r + d·u(θ)), iterated; the pitch refined by the phase gained over long lags along the rays;
4. the look: the picture folded at the pitch by that phase gives the mean cross-section, against the
   film's level just inside the band: light or dark, band, hairline or walls.

Measured (tests/makers, 2 s of speech at 1200 DPI, 0.4 mm pitch, centre 2.5/−1.5 mm off the
picture's): hairline centre within 0.03 px, pitch +0.54 %, polarity dark; flatbed centre 3.4 px off,
pitch −1.4 %; transmission fails (the phase winding alternates 3/5 at its third harmonic). The start
angle from ``_centre._start`` is wrong on all three (12–178°). See the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, signal

from izdat.errors import PictureError
from izdat.optical import _profiles
from izdat.optical._centre import SpiralGuess, _band_limits, _coarse_centre, _groove_width, _highpass, _start

__all__ = ["SpiralGuess", "find_spiral_any"]


#: Rays round the circle the spiral is measured on (enough that a centre a few millimetres off moves
#: the groove's phase by well under half a turn from one ray to the next).
N_RAYS = 1440
#: Length (m) of the running mean taken off each ray: over three times the longest pitch looked for,
#: so only the turns' texture is left and the box filter's ripple lies below the periods searched.
HIGHPASS_M = 5e-3
#: Periods (m) the spiral's pitch is looked for between: a 600 lpi microgroove (42 µm) to 1.5 mm
#: (78s: 254–339 µm; sndcut's defaults 650 µm; izdat's own lead-outs, a few mm, are not the programme).
PERIOD_RANGE_M = (40e-6, 1.5e-3)
#: Median phase step (rad) from ray to ray below which a frequency's phase is followed, not noise
#: (noise: about π/2; a spiral's: a few hundredths). Measured on the test pictures, see the tests.
ROUGH = 0.35
DEBUG = False


@dataclass(frozen=True)
class Look:
    """What the groove looks like across (found from the picture): ``light`` (lighter than the film),
    a ``name``, its ``width_px``, the film's grey level and the mean cross-section over one pitch
    (``profile``, grey levels, the groove's fundamental peak at index 0)."""

    light: bool
    name: str
    width_px: float
    film: float
    profile: np.ndarray


def _texture(prof):
    """Each ray's step from one sample to the next (float32, in place of ``prof``; 0 where either
    sample is outside the picture): the turns' edges as a periodic train, while a step in the
    picture's level (the film's rim, a hole, the light box) is a single spike whose spectrum is flat."""
    out = np.zeros_like(prof)
    out[:, 1:] = prof[:, 1:] - prof[:, :-1]
    out[:, 1:][(prof[:, 1:] < 0) | (prof[:, :-1] < 0)] = 0.0
    return out


def _strongest_period(prof, step, px_per_m):
    """The spatial frequency (cycles per px) of the strongest periodic texture along the rays: the
    peak of their mean power spectrum over its running median."""
    rows = prof[:: max(1, len(prof) // 360)].astype(np.float64)
    n = rows.shape[1]
    nfft = 1 << int(math.ceil(math.log2(2 * n)))
    power = np.zeros(nfft // 2 + 1)
    for a in range(0, len(rows), 32):
        power += (np.abs(np.fft.rfft(rows[a:a + 32], nfft, axis=1)) ** 2).sum(axis=0)
    f = np.fft.rfftfreq(nfft, step)                     # cycles per px
    lo, hi = 1.0 / (PERIOD_RANGE_M[1] * px_per_m), min(1.0 / (PERIOD_RANGE_M[0] * px_per_m), 1 / 3.0)
    score = power / (ndimage.median_filter(power, 63) + 1e-12 * power.max())
    ok = (f >= lo) & (f <= hi)
    if not ok.any() or power.max() <= 0:
        raise PictureError("the picture holds no readable groove: no spiral of fine lines was found in it")
    k = int(np.flatnonzero(ok)[np.argmax(score[ok])])
    if 0 < k < len(power) - 1:                           # the peak between bins (parabola on log power)
        a, b, c = np.log(power[k - 1:k + 2] + 1e-30)
        den = a - 2 * b + c
        k = k + (0.5 * (a - c) / den if den < 0 else 0.0)
    return float(k / (nfft * step))


def _demodulate(prof, freq, step, band=None):
    """Each ray's complex amplitude of the texture at ``freq`` (cycles per px), summed over the band of
    samples ``band`` (all if None)."""
    k0, k1 = (0, prof.shape[1]) if band is None else band
    k = np.arange(k0, k1)
    carrier = np.exp(-2j * math.pi * freq * step * k)
    return prof[:, k0:k1] @ carrier


def _band_of(prof, step, px_per_m):
    """Samples (first, last + 1) of the rays where the grooves are: where the rays' mean squared step,
    smoothed over 1 mm, stands above the picture's floor (its median) by a quarter of its range. A
    step in level (the rim, the hole) is one sample a ray; grooves are two edges every pitch."""
    e = np.zeros(prof.shape[1])
    for a in range(0, len(prof), 64):
        e += (prof[a:a + 64].astype(np.float64) ** 2).sum(axis=0)
    e = ndimage.uniform_filter1d(e, max(3, int(1e-3 * px_per_m / step)))
    floor = np.median(e)
    on = np.flatnonzero(e > floor + 0.25 * (e.max() - floor))
    if not len(on):
        raise PictureError("the picture holds no readable groove: it has no fine texture at all")
    return int(on[0]), int(on[-1]) + 1


def _band_centre(prof, angles, band, step):
    """The centre's offset (px, x right, y up) from the rays' origin by the band of grooves itself:
    each ray's energy-weighted mean radius inside ``band`` is R + d·u(θ); its first harmonic is d
    (good to a fraction of the band's width, enough for the phase to be followed ray to ray)."""
    k0, k1 = band
    e = prof[:, k0:k1].astype(np.float64) ** 2
    k = np.arange(k0, k1)
    w = e.sum(axis=1)
    ok = w > 0.2 * np.median(w)
    r = (e @ k)[ok] / w[ok] * step
    r -= r.mean()
    c, s = np.cos(angles[ok]), np.sin(angles[ok])
    a = np.linalg.lstsq(np.column_stack([c, s, np.ones_like(c)]), r, rcond=None)[0]
    return float(a[0]), float(a[1])


def _harmonic(prof, freq, step, band, most=8):
    """A frequency whose phase follows the spiral, and its winding: of ``freq / m`` (m = 1 … ``most``,
    ``freq`` the strongest texture) the first whose phase turns round the circle a whole number of
    times (not 0: a ring, the rim, the hole), smoothly from ray to ray. The texture at the winding
    ``w`` is the spiral's ``w``-th harmonic (a hairline's two edges, a V's walls), so its pitch is
    ``w / f``: the turns are counted, not guessed, and a pitch that is a multiple of the true one
    would need a winding below 1."""
    for m in range(1, most + 1):
        wind, z = _winding(prof, freq / m, step, band)
        rough = float(np.median(np.abs(np.angle(np.roll(z, -1) * np.conj(z)))))
        if DEBUG:
            print(f"  harmonic? period {m / freq:.2f} px: winding {wind}, roughness {rough:.3f}")
        if wind != 0 and rough < ROUGH:
            return freq / m, wind
    raise PictureError("the picture holds no readable groove: its lines do not form a spiral")


def _winding(prof, freq, step, band):
    """How many times the texture's phase at ``freq`` turns round as the rays go once round the
    circle (±1 for a spiral at its pitch, ±m at its m-th harmonic, 0 for rings), and each ray's
    complex amplitude over the samples ``band``."""
    z = _demodulate(prof, freq, step, band)
    turns = np.angle(np.roll(z, -1) * np.conj(z)).sum() / (2 * math.pi)
    return int(round(turns)), z


def _refine_frequency(prof, freq, step, band):
    """``freq`` (cycles per px) refined by the phase the texture gains over ever longer lags along the
    rays (a lag never so long that the estimate's error could turn it by half a cycle)."""
    rows = prof[:: max(1, len(prof) // 480), band[0]:band[1]].astype(np.float64)
    n = rows.shape[1]
    k = np.arange(n)
    for m in (1, 3, 10, 30, 100):
        lag = int(round(m / (freq * step)))
        if lag > 0.6 * n:
            break
        z = rows * np.exp(-2j * math.pi * freq * step * k)
        c = np.sum(z[:, lag:] * np.conj(z[:, :-lag]))
        delta = float(np.angle(c)) / (2 * math.pi * lag * step)
        freq += max(-0.02 * freq, min(0.02 * freq, delta))
    return freq


def _centre_offset(z, angles, wind, freq):
    """The centre's offset (px, x right, y up) from the rays' origin: seen from a point d short of the
    centre, every radius reads r + d·u(θ), so the texture's phase less the spiral's own turn is
    −2π·f·d·u(θ): its first harmonic."""
    dphi = np.angle(np.roll(z, -1) * np.conj(z))
    phase = np.concatenate([[0.0], np.cumsum(dphi[:-1])])
    resid = phase - wind * angles
    resid -= resid.mean()
    du = -resid / (2 * math.pi * freq)
    return 2 * float(np.mean(du * np.cos(angles))), 2 * float(np.mean(du * np.sin(angles)))


def _look(raw, z, freq, step, band, r0, px_per_m):
    """The groove's cross-section: the picture folded at the pitch (each ray's samples placed by the
    texture's phase there) and averaged, against the film's level (the picture's median just inside
    the grooves' band, else just outside it, else the fold's median)."""
    pitch = 1.0 / freq
    nb = int(min(max(32, pitch / 0.25), 512))
    k0, k1 = band
    sub = slice(None, None, max(1, len(raw) // 720))
    rows = raw[sub, k0:k1]
    phase = np.angle(z[sub]) / (2 * math.pi)
    x = np.mod(freq * step * np.arange(k0, k1)[None, :] + phase[:, None], 1.0)
    ok = rows >= 0
    idx = np.minimum((x[ok] * nb).astype(np.int64), nb - 1)
    cnt = np.bincount(idx, minlength=nb)
    tmpl = np.bincount(idx, weights=rows[ok], minlength=nb) / np.maximum(cnt, 1)
    gap = int(2 * pitch / step)
    ring = int(1e-3 * px_per_m / step)
    film = None
    for lo, hi in ((k0 - gap - ring, k0 - gap), (k1 + gap, k1 + gap + ring)):
        lo, hi = max(0, lo), min(raw.shape[1], hi)
        if hi - lo > 4:
            v = raw[:, lo:hi]
            v = v[v >= 0]
            if v.size > 1000:
                film = float(np.median(v))
                break
    if film is None:
        film = float(np.median(tmpl))
    dev = tmpl - film
    light = bool(dev.max() > -dev.min())
    s = dev if light else -dev
    main = s.max()
    width = float(np.count_nonzero(np.abs(dev) > 0.5 * np.abs(dev).max())) / nb * pitch
    if s.min() < -0.3 * main:
        name = "dark walls, bright bottom" if not light else "light walls, dark bottom"
    else:
        name = ("light" if light else "dark") + (" hairline" if width < 0.25 * pitch else " band")
    return Look(light, name, width, film, np.roll(tmpl, 0).astype(np.float32))


def find_spiral_any(img: np.ndarray, px_per_m: float, *, light: bool | None = None) -> SpiralGuess:
    """Locate the spiral in ``img`` (8- or 16-bit grey); raises :class:`PictureError` if there is none.

    ``light``: whether the groove shows lighter than the film; ``None`` (default) finds it from the
    picture (the groove's mean cross-section against the film's level, see :func:`_look`).
    """
    h, w = img.shape
    cx, cy = _coarse_centre(img, px_per_m)
    step = 0.5                                                # px between a ray's samples
    r0, r1 = _band_limits(img, cx, cy, px_per_m, True)
    if (r1 - r0) / step < 64:
        raise PictureError(f"the picture holds no readable groove: at {px_per_m * 0.0254:.0f} DPI it is only "
                           f"{w / px_per_m * 1e3:.0f} × {h / px_per_m * 1e3:.0f} mm, too small to hold a record")
    angles = np.arange(N_RAYS) * 2 * math.pi / N_RAYS
    prof = _texture(_profiles.polar_profiles(img, cx, cy, angles, r0, step, int((r1 - r0) / step), True))
    band = _band_of(prof, step, px_per_m)
    for _ in range(3):                       # the band's own circle first: within a fraction of its width
        dx, dy = _band_centre(prof, angles, band, step)
        cx, cy = cx + dx, cy - dy
        r0, r1 = _band_limits(img, cx, cy, px_per_m, True)
        prof = _texture(_profiles.polar_profiles(img, cx, cy, angles, r0, step, int((r1 - r0) / step), True))
        band = _band_of(prof, step, px_per_m)
        if math.hypot(dx, dy) < 2:
            break
    freq, wind = _harmonic(prof, _strongest_period(prof[:, band[0]:band[1]], step, px_per_m), step, band)
    for it in range(8):
        w_now, z = _winding(prof, freq, step, band)
        if DEBUG:
            print(f"  centre ({cx:.2f}, {cy:.2f}) period {1 / freq:.3f} px winding {w_now}")
        if w_now == 0:
            raise PictureError("the picture holds no readable groove: its lines are rings, not a spiral")
        wind = w_now
        dx, dy = _centre_offset(z, angles, wind, freq)
        cx, cy = cx + dx, cy - dy                             # dy is up; pixel rows go down
        if math.hypot(dx, dy) < 0.05 and it >= 1:
            break
        r0, r1 = _band_limits(img, cx, cy, px_per_m, True)
        prof = _texture(_profiles.polar_profiles(img, cx, cy, angles, r0, step, int((r1 - r0) / step), True))
        band = _band_of(prof, step, px_per_m)
    freq = _refine_frequency(prof, freq, step, band)
    harmonic = abs(wind)
    freq /= harmonic                          # the spiral's own frequency: one winding a turn
    z = _demodulate(prof, freq, step, band)
    pitch = 1.0 / freq
    direction = 1 if wind > 0 else -1
    if pitch < 1.0:
        raise PictureError("the picture holds no readable groove: no spiral of fine lines was found in it")
    raw = _profiles.polar_profiles(img, cx, cy, angles, r0, step, prof.shape[1], True)
    look = _look(raw, z, freq, step, band, r0, px_per_m)
    hp_k = max(3, int(0.6 * pitch / step))
    prof = _highpass(raw, hp_k)
    del raw
    if light is None:
        light = look.light
    width = look.width_px
    if look.name.endswith(("band", "hairline")):
        # the fold is widened by the groove's modulation; a single ray's band is not
        peak = _groove_width(prof if light else -prof, step)
        width = min(width, peak) if peak > 0 else width
    del prof
    if width < 1.2:
        raise PictureError(f"the groove is only {width:.1f} pixels wide at this resolution: scan at a higher DPI "
                           f"to see its modulation")
    start_angle, start_r, inner_r = _start(img, cx, cy, direction, r0, r1, width, light, 3.2e-3 * px_per_m)
    return SpiralGuess((cx, cy), direction, start_angle, start_r, width, pitch, inner_r, light, look.name,
                       look.profile)
