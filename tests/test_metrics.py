"""The meters of izdat.optical.metrics checked on signals whose answer is known (issue 14)."""

import numpy as np
import pytest
from scipy import signal

from izdat.optical.metrics import linear_fit, response_db, si_snr_db, stoi, worst_response_db

RATE = 22050


@pytest.fixture(scope="module")
def noise():
    """4 s of white noise (unit variance), the reference whose every band is lit."""
    return np.random.default_rng(14).standard_normal(4 * RATE)


def test_known_fir_filter_reads_its_own_response_and_no_noise(noise):
    """A 31-tap FIR (a gentle treble cut) applied to noise: the fit gives its response within 0.3 dB
    and an n+d SNR far above any reader's (nothing but the filter happened)."""
    taps = signal.firwin2(31, [0, 1000, 3000, 6000, RATE / 2], [1, 1, 0.5, 0.25, 0.25], fs=RATE)
    est = np.convolve(noise, taps, mode="same")
    freqs = np.array([250.0, 500, 2000, 3000, 4000])
    want = np.abs(signal.freqz(taps, worN=freqs, fs=RATE)[1]) / np.abs(signal.freqz(taps, worN=[1000.0], fs=RATE)[1])
    got = response_db(est, noise, RATE, freqs, octave=1 / 12)
    assert np.max(np.abs(got - 20 * np.log10(want))) < 0.3
    assert got[-1] < -7.0                                  # the filter's treble cut (-7.6 dB) is seen, not flattened
    assert linear_fit(est, noise, RATE).snr_db > 35.0


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_added_white_noise_reads_its_snr(noise, snr_db):
    """Independent white noise added at a known SNR reads within 0.5 dB, on the n+d meter and on SI-SNR."""
    other = np.random.default_rng(41).standard_normal(len(noise)) * 10 ** (-snr_db / 20)
    est = noise + other
    fit = linear_fit(est, noise, RATE)
    assert abs(fit.snr_db - snr_db) < 0.5
    assert abs(np.median(fit.snr_per_freq_db) - snr_db) < 1.0
    assert abs(si_snr_db(est, noise, RATE) - snr_db) < 0.5
    assert worst_response_db(est, noise, RATE) < 0.5      # noise is not a response error


def test_muffled_copy_wins_no_score_on_its_own(noise):
    """A low-passed copy (Butterworth, 1.2 kHz, 6th order): the n+d SNR stays high (no filter undoes a
    filter's score), its response says how muffled it is, and SI-SNR punishes it."""
    sos = signal.butter(6, 1200, fs=RATE, output="sos")
    est = signal.sosfilt(sos, noise)
    fit = linear_fit(est, noise, RATE)
    assert fit.snr_db > 25.0
    freqs = np.array([500.0, 2000.0, 4000.0])
    r = response_db(est, noise, RATE, freqs, octave=1 / 12)
    want = 10 * np.log10((1 + (1000 / 1200) ** 12) / (1 + (freqs / 1200) ** 12))   # |H|² of a Butterworth
    assert np.max(np.abs(r[:2] - want[:2])) < 1.0           # +0.5, -26.2 dB re 1 kHz
    assert r[2] < -55.0                                     # -62 dB: Welch's windows blur so deep a cut
    assert worst_response_db(est, noise, RATE) > 50.0
    assert si_snr_db(est, noise, RATE) < 3.0               # most of 60–5000 Hz white noise is gone


def test_delay_and_gain_change_no_score(noise):
    """A copy 37.4 samples late and 6 dB quieter is a linear filter of the reference: nothing lost."""
    f = np.fft.rfftfreq(len(noise))
    est = 0.5 * np.fft.irfft(np.fft.rfft(noise) * np.exp(-2j * np.pi * f * 37.4), len(noise))
    fit = linear_fit(est, noise, RATE)
    assert fit.snr_db > 30.0
    assert worst_response_db(est, noise, RATE) < 0.3


def test_stoi_of_clean_noisy_and_muffled_speechlike():
    """STOI: 1 for the signal itself, lower for a noisy copy (0 dB white noise), and low when everything
    above 500 Hz is gone under a reader's faint noise (40 dB down), on a speech-like signal (a 4 Hz-
    modulated harmonic buzz). (Muffling alone, without noise, STOI hardly sees: it normalises each band.)"""
    pytest.importorskip("pystoi")
    t = np.arange(3 * 16000) / 16000
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 30))
    x = buzz * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
    noisy = x + np.random.default_rng(3).standard_normal(len(x)) * x.std()
    muffled = signal.sosfiltfilt(signal.butter(8, 500, fs=16000, output="sos"), x)
    muffled += np.random.default_rng(4).standard_normal(len(x)) * x.std() * 0.01
    clean, n, m = stoi(x, x, 16000), stoi(noisy, x, 16000), stoi(muffled, x, 16000)
    assert clean > 0.99
    assert n < 0.8 and m < 0.8
