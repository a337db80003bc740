"""A service-manual tape meter: wow & flutter, signal-to-noise and frequency response.

It plays standard test signals through a deck (record, then play back, as a record/playback
measurement in a service manual) and measures the output like bench instruments do. It knows
nothing of the preset's published figures.

- **Wow & flutter** (IEC 60386 / AES6-2008 method): a 3150 Hz tone at reference level is
  FM-demodulated (analytic signal, instantaneous frequency), the relative frequency deviation is
  weighted by the IEC 60386 / AES6 weighting curve (peak at 4 Hz, fitted to the standard's table
  within 0.35 dB) and read as the standard's 2σ value (:func:`two_sigma`); the older quasi-peak
  reading is given beside it, labelled.
- **S/N**: the maximum output level (MOL) is the level of a 315 Hz tone at which the third
  harmonic reaches 3 %; the noise floor is the output of a tape recorded with no signal, 20 Hz to
  20 kHz, unweighted and A-weighted (IEC 61672, bilinear transform with pre-warped poles at 4× the
  signal's rate: within 0.1 dB of the standard's table to 10 kHz).
- **Frequency response** at −20 dB re the reference level, 1/6-octave stepped tones, and the
  frequencies where it falls 3 dB below its 1 kHz value.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np
import scipy.signal as sps

from izdat._check import check_number
from izdat.audio import Audio
from izdat.tape.deck import REFERENCE_DBFS, TapeDeck, TapeError

__all__ = ["Measurement", "measure", "wow_flutter_pct", "two_sigma", "snr_db", "frequency_response",
           "W_AND_F_WEIGHTING_DB", "weighting_response_db", "a_weighting_response_db", "through"]

#: Sample rate of the meter's test signals, Hz.
METER_RATE_HZ = 48000.0
#: Wow-and-flutter test tone, Hz (IEC 60386).
W_AND_F_TONE_HZ = 3150.0
#: IEC 60386 / AES6 weighting curve (frequency Hz: gain dB re 4 Hz), the table the filter meets.
W_AND_F_WEIGHTING_DB = {0.1: -48.0, 0.2: -30.6, 0.315: -19.7, 0.4: -15.0, 0.63: -8.4, 0.8: -6.0,
                        1.0: -4.2, 1.6: -1.8, 2.0: -0.9, 4.0: 0.0, 6.3: -0.9, 10.0: -2.1,
                        20.0: -5.9, 40.0: -10.4, 63.0: -14.2, 100.0: -17.3, 200.0: -23.0}
#: Quasi-peak detector time constants, s (charge, discharge) — assumed; see docs/tape.md.
QP_ATTACK_S, QP_RELEASE_S = 0.010, 1.5
#: The quasi-peak reading is this percentile of the detector output over the measuring time.
QP_PERCENTILE = 95.0
#: Demodulated deviation is analysed at this rate, Hz.
_FM_RATE_HZ = 2000.0
#: Third-harmonic distortion that defines the maximum output level (3 %).
MOL_THD3 = 0.03


# ---------------------------------------------------------------------------- signals
def _tone(freq_hz, level_dbfs, duration_s, fs=METER_RATE_HZ):
    t = np.arange(int(round(duration_s * fs))) / fs
    amp = np.sqrt(2) * 10 ** (level_dbfs / 20)  # level is rms dBFS of a sine: 0 dBFS rms ≙ peak √2
    fade = np.minimum(1.0, t / 0.005)
    return (amp * fade * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def through(deck: TapeDeck, signal: np.ndarray, generations: int = 1, fs=METER_RATE_HZ) -> np.ndarray:
    """Record ``signal`` on ``deck``, copy it ``generations − 1`` times on the same deck, play it."""
    deck.reset()
    tape = deck.record(Audio(signal, fs))
    for _ in range(generations - 1):
        tape = deck.dub(tape)
    return deck.play(tape).samples


def _band_level(y, fs, f_hz, rel_width=0.02, min_bins=3):
    """RMS of the spectral line at ``f_hz`` (Hann window, summed over ±rel_width or min_bins)."""
    n = y.size
    win = np.hanning(n)
    spec = np.fft.rfft(y * win)
    df = fs / n
    half = max(min_bins, int(np.ceil(rel_width * f_hz / df)))
    k = int(round(f_hz / df))
    lo, hi = max(k - half, 1), min(k + half + 1, spec.size)
    power = np.sum(np.abs(spec[lo:hi]) ** 2)
    return np.sqrt(2 * power / (np.sum(win ** 2) * n))


# ---------------------------------------------------------------------------- wow & flutter
#: The weighting filter as analog corners (Hz), fitted by least squares to the IEC 60386 / AES6 table
#: ``W_AND_F_WEIGHTING_DB`` from 0.2 to 200 Hz (the standards give the curve as a table with
#: tolerances, not as poles and zeros): a first-order high-pass at ``hp1``, a second-order high-pass
#: at ``hp2`` with quality ``q2``, a first-order low-pass at ``lp``, and a zero at ``zero`` with a
#: pole at ``pole`` (the table's slope above 20 Hz is shallower than 6 dB/octave). Residual against
#: the table: at most 0.35 dB (at 6.3 and 63 Hz), tested.
WEIGHTING_CORNERS_HZ = {"hp1": 1.5461, "hp2": 0.4418, "q2": 0.6786, "lp": 9.0226,
                        "zero": 39.3433, "pole": 53.3138}
#: The 2σ reading is the level the weighted deviation's excursions exceed this fraction of the time.
TWO_SIGMA_EXCEEDED = 0.05
#: The weighting filter's settling time skipped before a reading, s.
_SETTLE_S = 2.0
#: Shortest measuring time after settling (AES6: at least 5 s), s.
MIN_MEASURING_S = 5.0


def _prewarp(w, fs):
    """Analog angular frequency ``w`` pre-warped for the bilinear transform at ``fs``."""
    return 2 * fs * np.tan(np.asarray(w) / (2 * fs))


@functools.lru_cache(maxsize=4)
def _weighting_sos(fs):
    """The IEC 60386 / AES6 weighting filter at ``fs`` (corners ``WEIGHTING_CORNERS_HZ``, each
    pre-warped, bilinear transform), unity at 4 Hz."""
    c = WEIGHTING_CORNERS_HZ
    w = {k: _prewarp(2 * np.pi * v, fs) for k, v in c.items() if k != "q2"}
    wn, q = w["hp2"], c["q2"]
    z = np.array([0.0, 0.0, 0.0, -w["zero"]])
    p = np.concatenate([[-w["hp1"], -w["lp"], -w["pole"]],
                        np.roots([1.0, wn / q, wn * wn])])
    zd, pd, kd = sps.bilinear_zpk(z, p, 1.0, fs)
    sos = sps.zpk2sos(zd, pd, kd)
    _, h = sps.sosfreqz(sos, worN=[4.0], fs=fs)
    sos[0, :3] /= abs(h[0])
    return sos


def weighting_response_db(f_hz) -> np.ndarray:
    """The meter's W&F weighting filter response in dB (re 4 Hz) at ``f_hz``, as it runs."""
    _, h = sps.sosfreqz(_weighting_sos(_FM_RATE_HZ), worN=np.atleast_1d(f_hz), fs=_FM_RATE_HZ)
    return 20 * np.log10(np.abs(h))


