"""Tape transport: wow and flutter as a time-base modulation, and reading at a moving position.

The speed of the tape past the head is ``v(t) = v0·(1 + ε + w(t))``: ``ε`` is the deck's steady
speed error and ``w(t)`` the wow and flutter, a sum of the rotating parts' own spectra:

- capstan: once per revolution, f = v0/(π·D_capstan), with its second harmonic;
- pinch roller: once per revolution, f = v0/(π·D_roller);
- reels: once per reel turn, f = v0/(2π·r), r drifting as the tape winds (wow);
- motor / belt: the motor's rotation rate (flutter);
- scrape flutter: broadband 60–300 Hz from the tape rubbing the heads and guides;
- drift: slow random speed wander below 1 Hz.

Each periodic part wanders in phase (narrow-band, not one pure sine). All of it is generated at
a control rate of 2 kHz and the position deviation is interpolated linearly per sample.
"""

from __future__ import annotations

import types

import numba
import numpy as np
import scipy.signal as sps

__all__ = ["Transport", "warp"]

#: Control rate of the speed modulation, Hz (the highest component, scrape flutter, ends at 300 Hz).
CONTROL_RATE_HZ = 2000.0


#: Fractional-delay interpolator: 8-tap Kaiser-windowed sinc (β = 6, cut-off 0.47·fs),
#: tabulated at 1024 fractional phases (flat within 0.2 dB to 0.4·fs).
_TAPS, _PHASES = 8, 1024


