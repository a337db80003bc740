"""Several scans of one record, combined: registered in time and averaged, each by its noise.

Each picture is read on its own (rotated, shifted, exposed as it was); the grooves read are sampled
by angle at the same rate, so the reads differ by a delay (where each read found the groove's start),
a level (how each picture's modulation was measured and normalised) and their noise. Here:

1. **delay**: each read against the first by FFT cross-correlation, the peak placed to a fraction of
   a sample by a parabola through its three highest points, the read moved by that delay exactly
   (a linear phase in the frequency domain) and all cut to the span they share;
2. **level**: with three reads or more, the level ``a_i`` of each follows from the products of the
   pairs, ``<x_i, x_j> = a_i·a_j·|s|²`` (noise independent between scans does not bias them), by
   least squares in logarithms; with two, from their RMS;
3. **noise**: the pairs' differences, ``var(x_i − x_j) = n_i + n_j`` once levels are matched, give
   every read's own noise power ``n_i`` by least squares (three reads or more; two: equal);
4. the reads averaged with weights ``1 / n_i``: with N equally noisy reads the noise falls by
   10·log10(N) dB, a noisier read counts for less.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from izdat.errors import PictureError

__all__ = ["combine_reads", "Combined", "MIN_CORRELATION", "MAX_LAG_S"]

#: Least normalised correlation (0–1) between two reads of one record: four aged scans of one 1.5 s
#: record (tests/test_play_combine.py's) correlate 0.96–0.98 with the first, 0.80 read flat
#: (--denoise 0) on grain-free film; two different songs, or speech against a tone, under 0.1.
#: Below it the scans are taken for different records.
MIN_CORRELATION = 0.3
#: Largest delay (s) searched between two reads: where each read finds the programme's start differs
#: by milliseconds (a fraction of a turn at most: 0.77 s at 78 rpm, 1.8 s at 33⅓).
MAX_LAG_S = 2.0


@dataclass(frozen=True)
class Combined:
    """The combined audio (float32, the first read's level) and what registration found, per read:
    ``delays_samples`` (fractional, against the first), ``levels`` (against the first),
    ``noise_db`` (each read's noise power against the first's, dB; 0 for all with two reads),
    ``weights`` (summing to 1) and ``correlations`` (normalised, with the first)."""

    samples: np.ndarray
    delays_samples: np.ndarray
    levels: np.ndarray
    noise_db: np.ndarray
    weights: np.ndarray
    correlations: np.ndarray


def _delay(x: np.ndarray, ref: np.ndarray, max_lag: int) -> tuple[float, float]:
    """(delay in samples, normalised correlation at it) of ``x`` against ``ref``: x[n] ≈ ref[n − d]."""
    n = len(x) + len(ref)
    size = 1 << int(np.ceil(np.log2(n)))
    cc = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(ref, size)), size)
    lags = np.r_[np.arange(0, max_lag + 1), np.arange(-max_lag, 0)]
    vals = cc[lags % size]
    k = int(np.argmax(vals))
    peak = float(vals[k])
    norm = float(np.sqrt(np.dot(x, x) * np.dot(ref, ref)))
    frac = 0.0
    if 0 < k < len(vals) - 1 and lags[k - 1] == lags[k] - 1 and lags[k + 1] == lags[k] + 1:
        a, b, c = vals[k - 1], vals[k], vals[k + 1]
        den = a - 2 * b + c
        frac = 0.5 * (a - c) / den if den < 0 else 0.0
    return float(lags[k]) + frac, peak / norm if norm > 0 else 0.0


def _shifted(x: np.ndarray, delay: float) -> np.ndarray:
    """``x`` moved earlier by ``delay`` samples (fractional: a linear phase), zero padded so nothing
    wraps round."""
    pad = int(np.ceil(abs(delay))) + 16
    size = 1 << int(np.ceil(np.log2(len(x) + 2 * pad)))
    spec = np.fft.rfft(np.r_[np.zeros(pad), x], size)
    f = np.fft.rfftfreq(size)
    y = np.fft.irfft(spec * np.exp(2j * np.pi * f * delay), size)
    return y[pad:pad + len(x)]


def combine_reads(reads: list[np.ndarray], sample_rate: float, *, names: list[str] | None = None) -> Combined:
    """Register ``reads`` (audio of one record read from several pictures, at ``sample_rate`` Hz) on
    the first, match their levels, and average them weighted by each one's noise.

    Raises :class:`PictureError` naming the read that does not hold the first one's record (its
    correlation with it below MIN_CORRELATION)."""
    if len(reads) < 2:
        raise PictureError("combining needs two reads or more")
    names = names or [f"scan {i + 1}" for i in range(len(reads))]
    xs = [np.asarray(r, np.float64).ravel() for r in reads]
    ref = xs[0]
    max_lag = int(min(MAX_LAG_S * sample_rate, max(len(x) for x in xs) - 1))
    delays, corr = [0.0], [1.0]
    for x, name in zip(xs[1:], names[1:]):
        d, c = _delay(x, ref, max_lag)
        if not c >= MIN_CORRELATION:
            raise PictureError(f"{name} does not hold the record {names[0]} holds: the sound read from it "
                               f"correlates {max(c, 0.0):.2f} with the first's at best (one record's scans: 0.9 "
                               f"and more); several scans must be of one record")
        delays.append(d)
        corr.append(c)
    delays = np.array(delays)
    moved = [x if d == 0 else _shifted(x, d) for x, d in zip(xs, delays)]
    # the span every read covers, in the first's samples: read i's sample k is the first's k − d_i
    start = int(np.ceil(max(0.0, *(-delays))))
    end = int(np.floor(min(len(x) - max(0.0, d) for x, d in zip(xs, delays))))
    end = min(end, len(ref))
    if end - start < 16:
        raise PictureError(f"the reads share no stretch of the record to combine ({names[0]} and the others)")
    m = np.stack([_window(x, start, end) for x in moved])
    n = len(m)
    if n >= 3:
        rows, rhs = [], []
        for i in range(n):
            for j in range(i + 1, n):
                p = float(np.dot(m[i], m[j]))
                if p <= 0:
                    raise PictureError(f"{names[j]} does not hold the record {names[i]} holds: their sounds "
                                       f"do not correlate; several scans must be of one record")
                row = np.zeros(n + 1)
                row[i] = row[j] = 1.0
                row[n] = 1.0                               # log |s|²
                rows.append(row)
                rhs.append(np.log(p))
        sol = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
        levels = np.exp(sol[:n] - sol[0])
    else:
        rms = np.sqrt((m ** 2).mean(axis=1))
        levels = rms / rms[0]
    m = m / levels[:, None]
    if n >= 3:
        rows, rhs = [], []
        for i in range(n):
            for j in range(i + 1, n):
                row = np.zeros(n)
                row[i] = row[j] = 1.0
                rows.append(row)
                rhs.append(float(np.mean((m[i] - m[j]) ** 2)))
        noise = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
        floor = 1e-6 * max(float(np.max(noise)), 1e-300)
        noise = np.maximum(noise, floor)                    # a read cannot be noiseless
    else:
        noise = np.ones(n)
    weights = (1 / noise) / (1 / noise).sum()
    out = (weights[:, None] * m).sum(axis=0)
    return Combined(out.astype(np.float32), delays, levels, 10 * np.log10(noise / noise[0]), weights,
                    np.array(corr))


def _window(x: np.ndarray, start: int, end: int) -> np.ndarray:
    """Samples ``start:end`` of a read already moved onto the first's time line (zeros past its end)."""
    out = np.zeros(end - start)
    lo, hi = max(start, 0), min(end, len(x))
    if hi > lo:
        out[lo - start:hi - start] = x[lo:hi]
    return out
