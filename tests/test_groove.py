"""Equalisation curves and groove units."""

import math

import numpy as np
import pytest
from scipy import signal

from izdat.errors import GrooveError
from izdat.groove import EQUALISATIONS, equalisation, lpi_to_um, parse_rpm, um_to_lpi

FS = 44_100.0


def analog_db(eq, f, kind):
    z, p, k = eq.velocity_zpk()
    _, h = signal.freqs_zpk(z, p, k, worN=2 * np.pi * np.asarray(f))
    return 20 * np.log10(np.abs(h)) * (1 if kind == "record" else -1)


def response_db(sos, freqs):
    _, h = signal.sosfreqz(sos, worN=np.asarray(freqs), fs=FS)
    return 20 * np.log10(np.abs(h))


@pytest.mark.parametrize("name", list(EQUALISATIONS))
def test_every_curve_has_unit_velocity_at_1khz(name):
    """Displacement × 2πf is 1 m/s per unit audio at 1 kHz for every curve."""
    eq = equalisation(name)
    gain = 10 ** (response_db(eq.displacement_sos(FS), [1000.0])[0] / 20) * 2 * math.pi * 1000
    assert gain == pytest.approx(1.0, rel=0.01)


@pytest.mark.parametrize("name", list(EQUALISATIONS))
def test_playback_undoes_recording_across_the_band(name):
    """Recording curve then playback curve is flat within 0.5 dB from 100 Hz to 8 kHz."""
    eq = equalisation(name)
    freqs = np.geomspace(100, 8000, 40)
    total = response_db(eq.displacement_sos(FS), freqs) + response_db(eq.playback_sos(FS), freqs)
    assert np.ptp(total) < 0.5


def test_riaa_curve_matches_published_points():
    """RIAA recording velocity relative to 1 kHz: −19.3 dB at 20 Hz... checked at 100 Hz and 10 kHz
    (published RIAA table: 100 Hz −13.1 dB, 10 kHz +13.7 dB)."""
    eq = equalisation("riaa")
    f = np.array([100.0, 10_000.0])
    velocity_db = analog_db(eq, f, "record") - analog_db(eq, [1000.0], "record")
    assert velocity_db[0] == pytest.approx(-13.1, abs=0.3)
    assert velocity_db[1] == pytest.approx(13.7, abs=0.3)


@pytest.mark.parametrize("rolloff", [-5.0, -10.0, -16.0])
def test_78_rolloff_is_what_the_playback_loses_at_10khz(rolloff):
    """Against the same curve without treble boost, the recording gains (and playback loses)
    ``rolloff`` dB at 10 kHz, once the normalisation at 1 kHz is undone."""
    f = [1000.0, 10_000.0]
    boosted = analog_db(equalisation("78", turnover_hz=500, rolloff_10khz_db=rolloff), f, "record")
    flat = analog_db(equalisation("78", turnover_hz=500, rolloff_10khz_db=0), f, "record")
    d = boosted - flat
    shelf_at_1k = 10 * np.log10(1 + (1000 / 10_000) ** 2 * (10 ** (-rolloff / 10) - 1))
    neumann_at_10k = -10 * np.log10(1 + (10_000 * 2 * np.pi * 3.18e-6) ** 2)
    assert d[1] - d[0] + shelf_at_1k - neumann_at_10k == pytest.approx(-rolloff, abs=0.01)


def test_blumlein_cut_is_constant_amplitude_below_turnover():
    """Below 250 Hz the displacement is flat; well above it falls 6 dB an octave."""
    sos = equalisation("blumlein").displacement_sos(FS)
    low = response_db(sos, [60.0, 120.0])
    high = response_db(sos, [2000.0, 4000.0])
    assert abs(low[0] - low[1]) < 1.5
    assert high[0] - high[1] == pytest.approx(6.02, abs=0.3)


def test_pitch_units_agree():
    assert lpi_to_um(100) == pytest.approx(254.0)
    assert um_to_lpi(lpi_to_um(96)) == pytest.approx(96)


@pytest.mark.parametrize("text,rpm", [("78", 78.0), ("45", 45.0), ("33⅓", 100 / 3), ("33 1/3", 100 / 3),
                                      ("33.3", 100 / 3), ("16.67", 16.67)])
def test_rpm_parsing(text, rpm):
    assert parse_rpm(text) == pytest.approx(rpm)


@pytest.mark.parametrize("bad", ["-78", "0", "fast", "1e9", "nan"])
def test_absurd_rpm_is_refused_with_a_sentence(bad):
    with pytest.raises(GrooveError, match="rpm|speed"):
        parse_rpm(bad)


def test_unknown_curve_lists_the_known_ones():
    with pytest.raises(GrooveError, match="blumlein.*riaa"):
        equalisation("edison")


@pytest.mark.parametrize("name", ["blumlein", "columbia", "aes", "nab", "riaa"])
def test_exact_application_reproduces_the_analog_curve(name):
    """Tones through ``to_displacement`` have the analog curve's velocity within 0.05 dB, 100 Hz–15 kHz."""
    eq = equalisation(name)
    freqs = np.array([100.0, 1000.0, 3150.0, 10_000.0, 15_000.0])
    t = np.arange(int(FS)) / FS
    x = sum(np.sin(2 * np.pi * f * t) for f in freqs)
    d = eq.to_displacement(x, FS)
    spectrum = np.abs(np.fft.rfft(d[int(FS / 4):int(FS / 4) + 22050] * np.hanning(22050)))
    bins = (freqs * 22050 / FS).round().astype(int)
    velocity_db = 20 * np.log10(spectrum[bins] * 2 * np.pi * freqs)
    expected = analog_db(eq, freqs, "record")
    assert np.allclose(velocity_db - velocity_db[1], expected - expected[1], atol=0.05)
    back = np.abs(np.fft.rfft(eq.to_audio(d, FS, lowpass_hz=40_000)[int(FS / 4):int(FS / 4) + 22050] * np.hanning(22050)))
    assert np.allclose(20 * np.log10(back[bins] / back[bins[1]]), 0, atol=0.1)
