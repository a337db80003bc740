"""Fidelity measures for read-back audio: tone SNR, wow, scale-invariant SNR after alignment, the best
linear fit (its noise-and-distortion SNR and its response) and STOI."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import signal

__all__ = ["tone_snr_db", "wow_percent", "si_snr_db", "align", "LinearFit", "linear_fit", "response_db",
           "worst_response_db", "stoi"]


def tone_snr_db(x: np.ndarray, sample_rate: float, freq_hz: float = 1000.0, *, notch_hz: float = 20.0,
                band_hz: tuple = (20.0, 20_000.0), skip_s: float = 0.1) -> float:
    """SNR (dB) of a tone: power within ±``notch_hz`` of ``freq_hz`` over everything else in
    ``band_hz`` (noise and distortion), as a notch-filter analyser measures it (Blackman–Harris
    window, the first and last ``skip_s`` seconds left out)."""
    x = np.asarray(x, np.float64)
    k = int(skip_s * sample_rate)
    x = x[k:len(x) - k] if len(x) > 4 * k else x
    w = signal.windows.blackmanharris(len(x))
    p = np.abs(np.fft.rfft((x - x.mean()) * w)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / sample_rate)
    tone = np.abs(f - freq_hz) <= notch_hz
    rest = (f >= band_hz[0]) & (f <= min(band_hz[1], sample_rate / 2)) & ~tone
    return float(10 * np.log10(p[tone].sum() / max(p[rest].sum(), 1e-300)))


def wow_percent(x: np.ndarray, sample_rate: float, freq_hz: float = 1000.0, *, skip_s: float = 0.1) -> float:
    """Peak speed deviation (%) of a tone, from its instantaneous frequency (unweighted)."""
    x = np.asarray(x, np.float64)
    sos = signal.butter(4, [0.7 * freq_hz, 1.3 * freq_hz], "bandpass", fs=sample_rate, output="sos")
    a = signal.hilbert(signal.sosfiltfilt(sos, x))
    inst = np.diff(np.unwrap(np.angle(a))) * sample_rate / (2 * np.pi)
    k = int(skip_s * sample_rate)
    inst = inst[k:len(inst) - k]
    sm = signal.sosfiltfilt(signal.butter(2, 200, fs=sample_rate, output="sos"), inst)
    return float(np.max(np.abs(sm - freq_hz)) / freq_hz * 100)


def align(est: np.ndarray, ref: np.ndarray, max_lag: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """``est`` and ``ref`` cut to their common part after the lag that best aligns them (``est`` is
    moved by the fraction of a sample the correlation peak's parabola gives, then by whole samples)."""
    n = min(len(est), len(ref))
    a, b = np.asarray(est[:n], np.float64), np.asarray(ref[:n], np.float64)
    c = signal.correlate(a, b, mode="full", method="fft")
    mid = n - 1
    lo, hi = max(0, mid - max_lag), min(len(c), mid + max_lag + 1)
    k = int(np.argmax(c[lo:hi]) + lo)
    lag = k - mid
    if 0 < k < len(c) - 1:                      # the fraction of a sample, from the peak's parabola
        den = c[k - 1] - 2 * c[k] + c[k + 1]
        frac = 0.5 * (c[k - 1] - c[k + 1]) / den if den < 0 else 0.0
        if abs(frac) < 0.5 and frac != 0.0:
            f = np.fft.rfftfreq(n)
            a = np.fft.irfft(np.fft.rfft(a) * np.exp(2j * np.pi * f * frac), n)
    if lag > 0:
        return a[lag:], b[:n - lag]
    if lag < 0:
        return a[:n + lag], b[-lag:]
    return a, b


def si_snr_db(est: np.ndarray, ref: np.ndarray, sample_rate: float, *, band_hz: tuple = (60.0, 5000.0),
              skip_s: float = 0.1) -> float:
    """Scale-invariant SNR (dB) of ``est`` against ``ref`` in ``band_hz``, after aligning them."""
    sos = signal.butter(4, band_hz, "bandpass", fs=sample_rate, output="sos")
    e = signal.sosfiltfilt(sos, np.asarray(est, np.float64))
    r = signal.sosfiltfilt(sos, np.asarray(ref, np.float64))
    e, r = align(e, r)
    k = int(skip_s * sample_rate)
    e, r = e[k:len(e) - k], r[k:len(r) - k]
    target = (e @ r) / (r @ r) * r
    noise = e - target
    return float(10 * np.log10((target @ target) / max(noise @ noise, 1e-300)))


class LinearFit(NamedTuple):
    """The best linear filter from a reference to an estimate, frequency by frequency.

    ``freqs_hz``: the Welch bins within the band (Hz); ``response_db``: the filter's magnitude at
    each bin, in dB re its value at 1 kHz (or re its band mean when 1 kHz is outside the band);
    ``snr_per_freq_db``: the coherent output's power over what no linear filter explains, per bin
    (dB; coherence γ² shown as γ²/(1−γ²)); ``snr_db``: the same over the whole band, the
    noise-and-distortion SNR a listener gets after the best linear correction (dB)."""

    freqs_hz: np.ndarray
    response_db: np.ndarray
    snr_per_freq_db: np.ndarray
    snr_db: float


def _spectra(est, ref, sample_rate, nperseg, skip_s):
    """Aligned Welch spectra: (f, Sxx of ref, Syy of est, |Sxy|²/Sxx the coherent part of Syy)."""
    e, r = align(np.asarray(est, np.float64), np.asarray(ref, np.float64))
    k = int(skip_s * sample_rate)
    if len(e) > 4 * k:
        e, r = e[k:len(e) - k], r[k:len(r) - k]
    if nperseg is None:                         # ≈ 46 ms windows: 2048 samples at 44.1 kHz
        nperseg = int(2 ** round(np.log2(0.046 * sample_rate)))
    nperseg = int(min(nperseg, len(r)))
    f, sxx = signal.welch(r, sample_rate, nperseg=nperseg)
    _, syy = signal.welch(e, sample_rate, nperseg=nperseg)
    _, sxy = signal.csd(r, e, sample_rate, nperseg=nperseg)
    tiny = 1e-30 * max(float(sxx.max()), 1e-300)
    coh = np.minimum(np.abs(sxy) ** 2 / np.maximum(sxx, tiny), syy)
    return f, sxx, syy, coh


def linear_fit(est: np.ndarray, ref: np.ndarray, sample_rate: float, *, band_hz: tuple = (60.0, 5000.0),
               nperseg: int | None = None, skip_s: float = 0.1) -> LinearFit:
    """The best linear filter H from ``ref`` to ``est`` per frequency (H = Sxy/Sxx, Welch cross-spectra
    with Hann windows of ``nperseg`` samples, ≈ 46 ms by default), after :func:`align`.

    The total noise-and-distortion SNR over ``band_hz`` is 10·log10(Σ|H|²Sxx / Σ(Syy − |H|²Sxx)):
    no filter applied to ``est`` changes it, so a muffled copy scores as high as the original and
    only noise, distortion and what the reader invents count against it. Read it with the response,
    which says how muffled (or bright) ``est`` is. Welch's estimate with K segments cannot see an
    SNR much above 10·log10(K) dB per bin in a bin whose reference is weak; over a band of white-ish
    signal it reads to about 40–60 dB on a few seconds. ``skip_s`` (s) is left out at each end."""
    f, sxx, syy, coh = _spectra(est, ref, sample_rate, nperseg, skip_s)
    band = (f >= band_hz[0]) & (f <= band_hz[1])
    if band.sum() < 2:
        raise ValueError(f"the band {band_hz[0]:g}-{band_hz[1]:g} Hz holds fewer than two bins at {sample_rate:g} Hz")
    f, sxx, syy, coh = f[band], sxx[band], syy[band], coh[band]
    noise = np.maximum(syy - coh, 1e-300)
    gain2 = coh / np.maximum(sxx, 1e-300)
    ref_gain2 = _gain2_at(f, sxx, coh, 1000.0) if band_hz[0] <= 1000.0 <= band_hz[1] else coh.sum() / sxx.sum()
    return LinearFit(freqs_hz=f, response_db=10 * np.log10(np.maximum(gain2, 1e-300) / ref_gain2),
                     snr_per_freq_db=10 * np.log10(np.maximum(coh, 1e-300) / noise),
                     snr_db=float(10 * np.log10(max(coh.sum(), 1e-300) / noise.sum())))


def _gain2_at(f, sxx, coh, freq_hz, octave=1 / 3):
    """|H|² over the ``octave``-wide band around ``freq_hz``: Σ|H|²Sxx / ΣSxx there (the reference's
    power weights each bin, so a bin where the reference is silent does not count)."""
    lo, hi = freq_hz * 2 ** (-octave / 2), freq_hz * 2 ** (octave / 2)
    sel = (f >= lo) & (f <= hi)
    if not sel.any():
        sel = np.abs(f - freq_hz) == np.abs(f - freq_hz).min()
    return max(float(coh[sel].sum() / max(sxx[sel].sum(), 1e-300)), 1e-300)


def response_db(est: np.ndarray, ref: np.ndarray, sample_rate: float, freqs_hz, *, octave: float = 1 / 3,
                nperseg: int | None = None, skip_s: float = 0.1) -> np.ndarray:
    """Magnitude (dB) of the best linear fit from ``ref`` to ``est`` at each of ``freqs_hz`` (Hz),
    re its value at 1 kHz: each point is the fit over the ``octave``-wide band around it (a third
    of an octave by default), weighted by the reference's power, so speech's gaps between
    harmonics do not make it jump. Phase (a residual delay) does not enter."""
    f, sxx, _, coh = _spectra(est, ref, sample_rate, nperseg, skip_s)
    at_1k = _gain2_at(f, sxx, coh, 1000.0, octave)
    return np.array([10 * np.log10(_gain2_at(f, sxx, coh, float(q), octave) / at_1k)
                     for q in np.atleast_1d(freqs_hz)])


def worst_response_db(est: np.ndarray, ref: np.ndarray, sample_rate: float, *, band_hz: tuple = (250.0, 4000.0),
                      per_octave: int = 6) -> float:
    """The largest |response| (dB re 1 kHz) of :func:`response_db` on ``per_octave`` points an octave
    across ``band_hz``: the "flat within ±x dB" figure. A bright result counts as much as a muffled one."""
    n = int(np.ceil(np.log2(band_hz[1] / band_hz[0]) * per_octave)) + 1
    freqs = np.geomspace(band_hz[0], band_hz[1], n)
    return float(np.max(np.abs(response_db(est, ref, sample_rate, freqs))))


def stoi(est: np.ndarray, ref: np.ndarray, sample_rate: float, *, extended: bool = False) -> float:
    """Short-time objective intelligibility (Taal et al. 2011; 0…1, higher is more intelligible) of
    ``est`` against ``ref`` after :func:`align`, by ``pystoi`` (optional: ``pip install pystoi``).
    ``extended`` gives ESTOI (Jensen & Taal 2016), which also counts distortions between bands."""
    try:
        from pystoi import stoi as _stoi
    except ImportError:
        raise ImportError("STOI needs the optional package pystoi: pip install pystoi (or izdat[bench])") from None
    e, r = align(np.asarray(est, np.float64), np.asarray(ref, np.float64))
    return float(_stoi(r, e, int(round(sample_rate)), extended=extended))
