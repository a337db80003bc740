"""Equalisation curves and groove units."""

import math

import numpy as np
import pytest
from scipy import signal

from izdat.errors import GrooveError
from izdat.groove import EQUALISATIONS, equalisation, lpi_to_um, parse_rpm, um_to_lpi

FS = 44_100.0


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
    velocity_db = response_db(eq.displacement_sos(FS), f) + 20 * np.log10(2 * np.pi * f)
    assert velocity_db[0] == pytest.approx(-13.1, abs=0.3)
    assert velocity_db[1] == pytest.approx(13.7, abs=0.3)


@pytest.mark.parametrize("rolloff", [-5.0, -10.0, -16.0])
def test_78_rolloff_is_what_the_playback_loses_at_10khz(rolloff):
    """Against the same curve without treble boost, playback loses ``rolloff`` dB at 10 kHz."""
    f = [1000.0, 10_000.0]
    with_rolloff = response_db(equalisation("78", turnover_hz=500, rolloff_10khz_db=rolloff).playback_sos(FS), f)
    flat = response_db(equalisation("78", turnover_hz=500, rolloff_10khz_db=0).playback_sos(FS), f)
    d = with_rolloff - flat                       # both are normalised at 1 kHz: undo that
    shelf_at_1k = -10 * np.log10(1 + (1000 / 10_000) ** 2 * (10 ** (-rolloff / 10) - 1))
    assert d[1] - d[0] + shelf_at_1k == pytest.approx(rolloff, abs=0.3)


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
