"""Biased recording on a particulate coating: the recorded remanence from a Preisach picture.

Each particle of the coating is a square-loop switch with a switching field ``hk`` (log-normal,
median 1, spread σ = 0.30 in ln ``hk`` — the same distribution :mod:`izdat.tape.erase` uses) and
an interaction field ``hi`` from its neighbours (a generalised normal distribution of width
``SPREAD_I`` and shape ``SHAPE_I``: flatter-topped than a Gaussian because a particle's
neighbours can only add up to a bounded field — an assumption of this model, chosen so that the
third harmonic goes from 1 % to 3 % within about 3 dB, as on real ferric tape). Fields are in units
of the median switching field.

A tape element passing the record head sees the signal field ``Hs`` and the bias field of peak
``Hb``, both falling together with the head-field profile η(x) as the element leaves the gap
(the signal is constant during the passage at audio wavelengths). For one particle:

- it can switch up while η(Hs + Hb) + hi > hk, and down while η(Hs − Hb) + hi < −hk;
- the last switch before the field dies decides its state: +1 if up was the later one (which
  happens when hi > −hk·Hs/Hb, i.e. the signal field at the point where the bias equals the
  particle's switching field wins), −1 if down was, and its erased (zero mean) state if the peak
  field η_max(Hb ± Hs) never reached its threshold.

Integrated over ``hi`` analytically and over ``hk`` and the coating depth (layers whose peak field
η_max falls with depth, Karlqvist-like, from 1 at the surface to ``DEPTH_ETA[-1]``) numerically,
this gives the recorded remanence ``m(Hs; b)`` (M/Ms) as a memoryless function of the signal
field at bias ``b`` (1 = the optimum ``OPTIMUM_BIAS``). It reproduces what tape does:

- fully biased particles record sign(hi + hk·Hs/Hb): the anhysteretic remanence, linear at low
  level, so the third harmonic falls as the level squared — no dead zone;
- over-bias: the freezing point moves further from the gap, where the signal field is weaker,
  so the sensitivity falls (about as 1/b once the whole depth is biased) and distortion with it;
- under-bias: the hard particles and deep layers are not biased, switch only on signal peaks
  (expansive, dead-zone-like) and the distortion rises steeply;
- no bias: the isothermal remanence curve — nothing recorded below the switching fields, gross
  crossover distortion (tens of per cent), as on unbiased tape.

References: Bertram, *Theory of Magnetic Recording* (1994), ch. 9 (anhysteretic recording, bias,
the recording zone); Mallinson, *The Foundations of Magnetic Recording* (1993), ch. 6; Preisach,
*Z. Phys.* 94 (1935) 277; Karlqvist, *Trans. Roy. Inst. Tech. Stockholm* 86 (1954) (head field).
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from scipy.stats import gennorm

__all__ = ["BiasedRecording", "OPTIMUM_BIAS", "SWITCHING_SPREAD", "self_bias"]

#: σ of ln(hk), the log-normal switching-field spread (as in izdat.tape.erase).
SWITCHING_SPREAD = 0.30
#: Width (units of the median switching field) and shape of the interaction-field distribution.
SPREAD_I, SHAPE_I = 0.30, 4.0
#: Peak bias field at the coating surface at the optimum bias, units of the median switching field:
#: it saturates the hardest particles of the deepest layer at the optimum (assumption).
OPTIMUM_BIAS = 2.6
#: Peak head field at the depth layers, re the surface (Karlqvist-like fall over the coating).
DEPTH_ETA = np.linspace(1.0, 0.5, 6)
#: Signal-field table: ±TABLE_H in TABLE_N steps (units of the median switching field).
TABLE_H, TABLE_N = 8.0, 4097

_XG, _WG = np.polynomial.hermite_e.hermegauss(40)
_WG = _WG / _WG.sum()
_HK = np.exp(SWITCHING_SPREAD * _XG)


def _layers(hs: np.ndarray, bias: float, sigma: float = SWITCHING_SPREAD,
            spread_i: float = SPREAD_I) -> np.ndarray:
    """Recorded remanence (M/Ms) per depth layer: shape (hs.size, DEPTH_ETA.size), for a coating of
    switching-field spread ``sigma`` (σ of ln hk) and interaction-field width ``spread_i``."""
    hs = np.asarray(hs, dtype=np.float64)[:, None, None]
    hk = (_HK if sigma == SWITCHING_SPREAD else np.exp(sigma * _XG))[None, :, None]
    eta = DEPTH_ETA[None, None, :]
    hb = bias * OPTIMUM_BIAS
    with np.errstate(divide="ignore", invalid="ignore"):
        if hb > 0:
            a1 = -hk * hs / hb                                   # up was the later switch above this hi
        else:
            a1 = np.where(hs > 0, -np.inf, np.inf) * np.ones_like(hk)
    a2 = np.where(hb + hs > 0, hk - eta * (hb + hs), np.inf)     # up reached at all above this hi
    a3 = np.where(hb - hs > 0, eta * (hb - hs) - hk, -np.inf)   # down reached at all below this hi
    up = gennorm.sf(np.maximum(a1, a2) / spread_i, SHAPE_I)
    down = gennorm.cdf(np.minimum(a1, a3) / spread_i, SHAPE_I)
    return np.einsum("ijk,j->ik", up - down, _WG)


@functools.lru_cache(maxsize=64)
def _table(bias: float, sigma: float = SWITCHING_SPREAD, spread_i: float = SPREAD_I) -> np.ndarray:
    """m(Hs) on the uniform grid ±TABLE_H (float64), odd-symmetric, averaged over the depth."""
    h = np.linspace(0.0, TABLE_H, TABLE_N // 2 + 1)
    m = _layers(h, bias, sigma, spread_i).mean(axis=1)
    m[0] = 0.0
    full = np.concatenate([-m[:0:-1], m])
    full.setflags(write=False)
    return full


@functools.lru_cache(maxsize=64)
def layer_sensitivity(bias: float, sigma: float = SWITCHING_SPREAD, spread_i: float = SPREAD_I) -> np.ndarray:
    """Small-signal sensitivity dm/dHs of each depth layer at ``bias`` (units: M/Ms per unit field)."""
    dh = 1e-3
    return _layers(np.array([dh]), bias, sigma, spread_i)[0] / dh


def _halfband_odd(taps: int = 47, beta: float = 7.9) -> np.ndarray:
    """Odd-offset taps (offsets 1, 3, 5, …) of a Kaiser-windowed half-band low-pass (centre 0.5).

    47 taps, β = 7.9: flat within 0.01 dB to 0.19·fs and below −80 dB from 0.31·fs at the 2× rate
    (18 kHz and 30 kHz for 48 kHz audio), so the 7th harmonic of a 4.3 kHz tone (30.1 kHz) no
    longer folds back to 17.9 kHz at −85 dBc as through the old 7-tap half-band (issue 16, item 8)."""
    n = np.arange(-(taps // 2), taps // 2 + 1)
    h = 0.5 * np.sinc(n / 2.0) * np.kaiser(taps, beta)
    odd = h[taps // 2 + 1::2]
    return np.ascontiguousarray(odd * (0.25 / odd.sum()))  # 0.5 + 2·Σodd = 1: unity at DC


_HB_ODD = _halfband_odd()


@numba.njit(cache=True, inline="always")
def _lookup(table, inv_step, h):
    x = (h + TABLE_H) * inv_step
    if x <= 0.0:
        return table[0]
    last = table.size - 1
    if x >= last:
        return table[last]
    i = int(x)
    f = x - i
    return table[i] + f * (table[i + 1] - table[i])


@numba.njit(cache=True)
def _record_2x(table, h, g):
    """The remanence of ``h``·``g`` at 2× its rate (Catmull-Rom midpoints of ``h``, mean of ``g``)
    decimated by the 47-tap Kaiser half-band :data:`_HB_ODD` back to the input rate. ``g`` is
    the sensitivity left by the signal's own short-wavelength field (1 = none taken; size 1 = all 1)."""
    n = h.size
    varying = g.size == n
    inv_step = (table.size - 1) / (2.0 * TABLE_H)
    x2 = np.empty(2 * n, dtype=np.float64)
    for i in range(n):
        a0 = h[i - 1] if i > 0 else h[0]
        a1 = h[i]
        a2 = h[i + 1] if i + 1 < n else h[n - 1]
        a3 = h[i + 2] if i + 2 < n else h[n - 1]
        mid = (-a0 + 9.0 * a1 + 9.0 * a2 - a3) * 0.0625
        if varying:
            g0 = g[i]
            g1 = 0.5 * (g[i] + g[i + 1]) if i + 1 < n else g[i]
            x2[2 * i] = _lookup(table, inv_step, a1 * g0)
            x2[2 * i + 1] = _lookup(table, inv_step, mid * g1)
        else:
            x2[2 * i] = _lookup(table, inv_step, a1)
            x2[2 * i + 1] = _lookup(table, inv_step, mid)
    # decimate by 2: the half-band's centre tap and its odd taps (the even ones are zero)
    y = np.empty(n, dtype=np.float32)
    last = x2.size - 1
    half = _HB_ODD.size
    for i in range(n):
        j = 2 * i
        acc = 0.5 * x2[j]
        if half <= i < n - half:
            for t in range(half):
                o = 2 * t + 1
                acc += _HB_ODD[t] * (x2[j - o] + x2[j + o])
        else:
            for t in range(half):
                o = 2 * t + 1
                acc += _HB_ODD[t] * (x2[max(j - o, 0)] + x2[min(j + o, last)])
        y[i] = acc
    return y