def _quasi_peak(x, fs):
    """Peak detector: charges with QP_ATTACK_S, discharges with QP_RELEASE_S (Numba kernel)."""
    from izdat.tape._qp import quasi_peak
    return quasi_peak(np.abs(x).astype(np.float64), np.exp(-1 / (QP_ATTACK_S * fs)),
                      np.exp(-1 / (QP_RELEASE_S * fs)))


def _weigh(deviation, fs, weighted):
    x = deviation - np.mean(deviation)
    return sps.sosfilt(_weighting_sos(fs), x) if weighted else x


@functools.lru_cache(maxsize=1)
def _qp_calibration() -> float:
    """Reading of the quasi-peak chain for a 4 Hz sine of unit peak deviation (meters are
    calibrated so that this reads the peak)."""
    fs = _FM_RATE_HZ
    t = np.arange(int(20 * fs)) / fs
    return _qp_read(np.sin(2 * np.pi * 4.0 * t), fs, weighted=True)


def _qp_read(deviation, fs, *, weighted):
    det = _quasi_peak(_weigh(deviation, fs, weighted), fs)
    return float(np.percentile(det[int(3 * fs):], QP_PERCENTILE))


def two_sigma(deviation: np.ndarray, fs: float = _FM_RATE_HZ, *, weighted: bool = True) -> float:
    """AES6-2008 "two-sigma" reading of a relative frequency deviation (same unit as the input).

    The deviation (mean removed) is weighted (IEC 60386 / AES6 curve), and the reading is the level
    that the magnitude of the weighted deviation exceeds ``TWO_SIGMA_EXCEEDED`` (5 %) of the
    measuring time, after the filter's ``_SETTLE_S`` settling: the ± peak excursion that
    AES6's statistical voltmeter reports. For Gaussian flutter of standard deviation σ (after the
    weighting) it reads 1.96σ (hence "2σ"); for a sine of peak deviation p it reads
    sin(0.95·π/2)·p = 0.9969 p (so 0.01 % peak at 4 Hz reads 0.00997 %, as the reference files of
    Virtins' note on the method do). AES6 describes the chain as demodulate, weight, peak-to-peak
    detect, time-weight, read on a 2σ statistical voltmeter over at least 5 s; we apply the 2σ
    statistic to the excursions themselves (± half the peak-to-peak for symmetric flutter) and over
    the whole measuring time rather than through a meter's time-response weighting, since the
    standard's text (paywalled) was not available here.
    """
    x = _weigh(np.asarray(deviation, dtype=np.float64), fs, weighted)[int(_SETTLE_S * fs):]
    return float(np.quantile(np.abs(x), 1.0 - TWO_SIGMA_EXCEEDED))