def _sinc_table():
    frac = np.arange(_PHASES + 1) / _PHASES
    offsets = np.arange(-_TAPS // 2 + 1, _TAPS // 2 + 1)  # −3 … 4
    x = offsets[None, :] - frac[:, None]
    win = np.i0(6.0 * np.sqrt(np.clip(1 - (x / (_TAPS / 2)) ** 2, 0, 1))) / np.i0(6.0)
    h = 0.94 * np.sinc(0.94 * x) * win
    return (h / h.sum(axis=1, keepdims=True)).astype(np.float32)


_SINC = _sinc_table()


@numba.njit(cache=True)
def _warp(x, table, start, ratio, dev, ctrl_per_out, sign, n_out):
    """out[i] = x at fractional index ``start + i·ratio + sign·dev(i)`` (windowed-sinc).

    ``dev`` is the position deviation in input samples at the control rate; ``ctrl_per_out``
    control samples pass per output sample.
    """
    out = np.zeros(n_out, dtype=np.float32)
    n = x.size
    nd = dev.size
    phases = table.shape[0] - 1
    for i in range(n_out):
        c = i * ctrl_per_out
        j = int(c)
        if j >= nd - 1:
            d = dev[nd - 1]
        else:
            f = c - j
            d = dev[j] + f * (dev[j + 1] - dev[j])
        p = start + i * ratio + sign * d
        if p < 3.0:
            if p >= 0.0:
                out[i] = x[int(p)]
            continue
        k = int(p)
        if k + 4 >= n:
            if k < n:
                out[i] = x[k]
            continue
        row = int((p - k) * phases + 0.5)
        acc = 0.0
        for t in range(8):
            acc += table[row, t] * x[k - 3 + t]
        out[i] = acc
    return out


def warp(x: np.ndarray, *, ratio: float, deviation: np.ndarray, control_rate_hz: float,
         sample_rate: float, sign: float, n_out: int) -> np.ndarray:
    """Read ``x`` at index ``i·ratio + sign·deviation(t_i)`` (deviation in input samples)."""
    return _warp(np.ascontiguousarray(x, dtype=np.float32), _SINC, 0.0, float(ratio),
                 np.ascontiguousarray(deviation, dtype=np.float64),
                 control_rate_hz / sample_rate, float(sign), int(n_out))


class Transport:
    """The moving parts of one deck and the wow and flutter they make.

    Parameters
    ----------
    speed_m_s : float
        Nominal tape speed, m/s.
    capstan_diameter_m, roller_diameter_m, reel_radius_m : float
        Capstan and pinch-roller diameters and mean reel radius (m).
    motor_hz : float
        Motor rotation frequency (Hz).
    shares : dict
        Relative peak amplitude of each part: ``capstan``, ``roller``, ``reel``, ``motor``,
        ``scrape`` (rms share), ``drift`` (rms share).
    flutter_scale_pct : float
        Peak speed deviation of a share of 1.0, in per cent (calibrated per deck).
    """

    PARTS = ("capstan", "roller", "reel", "motor", "scrape", "drift")

    def __init__(self, *, speed_m_s, capstan_diameter_m, roller_diameter_m, reel_radius_m,
                 motor_hz, shares, flutter_scale_pct):
        settings = dict(speed_m_s=speed_m_s, capstan_diameter_m=capstan_diameter_m,
                        roller_diameter_m=roller_diameter_m, reel_radius_m=reel_radius_m, motor_hz=motor_hz,
                        flutter_scale_pct=flutter_scale_pct)
        for name, value in settings.items():
            object.__setattr__(self, name, float(value))
        object.__setattr__(self, "shares", types.MappingProxyType({p: float(shares.get(p, 0.0)) for p in self.PARTS}))

    def __setattr__(self, name, value):
        # a deck's transport follows its preset: it is made again, never changed in place
        raise AttributeError(f"a Transport's settings are fixed once it is made; make a new one with {name}={value!r}")

    def __repr__(self):
        return (f"Transport(capstan {self.capstan_hz:.2f} Hz, roller {self.roller_hz:.2f} Hz, "
                f"reel {self.reel_hz:.3f} Hz, motor {self.motor_hz:g} Hz, "
                f"scale {self.flutter_scale_pct:g} %)")

    @property
    def capstan_hz(self) -> float:
        return self.speed_m_s / (np.pi * self.capstan_diameter_m)

    @property
    def roller_hz(self) -> float:
        return self.speed_m_s / (np.pi * self.roller_diameter_m)

    @property
    def reel_hz(self) -> float:
        return self.speed_m_s / (2 * np.pi * self.reel_radius_m)

    def speed_variation(self, duration_s: float, rng: np.random.Generator) -> np.ndarray:
        """Fractional speed deviation w(t) (dimensionless) at CONTROL_RATE_HZ for ``duration_s``."""
        fs = CONTROL_RATE_HZ
        n = int(np.ceil(duration_s * fs)) + 4
        t = np.arange(n) / fs
        scale = self.flutter_scale_pct / 100.0
        w = np.zeros(n)

        def tone(f_hz, amp, wander_hz):
            # phase wanders as integrated low-pass noise: a narrow band about f_hz
            wander = np.cumsum(rng.standard_normal(n)) * (2 * np.pi * wander_hz / np.sqrt(fs))
            return amp * np.sin(2 * np.pi * f_hz * t + rng.uniform(0, 2 * np.pi) + wander)

        s = self.shares
        if s["capstan"]:
            w += tone(self.capstan_hz, s["capstan"], 0.05) + tone(2 * self.capstan_hz, s["capstan"] / 3, 0.1)
        if s["roller"]:
            w += tone(self.roller_hz, s["roller"], 0.05)
        if s["reel"]:
            # reel radius changes slowly as the tape winds: the frequency glides ±15 %
            glide = 1 + 0.15 * np.sin(2 * np.pi * t / 600.0 + rng.uniform(0, 2 * np.pi))
            phase = 2 * np.pi * np.cumsum(self.reel_hz * glide) / fs + rng.uniform(0, 2 * np.pi)
            w += s["reel"] * np.sin(phase)
        if s["motor"]:
            w += tone(self.motor_hz, s["motor"], 0.3)
        if s["scrape"]:
            sos = sps.butter(2, [60.0, 300.0], btype="bandpass", fs=fs, output="sos")
            noise = sps.sosfilt(sos, rng.standard_normal(n))
            w += s["scrape"] * noise / (noise.std() + 1e-12)
        if s["drift"]:
            sos = sps.butter(2, 0.8, fs=fs, output="sos")
            noise = sps.sosfilt(sos, rng.standard_normal(n))
            w += s["drift"] * noise / (noise.std() + 1e-12)
        return w * scale

    def position_deviation(self, w: np.ndarray, sample_rate: float) -> np.ndarray:
        """The accumulated position error ∫w dt, in samples of ``sample_rate``, at the control rate."""
        dev = np.cumsum(w) / CONTROL_RATE_HZ * sample_rate
        return dev - dev[0]
