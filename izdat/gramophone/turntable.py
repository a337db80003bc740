"""The turntable and tone arm: where along the groove the stylus is at each instant.

Models
------
Off-centre hole
    The record turns at Ω about the spindle, which stands in the burnt hole, e metres from the
    spiral's centre C. A groove point at radius r from C, at groove angle θ, moves under the
    stylus with velocity Ω ẑ × (r û + e v̂) (v̂: from the spindle to C). Its component along the
    groove is Ω·(r + e û·v̂) = Ω·(r − e·cos(θ − θ_h)), θ_h the hole's groove angle. So the groove
    angle under the stylus runs at dθ/dt = Ω·(1 − (e/r)·cos(θ − θ_h)): the pitch swings once a
    revolution by ±e/r (±2.6 % for e = 3 mm at r = 115 mm: wow at 1.3 Hz at 78 rpm). Integrated
    to first order in e/r: θ(t) = Ωt − (e/r)·sin(Ωt − θ_h). The radial component Ω·e·sin(θ − θ_h)
    sways the arm by ±e.
Arm sway and rumble
    The pickup hears the stylus's motion relative to the arm: the arm (effective mass on the
    stylus compliance, resonance f_a ≈ 10 Hz) follows slow motion, so an input motion reaches the
    pickup through a 2nd-order high-pass at f_a (Q ≈ 1). Rumble (motor and bearing vibration) is
    a relative motion of record and arm: band-limited noise 5–60 Hz plus the motor's own line,
    stated as DIN 45539 measures it: at the output, through the playback curve, relative to the
    output of 10 cm/s peak at 1 kHz.
Warp
    Thin film lies warped: its height h(θ) = W·(0.8·cos(θ + φ₁) + 0.4·cos(2θ + φ₂)) (a dish and a
    saddle). An arm meeting the rising film at its vertical tracking angle α moves the tip along
    the groove by Δs = h·tan α (pitch flutter), and the arm's vertical acceleration ḧ changes the
    tracking force F = F₀·(1 + ḧ/g); the tip's Hertzian contact (radius ∝ F^(1/3)) reads the
    walls' modulation in proportion, so the level flutters as (1 + ḧ/g)^(1/3).
Speed error
    A spring motor's governor or a mains motor's slip: the whole record plays (1 + ε) fast.

References
----------
- Eccentric records and wow: "Centring errors of 0.25–0.5 mm give ~1 % peak-to-peak wow on
  inner grooves" (DESIGN.md, from optical-playback practice); the geometry above is exact to
  first order in e/r.
- DIN 45539 / DIN 45500: rumble measured against 10 cm/s peak at 1 kHz; ≥ 35 dB unweighted for
  hi-fi (1966). Earlier gramophones were worse.
- Vertical tracking angle 15–20° (RIAA/IEC from 1964); arm–cartridge resonance 8–12 Hz is the
  usual design target (e.g. Shure, "Tone arm resonance" application notes).
- H. Hertz, "Über die Berührung fester elastischer Körper", J. reine angew. Math. 92 (1882):
  contact radius a ∝ F^(1/3).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from scipy import signal

__all__ = ["read_positions", "read", "rumble", "arm_relative", "STANDARD_G"]

#: Standard gravity (m/s²), CGPM 1901.
STANDARD_G = 9.80665
#: Arm–stylus resonance (Hz) and its Q: the usual 8–12 Hz design window.
ARM_RESONANCE_HZ = 10.0
ARM_Q = 1.0
#: Vertical tracking angle (degrees): the 15–20° of post-1964 standards.
VTA_DEG = 20.0
#: Decimation of the slow motions (sway, rumble: nothing above ~100 Hz) against the output rate.
SLOW = 64


def read_positions(n_groove: int, samples_per_rev: int, rpm: float, radius_m: np.ndarray, angle0_rad: float, *,
                   sample_rate: float, speed_error: float, hole_offset_m: float, hole_angle_rad: float,
                   warp_m: float, warp_phase: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the stylus is along the groove at each output sample, and what else the turntable does.

    Returns
    -------
    position : ndarray of float64
        Fractional groove sample index at each output instant, from 0, increasing.
    level : ndarray of float64
        Level flutter from warp (×), per output sample.
    sway_m : ndarray of float64
        Radial position of the contact point about the spindle, less the groove radius (m):
        −e·cos(θ − θ_h), the arm follows it; every :data:`SLOW`-th output sample only.
    """
    omega = 2 * math.pi * rpm / 60 * (1.0 + speed_error)         # rad/s about the spindle
    per_sample = samples_per_rev * rpm / 60 * (1.0 + speed_error) / sample_rate   # groove samples per output sample
    n_out = int(math.floor((n_groove - 1) / per_sample)) + 1
    # The radius changes by a pitch a turn: 64 points a turn and linear interpolation are exact enough.
    coarse_step = max(1, samples_per_rev // 64)
    coarse = np.arange(0, n_groove + 2 * coarse_step, coarse_step)
    coarse_r = np.asarray(radius_m, np.float64)[np.minimum(coarse, n_groove - 1)]
    p1, p2 = warp_phase
    position, force, sway = _positions(n_out, per_sample, samples_per_rev, coarse_step, 1.0 / coarse_r, angle0_rad,
                                       hole_angle_rad, hole_offset_m, warp_m, p1, p2, math.tan(math.radians(VTA_DEG)),
                                       omega ** 2 / STANDARD_G, float(n_groove - 1))
    return position, (np.cbrt(force, out=force) if warp_m > 0 else force), sway


@numba.njit(cache=True, fastmath=True)
def _positions(n_out, per_sample, spr, coarse_step, coarse_inv_r, angle0, hole_angle, e, warp, p1, p2, tan_vta,
               w2_over_g, last):
    """One pass over the output samples. The turntable's angle turns as a phasor, rotated one
    sample at a time and set exactly every 4096 samples (the rounding never builds up)."""
    position = np.empty(n_out)
    level = np.ones(n_out)
    sway = np.empty((n_out + SLOW - 1) // SLOW)
    dtheta = 2 * math.pi * per_sample / spr
    wr, wi = math.cos(dtheta), math.sin(dtheta)
    c2r, c2i = math.cos(p2 + 2 * hole_angle), math.sin(p2 + 2 * hole_angle)
    c1r, c1i = math.cos(p1 + hole_angle), math.sin(p1 + hole_angle)
    to_samples = spr / (2 * math.pi)
    zr = 1.0
    zi = 0.0
    d0 = 0.0
    for k in range(n_out):
        i0 = k * per_sample
        if k % 4096 == 0:                       # z = e^{i(θ − θ_h)}, exactly
            a = angle0 + dtheta * k - hole_angle
            zr, zi = math.cos(a), math.sin(a)
        c = i0 / coarse_step
        j = int(c)
        f = c - j
        inv_r = coarse_inv_r[j] * (1.0 - f) + coarse_inv_r[j + 1] * f
        d = -e * zi * inv_r                         # −(e/r)·sin(θ − θ_h)
        if warp > 0.0:
            u1 = zr * c1r - zi * c1i             # cos(θ + φ₁)
            z2r = zr * zr - zi * zi
            z2i = 2.0 * zr * zi
            u2 = z2r * c2r - z2i * c2i           # cos(2θ + φ₂)
            d += warp * tan_vta * (0.8 * u1 + 0.4 * u2) * inv_r
            level[k] = max(1.0 - warp * w2_over_g * (0.8 * u1 + 1.6 * u2), 0.05)   # F/F₀; cube root below
        if k == 0:
            d0 = d
        p = i0 + (d - d0) * to_samples
        position[k] = min(max(p, 0.0), last)
        if k % SLOW == 0:
            sway[k // SLOW] = -e * zr            # −e·cos(θ − θ_h)
        zr, zi = zr * wr - zi * wi, zr * wi + zi * wr
    return position, level, sway


def read(groove: np.ndarray, position: np.ndarray) -> np.ndarray:
    """``groove`` (per groove sample) at fractional ``position`` by 4-point cubic (Catmull–Rom)."""
    return _catmull_rom(np.ascontiguousarray(groove, dtype=np.float64), np.ascontiguousarray(position, dtype=np.float64))


@numba.njit(cache=True, fastmath=True)
def _catmull_rom(y, pos):
    n = len(y)
    out = np.empty(len(pos))
    for k in range(len(pos)):
        p = pos[k]
        i = int(p)
        f = p - i
        i0 = max(i - 1, 0)
        i2 = min(i + 1, n - 1)
        i3 = min(i + 2, n - 1)
        a, b, c, d = y[i0], y[i], y[i2], y[i3]
        out[k] = b + 0.5 * f * (c - a + f * (2 * a - 5 * b + 4 * c - d + f * (3 * (b - c) + d - a)))
    return out


def arm_relative(motion_m: np.ndarray, sample_rate: float) -> np.ndarray:
    """The part of a slow lateral motion of the stylus (m) the pickup feels: what the arm, a mass on
    the stylus compliance, does not follow (2nd-order high-pass at :data:`ARM_RESONANCE_HZ`)."""
    w = 2 * math.pi * ARM_RESONANCE_HZ
    b, a = [1.0, 0.0, 0.0], [1.0, w / ARM_Q, w * w]
    sos = signal.zpk2sos(*signal.bilinear_zpk(*signal.tf2zpk(b, a), sample_rate))
    return signal.sosfilt(sos, motion_m)


def rumble(n: int, rate: float, rumble_db: float, motor_hz: float, rng: np.random.Generator,
           playback_sos: np.ndarray | None = None, sample_rate: float | None = None) -> np.ndarray:
    """Rumble: a lateral displacement (m) of the record against the arm, ``n`` samples at ``rate`` Hz
    (a slow rate: rumble has nothing above ~100 Hz).

    Band-limited noise (5–60 Hz, 2nd-order band) with, if ``motor_hz`` > 0, the motor's line at
    ``motor_hz`` carrying half the power. As DIN 45539 measures it, its level is taken at the
    output: through the arm (:func:`arm_relative`) and the pickup with its playback curve
    (``playback_sos`` at ``sample_rate``, displacement → velocity-equivalent at 1 kHz), the RMS is
    ``rumble_db`` below 10 cm/s/√2. Without ``playback_sos`` the groove velocity itself is set.
    """
    sos = signal.butter(2, [5.0, 60.0], "bandpass", fs=rate, output="sos")
    slow = signal.sosfilt(sos, rng.standard_normal(n + 256))[256:]
    slow /= max(float(np.std(np.diff(slow)) * rate), 1e-30)            # unit RMS velocity
    if motor_hz > 0:
        t = np.arange(n) / rate
        line = np.sin(2 * math.pi * motor_hz * t + rng.uniform(0, 2 * math.pi)) / (2 * math.pi * motor_hz / math.sqrt(2))
        slow = (slow + line) / math.sqrt(2)
    if playback_sos is not None:
        # What the ear gets of it: the arm's high-pass and the pickup, evaluated on its spectrum.
        f, psd = signal.welch(slow, fs=rate, nperseg=min(n, 2048))
        _, h = signal.sosfreqz(playback_sos, worN=f, fs=sample_rate)
        jw = 2j * math.pi * f
        w = 2 * math.pi * ARM_RESONANCE_HZ
        h = h * jw ** 2 / (jw ** 2 + jw * w / ARM_Q + w * w)
        slow /= max(float(np.sqrt(np.sum(psd * np.abs(h) ** 2) * (f[1] - f[0]))), 1e-30)
    return slow * (0.1 / math.sqrt(2) * 10 ** (rumble_db / 20))