def self_bias(h: np.ndarray, fs_hz: float, speed_m_s: float, zone_m: float, bias: float,
              ) -> np.ndarray:
    """The signal's own short-wavelength field acting as bias: the sensitivity left, per sample.

    Signal components whose wavelength is shorter than about 2π times the recording zone
    ``zone_m`` (above f_c = v/(2π·zone)) swing during a tape element's passage through the zone,
    as the bias does: they add to the AC field that sets the freezing point, so the effective bias
    is b_eff = √(b² + (Ĥ_hf/Hb₀)²), Ĥ_hf the peak of that part of the field (its envelope, 1 ms)
    and Hb₀ = OPTIMUM_BIAS the optimum bias field. The recording then loses sensitivity as b/b_eff
    (the returned gain on the field; the zone's further move out, an extra treble loss, is left out):
    loud treble saturates and erases itself, the more so at low speed, where f_c is lower and the
    record EQ lifts the treble more (Bertram 1994 §9.4,
    Mallinson 1993 ch. 6: self-erasure and the short-wavelength saturation of biased tape).
    """
    import scipy.signal as sps
    h = np.ascontiguousarray(h, dtype=np.float32)
    fc = min(speed_m_s / (2 * np.pi * zone_m), 0.4 * fs_hz)
    b, a = sps.butter(2, fc, btype="highpass", fs=fs_hz)
    env = float(np.exp(-1.0 / (1e-3 * fs_hz)))
    return _self_bias_run(h, b[0], b[1], b[2], a[1], a[2], env, float(bias), 1.0 / OPTIMUM_BIAS)


