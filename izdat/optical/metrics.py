"""Fidelity measures for read-back audio: tone SNR, wow, and scale-invariant SNR after alignment."""

from __future__ import annotations

import numpy as np
from scipy import signal

__all__ = ["tone_snr_db", "wow_percent", "si_snr_db", "align"]


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
