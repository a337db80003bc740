"""The meter against signals of known flutter and the standards' tables (issue 16, item 7)."""

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from izdat.tape.meter import (W_AND_F_WEIGHTING_DB, a_weighting_response_db, weighting_response_db,
                              wow_flutter_pct)

FS = 48000.0
TONE = 3150.0
#: IEC 61672-1 Table 3, A-weighting at the base-10 nominal frequencies 1000·10^(n/10) Hz, dB.
A_TABLE = {-20: -70.4, -19: -63.4, -18: -56.7, -17: -50.5, -16: -44.7, -15: -39.4, -14: -34.6,
           -13: -30.2, -12: -26.2, -11: -22.5, -10: -19.1, -9: -16.1, -8: -13.4, -7: -10.9,
           -6: -8.6, -5: -6.6, -4: -4.8, -3: -3.2, -2: -1.9, -1: -0.8, 0: 0.0, 1: 0.6, 2: 1.0,
           3: 1.2, 4: 1.3, 5: 1.2, 6: 1.0, 7: 0.5, 8: -0.1, 9: -1.1, 10: -2.5}


def _fm_tone(deviation, fs=FS, f0=TONE):
    """A tone whose relative frequency deviation is ``deviation`` (one value per sample)."""
    phase = 2 * np.pi * f0 * np.cumsum(1.0 + deviation) / fs
    return 0.25 * np.sin(phase)


def _table_db(f):
    """The IEC 60386 table's weight in dB at ``f``: exact at its points, a cubic spline in log f
    between them (the standard draws a smooth curve through them)."""
    f0 = np.log(list(W_AND_F_WEIGHTING_DB))
    return CubicSpline(f0, np.array(list(W_AND_F_WEIGHTING_DB.values())))(np.log(f))


def test_weighting_meets_the_iec_60386_table():
    f = np.array(list(W_AND_F_WEIGHTING_DB))
    err = weighting_response_db(f) - np.array(list(W_AND_F_WEIGHTING_DB.values()))
    assert np.max(np.abs(err[f >= 0.2])) < 0.4, err


@pytest.mark.parametrize("fm_hz", [4.0, 0.5, 20.0, 100.0])
def test_a_sine_fm_of_known_peak_deviation_reads_within_3_percent(fm_hz):
    """2σ of a sine of peak p is sin(0.95·π/2)·p = 0.9969 p, times the table's weight."""
    p = 0.002
    t = np.arange(int(14 * FS)) / FS
    y = _fm_tone(p * np.sin(2 * np.pi * fm_hz * t))
    expected = 100 * p * np.sin(0.95 * np.pi / 2) * 10 ** (_table_db(fm_hz) / 20)
    assert wow_flutter_pct(y, FS) == pytest.approx(expected, rel=0.03)
    # unweighted: the peak itself at any rate
    assert wow_flutter_pct(y, FS, weighted=False) == pytest.approx(100 * p * 0.9969, rel=0.03)


def test_the_quasi_peak_reading_is_kept_beside_it_and_reads_a_4hz_sine_at_its_peak():
    t = np.arange(int(14 * FS)) / FS
    y = _fm_tone(0.003 * np.sin(2 * np.pi * 4.0 * t))
    assert wow_flutter_pct(y, FS, method="quasi-peak") == pytest.approx(0.3, rel=0.03)


def test_gaussian_flutter_of_known_weighted_sigma_reads_1_96_sigma():
    """Gaussian flutter, 0.3–60 Hz; its σ after the table's weighting is set exactly in the
    frequency domain (Parseval); the 2σ reading is the level |x| exceeds 5 % of the time: 1.96σ."""
    rng = np.random.default_rng(16)
    rate, dur = 2000.0, 40.0
    n = int(rate * dur)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / rate)
    spec[(f < 0.3) | (f > 60.0)] = 0.0
    weights = np.zeros_like(f)
    band = spec != 0
    weights[band] = 10 ** (_table_db(f[band]) / 20)
    sigma_w = np.sqrt(np.mean(np.fft.irfft(spec * weights, n) ** 2))
    target = 0.001  # σ after weighting: 0.1 %
    dev = np.fft.irfft(spec, n) * (target / sigma_w)
    t_audio = np.arange(int(dur * FS)) / FS
    y = _fm_tone(np.interp(t_audio, np.arange(n) / rate, dev))
    assert wow_flutter_pct(y, FS) == pytest.approx(100 * 1.96 * target, rel=0.03)


@pytest.mark.parametrize("rate", [44100.0, 48000.0])
def test_a_weighting_meets_the_iec_61672_table_within_0_1_db_to_10_khz(rate):
    n = np.array(list(A_TABLE))
    f = 1000.0 * 10 ** (n / 10)
    err = a_weighting_response_db(f, rate) - np.array(list(A_TABLE.values()))
    assert np.max(np.abs(err)) <= 0.1, dict(zip(f.round(), err.round(3)))


def test_a_short_tone_is_refused_in_one_sentence():
    from izdat.tape.deck import TapeError
    y = _fm_tone(np.zeros(int(3 * FS)))
    with pytest.raises(TapeError, match="needs at least"):
        wow_flutter_pct(y, FS)