def instantaneous_hz(y: np.ndarray, fs: float, tone_hz: float = W_AND_F_TONE_HZ) -> np.ndarray:
    """Instantaneous frequency (Hz) of a recorded tone near ``tone_hz``, at _FM_RATE_HZ, with the
    filters' edges (0.2 s each end) cut off."""
    sos = sps.butter(4, [tone_hz / 1.5, min(tone_hz * 1.5, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    analytic = sps.hilbert(sps.sosfilt(sos, np.asarray(y, dtype=np.float64)))
    phase = np.unwrap(np.angle(analytic))
    inst_hz = np.diff(phase) * fs / (2 * np.pi)
    lp = sps.butter(4, 300.0, fs=fs, output="sos")
    smooth = sps.sosfiltfilt(lp, inst_hz)
    step = max(1, int(round(fs / _FM_RATE_HZ)))
    f = smooth[::step]
    edge = int(0.2 * _FM_RATE_HZ)
    return f[edge:-edge]


def frequency_deviation(y: np.ndarray, fs: float, tone_hz: float = W_AND_F_TONE_HZ) -> np.ndarray:
    """Relative frequency deviation (dimensionless) of a recorded tone, at _FM_RATE_HZ."""
    f = instantaneous_hz(y, fs, tone_hz)
    return f / np.median(f) - 1.0


def wow_flutter_pct(y: np.ndarray, fs: float, *, weighted: bool = True, method: str = "2sigma",
                    tone_hz: float = W_AND_F_TONE_HZ) -> float:
    """Wow & flutter of a recorded ``tone_hz`` tone, in per cent (± peak).

    ``method="2sigma"`` (default) is the AES6-2008 / IEC 60386 reading (:func:`two_sigma`);
    ``method="quasi-peak"`` the older quasi-peak detector (charge ``QP_ATTACK_S``, discharge
    ``QP_RELEASE_S``, assumed; its ``QP_PERCENTILE`` th percentile, calibrated on a 4 Hz sine).
    """
    if method not in ("2sigma", "quasi-peak"):
        raise TapeError(f"method must be '2sigma' or 'quasi-peak', not {method!r}")
    dev = frequency_deviation(y, fs, tone_hz)
    if dev.size < (_SETTLE_S + MIN_MEASURING_S) * _FM_RATE_HZ:
        raise TapeError(f"a wow-and-flutter reading needs at least {_SETTLE_S + MIN_MEASURING_S + 0.4:g} s "
                        f"of the {tone_hz:g} Hz tone")
    if method == "2sigma":
        return 100.0 * two_sigma(dev, _FM_RATE_HZ, weighted=weighted)
    return 100.0 * _qp_read(dev, _FM_RATE_HZ, weighted=weighted) / _qp_calibration()


# ---------------------------------------------------------------------------- S/N
#: A-weighting runs at this multiple of the signal's rate (the signal is upsampled first), so the
#: bilinear transform's warping stays under 0.05 dB to 10 kHz.
A_OVERSAMPLING = 4
#: IEC 61672-1 A-weighting pole frequencies, Hz (f1 and f4 double).
A_POLES_HZ = (20.598997, 20.598997, 107.65265, 737.86223, 12194.217, 12194.217)


@functools.lru_cache(maxsize=8)
def _a_weighting_sos(fs):
    """IEC 61672 A-weighting at the rate ``fs`` it runs at: the analog poles pre-warped, bilinear
    transform, 0 dB at 1 kHz."""
    p = -_prewarp(2 * np.pi * np.array(A_POLES_HZ), fs)
    zd, pd, kd = sps.bilinear_zpk(np.zeros(4), p, 1.0, fs)
    sos = sps.zpk2sos(zd, pd, kd)
    _, h = sps.sosfreqz(sos, worN=[1000.0], fs=fs)
    sos[0, :3] /= abs(h[0])
    return sos


def a_weighting_response_db(f_hz, sample_rate: float) -> np.ndarray:
    """The A-weighting filter's response (dB re 1 kHz) at ``f_hz`` for a signal at ``sample_rate``
    (the filter runs at ``A_OVERSAMPLING`` × ``sample_rate``)."""
    fs = A_OVERSAMPLING * float(sample_rate)
    _, h = sps.sosfreqz(_a_weighting_sos(fs), worN=np.atleast_1d(np.asarray(f_hz, float)), fs=fs)
    return 20 * np.log10(np.abs(h))


def a_weighted(x: np.ndarray, fs: float) -> np.ndarray:
    """``x`` upsampled ``A_OVERSAMPLING`` times and A-weighted (at the higher rate: rms is kept)."""
    up = sps.resample_poly(np.asarray(x, dtype=np.float64), A_OVERSAMPLING, 1)
    return sps.sosfilt(_a_weighting_sos(A_OVERSAMPLING * float(fs)), up)


def _noise_rms(y, fs, weighting):
    band = sps.butter(4, [20.0, min(20000.0, 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    x = sps.sosfilt(band, y.astype(np.float64))
    x = x[int(0.5 * fs):]
    if weighting == "A":
        x = a_weighted(x, fs)[int(0.05 * A_OVERSAMPLING * fs):]
    return float(np.sqrt(np.mean(x ** 2)))


def max_output_level_dbfs(deck: TapeDeck, tone_hz: float = 315.0) -> tuple[float, float]:
    """(output dBFS, input dBFS) of a ``tone_hz`` tone at 3 % third-harmonic distortion."""
    fs = METER_RATE_HZ
    levels = np.arange(-10.0, 18.5, 1.0) + REFERENCE_DBFS
    step_s = 0.3
    sig = np.concatenate([_tone(tone_hz, lv, step_s) for lv in levels])
    y = through(deck, sig)
    n = int(step_s * fs)
    thd, out = [], []
    for i in range(levels.size):
        seg = y[i * n + int(0.1 * fs): (i + 1) * n]
        h1 = _band_level(seg, fs, tone_hz)
        h3 = _band_level(seg, fs, 3 * tone_hz)
        thd.append(h3 / max(h1, 1e-12))
        out.append(20 * np.log10(max(h1, 1e-12)))
    thd = np.array(thd)
    above = np.nonzero(thd >= MOL_THD3)[0]
    if above.size == 0 or above[0] == 0:
        raise TapeError(f"{deck.name}: third harmonic never crosses 3 % in the measured range")
    i = above[0]
    # interpolate in dB of level against log of distortion
    x0, x1 = np.log(thd[i - 1]), np.log(thd[i])
    frac = (np.log(MOL_THD3) - x0) / (x1 - x0)
    return float(out[i - 1] + frac * (out[i] - out[i - 1])), float(levels[i - 1] + frac)


def noise_floor_dbfs(deck: TapeDeck, generations: int = 1, duration_s: float = 4.0) -> dict:
    """Noise output (dBFS rms) of a tape recorded with no input, after ``generations`` copies."""
    fs = METER_RATE_HZ
    y = through(deck, np.zeros(int(duration_s * fs), np.float32), generations)
    return {w: 20 * np.log10(_noise_rms(y, fs, w)) for w in ("unweighted", "A")}


def snr_db(deck: TapeDeck, generations: int = 1) -> dict:
    """S/N in dB (unweighted and A): MOL (315 Hz, 3 % H3, first generation) over the noise floor
    of a tape copied ``generations`` times."""
    mol, _ = max_output_level_dbfs(deck)
    noise = noise_floor_dbfs(deck, generations)
    return {"mol_dbfs": mol, "unweighted": mol - noise["unweighted"], "A": mol - noise["A"]}


# ---------------------------------------------------------------------------- frequency response
def frequency_response(deck: TapeDeck, generations: int = 1, level_db: float = -20.0) -> dict:
    """Response (dB re 1 kHz) at 1/6-octave tones from 20 Hz, ``level_db`` re reference level,
    and its −3 dB limits ``lower_hz`` / ``upper_hz``."""
    fs = METER_RATE_HZ
    freqs = 1000.0 * 2.0 ** (np.arange(-50, 27) / 6.0)
    freqs = freqs[freqs <= 0.45 * fs]
    durs = np.where(freqs < 150, 0.3, 0.12)
    lv = REFERENCE_DBFS + level_db
    sig = np.concatenate([_tone(f, lv, d) for f, d in zip(freqs, durs)])
    y = through(deck, sig, generations)
    edges = np.concatenate([[0], np.cumsum((durs * fs).round().astype(int))])
    levels = []
    for f, a, b in zip(freqs, edges[:-1], edges[1:]):
        seg = y[a + int(0.04 * fs): b]
        levels.append(20 * np.log10(max(_band_level(seg, fs, f, rel_width=0.03), 1e-12)))
    levels = np.array(levels)
    ref = np.interp(0.0, np.log2(freqs / 1000.0), levels)
    resp = levels - ref
    return {"freqs_hz": freqs, "response_db": resp,
            "upper_hz": _crossing(freqs, resp, upward=True),
            "lower_hz": _crossing(freqs, resp, upward=False)}


def _crossing(freqs, resp, *, upward):
    i0 = int(np.argmin(np.abs(freqs - 1000.0)))
    idx = range(i0, freqs.size) if upward else range(i0, -1, -1)
    prev = i0
    for i in idx:
        if resp[i] < -3.0:
            r0, r1 = resp[prev], resp[i]
            frac = (-3.0 - r0) / (r1 - r0)
            return float(np.exp(np.log(freqs[prev]) + frac * (np.log(freqs[i]) - np.log(freqs[prev]))))
        prev = i
    return float(freqs[-1] if upward else freqs[0])


# ---------------------------------------------------------------------------- all together
@dataclass(frozen=True)
class Measurement:
    """What :func:`measure` found (units in the names).

    ``wow_flutter_pct`` is the weighted 2σ reading (AES6-2008 / IEC 60386), ``wow_flutter_unweighted_pct``
    the unweighted 2σ one and ``wow_flutter_qp_pct`` the weighted quasi-peak reading of the older meters.
    """

    deck: str
    generations: int
    wow_flutter_pct: float
    wow_flutter_unweighted_pct: float
    wow_flutter_qp_pct: float
    snr_db: float
    snr_a_db: float
    mol_dbfs: float
    upper_hz: float
    lower_hz: float

    def as_dict(self) -> dict:
        return asdict(self)


def measure_wow_flutter(deck: TapeDeck, generations: int = 1, duration_s: float = 12.0) -> dict:
    """W&F (%) of a 3150 Hz tone through ``generations`` copies: ``weighted`` and ``unweighted`` 2σ
    readings and the weighted ``quasi_peak`` one."""
    y = through(deck, _tone(W_AND_F_TONE_HZ, REFERENCE_DBFS, duration_s), generations)
    return {"weighted": wow_flutter_pct(y, METER_RATE_HZ),
            "unweighted": wow_flutter_pct(y, METER_RATE_HZ, weighted=False),
            "quasi_peak": wow_flutter_pct(y, METER_RATE_HZ, method="quasi-peak")}


def measure(deck: TapeDeck, generations: int = 1) -> Measurement:
    """Measure ``deck`` (record/playback, ``generations`` copies on the same deck) like a manual."""
    if not isinstance(deck, TapeDeck):
        raise TapeError(f"measure needs a TapeDeck, not {type(deck).__name__}")
    generations = int(generations)
    if not 1 <= generations <= 50:
        raise TapeError(f"generations must be between 1 and 50, not {generations}")
    wf = measure_wow_flutter(deck, generations)
    sn = snr_db(deck, generations)
    fr = frequency_response(deck, generations)
    return Measurement(deck.name, generations, round(wf["weighted"], 4), round(wf["unweighted"], 4),
                       round(wf["quasi_peak"], 4),
                       round(sn["unweighted"], 2), round(sn["A"], 2), round(sn["mol_dbfs"], 2),
                       round(fr["upper_hz"], 1), round(fr["lower_hz"], 1))


# ---------------------------------------------------------------------------- a user's own recording
#: Third-octave band centres (IEC 61260 base-10 nominal), Hz, 25 Hz to 20 kHz.
THIRD_OCTAVE_HZ = 1000.0 * 10 ** (np.arange(-16, 14) / 10)
#: A recording is a test tone when the line near the nominal frequency (±2 %) holds this share of
#: the power from 20 Hz up.
TONE_SHARE = 0.5
#: A recording is broadband (noise or a sweep) when at least this many third-octave bands lie within
#: ``BROADBAND_SPAN_DB`` of its loudest band.
BROADBAND_BANDS, BROADBAND_SPAN_DB = 10, 30.0


def _psd(x, fs):
    nper = int(min(x.size, 2 ** int(np.log2(max(fs, 2048)) + 1)))
    return sps.welch(x, fs=fs, nperseg=nper, window="hann")


def _bands_db(f, pxx, fs):
    """Band power (dB, arbitrary reference) in each third-octave band that fits below 0.45 fs."""
    centres = THIRD_OCTAVE_HZ[THIRD_OCTAVE_HZ * 2 ** (1 / 6) < 0.45 * fs]
    df = f[1] - f[0]
    out = []
    for c in centres:
        sel = (f >= c * 2 ** (-1 / 6)) & (f < c * 2 ** (1 / 6))
        out.append(10 * np.log10(max(float(np.sum(pxx[sel]) * df), 1e-30)))
    return centres, np.array(out)


def analyse_recording(samples: np.ndarray, sample_rate: float, *, tone_hz: float = W_AND_F_TONE_HZ,
                      name: str = "the recording") -> dict:
    """Measure a recording with this meter, as a collector measures a tape transfer.

    A test tone near ``tone_hz`` (it holds at least ``TONE_SHARE`` of the power): weighted W&F (2σ
    and quasi-peak, per cent), unweighted 2σ, and the speed error, the mean frequency against
    ``tone_hz`` (per cent; + is fast). Noise or a sweep (``BROADBAND_BANDS`` third-octave bands within
    ``BROADBAND_SPAN_DB`` of the loudest): the third-octave band levels in dB re the 1 kHz band, and
    the −3 dB limits; flat for pink noise or a logarithmic sweep (equal energy per band), +1 dB per
    band for white noise.

    Raises
    ------
    TapeError
        NaN or infinite samples, under 1 s, a tone too short for a W&F reading, or neither a tone
        nor broadband sound.
    """
    tone_hz = check_number("tone_hz", tone_hz, 100.0, 20000.0, "Hz", error=TapeError)
    fs = float(sample_rate)
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if not np.all(np.isfinite(x)):
        raise TapeError(f"{name} holds NaN or infinite samples")
    if x.size < fs:
        raise TapeError(f"{name} is {x.size / fs:.2f} s long; the meter needs at least 1 s")
    if tone_hz * 1.25 > 0.45 * fs:
        raise TapeError(f"a {tone_hz:g} Hz tone cannot be measured at {fs:g} Hz sampling")
    f, pxx = _psd(x, fs)
    audio_band = (f >= 20.0) & (f <= min(20000.0, 0.45 * fs))
    total = float(np.sum(pxx[audio_band]))
    if total <= 0.0:
        raise TapeError(f"{name} is silent: it holds no tone, sweep or noise to measure")
    near = (f >= tone_hz / 1.25) & (f <= tone_hz * 1.25)
    peak = float(f[near][np.argmax(pxx[near])])
    line = float(np.sum(pxx[(f >= peak * 0.98) & (f <= peak * 1.02)]))
    if line >= TONE_SHARE * total:
        inst = instantaneous_hz(x, fs, peak)
        dev = inst / np.median(inst) - 1.0
        need_s = _SETTLE_S + MIN_MEASURING_S + 0.4
        if dev.size < (_SETTLE_S + MIN_MEASURING_S) * _FM_RATE_HZ:
            raise TapeError(f"{name} holds {x.size / fs:.1f} s of the tone; a wow-and-flutter reading "
                            f"needs at least {need_s:g} s")
        return {"kind": "tone", "tone_hz": tone_hz, "measured_hz": round(float(np.mean(inst)), 4),
                "speed_error_pct": round(100.0 * (float(np.mean(inst)) / tone_hz - 1.0), 4),
                "wow_flutter_2sigma_pct": round(100.0 * two_sigma(dev, _FM_RATE_HZ), 4),
                "wow_flutter_unweighted_2sigma_pct": round(100.0 * two_sigma(dev, _FM_RATE_HZ, weighted=False), 4),
                "wow_flutter_qp_pct": round(100.0 * _qp_read(dev, _FM_RATE_HZ, weighted=True) / _qp_calibration(), 4)}
    centres, levels = _bands_db(f, pxx, fs)
    if np.count_nonzero(levels >= levels.max() - BROADBAND_SPAN_DB) >= BROADBAND_BANDS:
        ref = float(np.interp(0.0, np.log2(centres / 1000.0), levels))
        resp = levels - ref
        return {"kind": "broadband", "bands_hz": [round(float(c), 1) for c in centres],
                "response_db": [round(float(r), 2) for r in resp],
                "upper_hz": round(_crossing(centres, resp, upward=True), 1),
                "lower_hz": round(_crossing(centres, resp, upward=False), 1)}
    strongest = float(f[audio_band][np.argmax(pxx[audio_band])])
    raise TapeError(f"no {tone_hz:g} Hz tone found in {name} (its strongest line is at {strongest:.0f} Hz), "
                    f"and it is no sweep or noise either")
