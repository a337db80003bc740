"""Service-manual level measurements of a deck: MOL (315 Hz, 3 % H3) and SOL (maximum output at 10 kHz).

Both are record/playback measurements on the deck with its noises and flutter switched off (a
clean copy of the deck: no hiss, hum, print-through or dropouts, no wow and flutter, no speed or
azimuth error), so that they read the recording itself, as a service manual's distortion meter
and selective voltmeter do:

- **MOL** (maximum output level): stepped 315 Hz tones rising in 0.5 dB steps; the output level
  at which the third harmonic reaches 3 %, in dB re the deck's reference level (0 dB on its
  meter, ``REFERENCE_DBFS``), interpolated in log distortion;
- **SOL** (saturation output level): stepped tones at ``freq_hz`` (10 kHz) rising in 1 dB steps to
  +20 dB re reference; the largest output level reached, dB re reference (the output stops
  rising and then falls as the tape saturates at short wavelengths).

:func:`h3_pct` gives the third harmonic of one tone (a Hann-windowed FFT of its steady part).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from izdat._check import check_number
from izdat.audio import Audio
from izdat.tape.deck import REFERENCE_DBFS, TapeDeck, TapeError

__all__ = ["quiet", "h3_pct", "mol_db", "sol_db", "level_sweep", "non_harmonic_dbc"]

#: Sample rate of the test tones, Hz.
RATE_HZ = 48000.0
#: Length of one stepped tone and the part of it skipped before reading, s.
STEP_S, SETTLE_S = 0.2, 0.06


def quiet(deck: TapeDeck) -> TapeDeck:
    """A copy of ``deck`` (its model, tape, bias and record level) with no noises (hiss, hum,
    print-through, modulation noise, dropouts), flutter or errors."""
    if not isinstance(deck, TapeDeck):
        raise TapeError(f"a service measurement needs a TapeDeck, not {type(deck).__name__}")
    p = dataclasses.replace(deck.preset, hiss_db=-300.0, hum_db=-300.0, dropouts_per_min=0.0,
                            flutter_scale_pct=0.0)
    t = dataclasses.replace(deck.tape, print_through_db=-300.0, modulation_noise_db=-300.0)
    return TapeDeck(p, seed=deck.seed, speed_error_pct=0.0, azimuth_arcmin=0.0, bias=deck.bias,
                    record_level_db=deck.record_level_db, tape=t, bias_trim=deck.bias_trim)


def _line(seg, f_hz, fs=RATE_HZ):
    """RMS of the line at ``f_hz`` in ``seg`` (Hann window, ±3 bins summed in power)."""
    n = seg.size
    win = np.hanning(n)
    spec = np.fft.rfft(seg * win)
    k = int(round(f_hz * n / fs))
    lo, hi = max(k - 3, 1), min(k + 4, spec.size)
    return float(np.sqrt(np.sum(np.abs(spec[lo:hi]) ** 2) * 2 / (np.sum(win ** 2) * n)))


def level_sweep(deck: TapeDeck, freq_hz: float, levels_db) -> dict:
    """Stepped tones at ``freq_hz`` and ``levels_db`` (input, dB re reference level) through a quiet
    copy of ``deck``: output level (dB re reference) and third-harmonic ratio (per cent) per step.
    H3 is read only where 3·``freq_hz`` lies below 0.45 of the sample rate (else NaN)."""
    freq_hz = check_number("freq_hz", freq_hz, 20.0, 0.4 * RATE_HZ, "Hz", error=TapeError)
    levels = np.asarray(levels_db, dtype=np.float64)
    d = quiet(deck)
    n, skip = int(STEP_S * RATE_HZ), int(SETTLE_S * RATE_HZ)
    t = np.arange(n) / RATE_HZ
    ramp = np.minimum(1.0, t / 0.004)
    sig = np.concatenate([np.sqrt(2) * 10 ** ((REFERENCE_DBFS + lv) / 20) * ramp
                          * np.sin(2 * np.pi * freq_hz * t) for lv in levels]).astype(np.float32)
    y = d.play(d.record(Audio(sig, RATE_HZ))).samples.astype(np.float64)
    out, h3 = [], []
    for i in range(levels.size):
        seg = y[i * n + skip: (i + 1) * n - 64]
        h1 = _line(seg, freq_hz)
        out.append(20 * np.log10(max(h1, 1e-15)) - REFERENCE_DBFS)
        h3.append(100 * _line(seg, 3 * freq_hz) / max(h1, 1e-15) if 3 * freq_hz < 0.45 * RATE_HZ
                  else np.nan)
    return {"input_db": levels, "output_db": np.array(out), "h3_pct": np.array(h3)}


def h3_pct(deck: TapeDeck, level_db: float, freq_hz: float = 315.0) -> float:
    """Third harmonic (per cent of the fundamental) of a ``freq_hz`` tone at ``level_db`` re the
    reference level, through a quiet copy of ``deck``."""
    return float(level_sweep(deck, freq_hz, [level_db])["h3_pct"][0])


def mol_db(deck: TapeDeck, freq_hz: float = 315.0) -> float:
    """Maximum output level: output (dB re reference level) where H3 of ``freq_hz`` reaches 3 %."""
    sweep = level_sweep(deck, freq_hz, np.arange(-12.0, 20.01, 0.5))
    thd, out = sweep["h3_pct"] / 100.0, sweep["output_db"]
    above = np.nonzero(thd >= 0.03)[0]
    above = above[above > 0]
    if above.size == 0:
        raise TapeError(f"{deck.name}: the third harmonic does not cross 3 % below +20 dB")
    i = int(above[0])
    x0, x1 = np.log(max(thd[i - 1], 1e-12)), np.log(thd[i])
    frac = (np.log(0.03) - x0) / (x1 - x0)
    return float(out[i - 1] + frac * (out[i] - out[i - 1]))


def sol_db(deck: TapeDeck, freq_hz: float = 10_000.0) -> float:
    """Saturation output level: the largest output (dB re reference level) of a ``freq_hz`` tone as
    its input rises to +20 dB re reference (parabolic interpolation around the largest step)."""
    sweep = level_sweep(deck, freq_hz, np.arange(-20.0, 20.01, 1.0))
    out = sweep["output_db"]
    i = int(np.argmax(out))
    if 0 < i < out.size - 1:
        a, b, c = out[i - 1], out[i], out[i + 1]
        den = a - 2 * b + c
        if den < 0:
            return float(b - 0.125 * (a - c) ** 2 / den)
    return float(out[i])


def non_harmonic_dbc(name: str, f0_hz: float = 4300.0, fs_hz: float = 48000.0) -> float:
    """Worst line (dBc) of an ``f0_hz`` tone at the 3 % point (``headroom_db`` re reference) through
    a quiet deck that is not a harmonic of it (±40 Hz): aliasing and other products, 30 Hz to
    Nyquist, Blackman-Harris window over the steady part."""
    import scipy.signal as sps
    d = quiet(TapeDeck(name))
    t = np.arange(int(2.2 * fs_hz)) / fs_hz
    x = (np.sqrt(2) * 10 ** ((REFERENCE_DBFS + d.preset.headroom_db) / 20) * np.minimum(1, t / 0.05)
         * np.sin(2 * np.pi * f0_hz * t)).astype(np.float32)
    y = d.play(d.record(Audio(x, fs_hz))).samples[int(0.8 * fs_hz):][:65536].astype(np.float64)
    spec = np.abs(np.fft.rfft(y * sps.windows.blackmanharris(y.size)))
    f = np.fft.rfftfreq(y.size, 1 / fs_hz)
    db = 20 * np.log10(spec / spec.max() + 1e-30)
    keep = (f > 30) & (np.min(np.abs(f[:, None] - f0_hz * np.arange(1, 12)[None, :]), axis=1) > 40)
    return float(db[keep].max())
