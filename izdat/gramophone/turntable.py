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
        −e·cos(θ − θ_h); the arm follows it.
    """
    omega = 2 * math.pi * rpm / 60 * (1.0 + speed_error)         # rad/s about the spindle
    per_sample = samples_per_rev * rpm / 60 * (1.0 + speed_error) / sample_rate   # groove samples per output sample
    n_out = int(math.floor((n_groove - 1) / per_sample)) + 1
    i0 = np.arange(n_out) * per_sample
    # The radius changes by a pitch a turn: 64 points a turn and linear interpolation are exact enough.
    coarse = np.arange(0, n_groove + samples_per_rev // 64, max(1, samples_per_rev // 64))
    r = np.interp(i0, coarse, radius_m[np.minimum(coarse, n_groove - 1)])
    z = np.exp(1j * (angle0_rad + (2 * math.pi / samples_per_rev) * i0 - hole_angle_rad))   # e^{i(θ − θ_h)}
    # Eccentricity, to first order in e/r; the same shift at t = 0 keeps position[0] at 0.
    d_theta = (-hole_offset_m) * z.imag / r
    level = np.ones(n_out)
    if warp_m > 0:
        p1, p2 = warp_phase
        u1 = (z * np.exp(1j * (hole_angle_rad + p1))).real                    # cos(θ + φ₁)
        u2 = (z * z * np.exp(1j * (2 * hole_angle_rad + p2))).real            # cos(2θ + φ₂)
        ds = warp_m * math.tan(math.radians(VTA_DEG)) * (0.8 * u1 + 0.4 * u2)
        d_theta += ds / r
        h_dd = -warp_m * omega ** 2 * (0.8 * u1 + 1.6 * u2)
        level = np.cbrt(np.maximum(1.0 + h_dd / STANDARD_G, 0.05))
    d_theta -= d_theta[0]
    position = i0
    position += d_theta * (samples_per_rev / (2 * math.pi))
    np.clip(position, 0, n_groove - 1, out=position)
    sway = (-hole_offset_m) * z.real
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


def rumble(n: int, sample_rate: float, rumble_db: float, motor_hz: float, rng: np.random.Generator,
           playback_sos: np.ndarray | None = None) -> np.ndarray:
    """Rumble: a lateral displacement (m) of the record against the arm.

    Band-limited noise (5–60 Hz, 2nd-order band) with, if ``motor_hz`` > 0, the motor's line at
    ``motor_hz`` carrying half the power. As DIN 45539 measures it, its level is taken at the
    output: through the arm (:func:`arm_relative`) and the pickup with its playback curve
    (``playback_sos``, displacement → velocity-equivalent at 1 kHz), the RMS is ``rumble_db``
    below 10 cm/s/√2. Without ``playback_sos`` the groove velocity itself is set. Drawn at 1/64 of
    the rate and interpolated (it has nothing above ~100 Hz).
    """
    decim = 64
    rate = sample_rate / decim
    m = n // decim + 4
    sos = signal.butter(2, [5.0, 60.0], "bandpass", fs=rate, output="sos")
    slow = signal.sosfilt(sos, rng.standard_normal(m + 256))[256:]
    slow /= max(float(np.std(np.diff(slow)) * rate), 1e-30)            # unit RMS velocity
    if motor_hz > 0:
        t = np.arange(m) / rate
        line = np.sin(2 * math.pi * motor_hz * t + rng.uniform(0, 2 * math.pi)) / (2 * math.pi * motor_hz / math.sqrt(2))
        slow = (slow + line) / math.sqrt(2)
    if playback_sos is not None:
        # What the ear gets of it: the arm's high-pass and the pickup, evaluated on its spectrum.
        spectrum = np.fft.rfft(slow)
        f = np.fft.rfftfreq(m, 1 / rate)
        _, h = signal.sosfreqz(playback_sos, worN=f, fs=sample_rate)
        jw = 2j * math.pi * f
        w = 2 * math.pi * ARM_RESONANCE_HZ
        h = h * jw ** 2 / (jw ** 2 + jw * w / ARM_Q + w * w)
        heard = float(np.sqrt(np.sum(np.abs(spectrum * h) ** 2) * 2 / m ** 2))
        slow /= max(heard, 1e-30)
    v_rms = 0.1 / math.sqrt(2) * 10 ** (rumble_db / 20)
    return np.interp(np.arange(n) / decim, np.arange(m), slow * v_rms)