@numba.njit(cache=True)
def _self_bias_run(h, b0, b1, b2, a1, a2, env, bias, inv_b0):
    """One pass: 2nd-order high-pass (direct form II transposed), one-pole power envelope, b/b_eff."""
    n = h.size
    gain = np.empty(n, dtype=np.float32)
    z1 = 0.0
    z2 = 0.0
    power = 0.0
    bb = bias * bias
    for i in range(n):
        x = h[i]
        y = b0 * x + z1
        z1 = b1 * x - a1 * y + z2
        z2 = b2 * x - a2 * y
        power = env * power + (1.0 - env) * y * y
        q = 2.0 * power * inv_b0 * inv_b0
        b_eff = np.sqrt(bb + q)
        gain[i] = bias / b_eff
    return gain


def harmonics(amplitude: float, bias: float = 1.0, n: int = 512, sigma: float = SWITCHING_SPREAD,
              spread_i: float = SPREAD_I) -> np.ndarray:
    """Amplitudes of the harmonics 0 … n/2 of the remanence for a signal field ``amplitude``·sin
    (memoryless, so one period gives them exactly)."""
    ph = 2 * np.pi * np.arange(n) / n
    t = _table(float(bias), float(sigma), float(spread_i))
    m = np.interp(amplitude * np.sin(ph), np.linspace(-TABLE_H, TABLE_H, t.size), t)
    return 2 * np.abs(np.fft.rfft(m)) / n


class BiasedRecording:
    """The coating's recorded remanence against the signal field, at one bias.

    Parameters
    ----------
    bias : float
        AC bias relative to the optimum (0 … 5; 1.0 = optimum, 0 = none).
    sigma : float, default SWITCHING_SPREAD (0.30)
        σ of ln hk, the coating's switching-field spread (its SFD; dimensionless).
    spread_i : float, default SPREAD_I (0.30)
        Width of the interaction-field distribution, units of the median switching field.

    The settings are fixed once made (a new bias: a new one), like :class:`JilesAtherton`.
    """

    def __init__(self, *, bias: float = 1.0, sigma: float = SWITCHING_SPREAD, spread_i: float = SPREAD_I):
        object.__setattr__(self, "bias", float(bias))
        object.__setattr__(self, "sigma", float(sigma))
        object.__setattr__(self, "spread_i", float(spread_i))

    def __setattr__(self, name, value):
        raise AttributeError(f"a BiasedRecording's settings are fixed once it is made; make a new one "
                             f"with {name}={value!r}")

    def __repr__(self):
        return f"BiasedRecording(bias={self.bias:g}, sigma={self.sigma:g}, spread_i={self.spread_i:g})"

    @property
    def table(self) -> np.ndarray:
        """m(Hs) on a uniform grid of TABLE_N points over ±TABLE_H."""
        return _table(self.bias, self.sigma, self.spread_i)

    def magnetise(self, h: np.ndarray, gain: np.ndarray | None = None) -> np.ndarray:
        """Recorded remanence (float32, M/Ms) for the signal field ``h`` (units of the median hk),
        optionally with a per-sample sensitivity ``gain`` (the self-bias of :func:`self_bias`)."""
        h64 = np.ascontiguousarray(h, dtype=np.float64)
        if h64.size == 0:
            return np.zeros(0, dtype=np.float32)
        g = np.ones(1) if gain is None else np.ascontiguousarray(gain, dtype=np.float64)
        if g.size not in (1, h64.size):
            raise ValueError("gain must have one value per field sample")
        return _record_2x(self.table, h64, g)

    @functools.cached_property
    def small_signal_gain(self) -> float:
        """dm/dHs at zero signal (M/Ms per unit field)."""
        return float(np.mean(layer_sensitivity(self.bias, self.sigma, self.spread_i)))

    def h3(self, amplitude: float) -> float:
        """Third-harmonic ratio (H3/H1) of a tone of peak field ``amplitude``."""
        c = harmonics(amplitude, self.bias, sigma=self.sigma, spread_i=self.spread_i)
        return float(c[3] / max(c[1], 1e-300))

    def field_at(self, h3_ratio: float = 0.03) -> float:
        """Peak signal field at which a low-frequency tone's remanence has the third-harmonic ratio
        ``h3_ratio`` (bisection in dB)."""
        return _field_at(self.bias, float(h3_ratio), self.sigma, self.spread_i)

    def fundamental(self, amplitude: float) -> float:
        """Amplitude of the remanence's fundamental for a tone of peak field ``amplitude`` (M/Ms)."""
        return float(harmonics(amplitude, self.bias, sigma=self.sigma, spread_i=self.spread_i)[1])


@functools.lru_cache(maxsize=256)
def _field_at(bias: float, h3_ratio: float, sigma: float = SWITCHING_SPREAD, spread_i: float = SPREAD_I) -> float:
    rec = BiasedRecording(bias=bias, sigma=sigma, spread_i=spread_i)
    lo, hi = -40.0, 25.0
    if rec.h3(10 ** (hi / 20)) < h3_ratio:
        return 10 ** (hi / 20)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if rec.h3(10 ** (mid / 20)) < h3_ratio else (lo, mid)
    return 10 ** (0.5 * (lo + hi) / 20)
