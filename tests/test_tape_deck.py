"""Tape deck physics, the meter's own calibration, erasure, the concert, and the CLI's errors."""

import json

import numpy as np
import pytest
import scipy.signal as sps
from typer.testing import CliRunner

from izdat.audio import Audio, save
from izdat.cli import app
from izdat.tape import PRESETS, Tape, TapeDeck, TapeError
from izdat.tape.erase import erase, surviving_fraction
from izdat.tape.heads import azimuth_loss, playback_loss
from izdat.tape.meter import W_AND_F_WEIGHTING_DB, weighting_response_db, wow_flutter_pct

FS = 48000.0


def tone(f, level_dbfs, dur, fs=FS):
    t = np.arange(int(dur * fs)) / fs
    return Audio(np.sqrt(2) * 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * f * t), fs)


def line_level_db(y, f, fs=FS):
    n = y.size
    spec = np.abs(np.fft.rfft(y * np.hanning(n)))
    k = int(round(f * n / fs))
    return 20 * np.log10(np.sqrt(np.sum(spec[k - 4:k + 5] ** 2)))


def peak_hz(y, fs=FS):
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    return np.argmax(spec) * fs / y.size


def test_same_seed_same_bytes_and_tape_is_a_value():
    a = tone(1000, -20, 0.5)
    t1 = TapeDeck("vesna", seed=3).record(a)
    t2 = TapeDeck("vesna", seed=3).record(a)
    assert isinstance(t1, Tape) and np.array_equal(t1.magnetisation, t2.magnetisation)
    assert t1.history == ("recorded on vesna",) and t1.speed_cm_s == 9.53


def test_small_tone_comes_back_at_its_level():
    deck = TapeDeck("mayak-203", seed=0, speed_error_pct=0)
    y = deck.play(deck.record(tone(1000, -32, 1.0))).samples[int(0.3 * FS):]
    assert np.sqrt(np.mean(y ** 2)) == pytest.approx(10 ** (-32 / 20), rel=0.1)


def test_saturation_compresses_loud_tones():
    """+16 dB more in gives clearly less than +16 dB out, with more third harmonic."""
    deck = TapeDeck("elektronika-302", seed=0)
    outs, h3 = [], []
    for lv in (-22.0, -6.0):
        y = deck.play(deck.record(tone(315, lv, 0.6))).samples[int(0.2 * FS):]
        outs.append(line_level_db(y, 315))
        h3.append(line_level_db(y, 945) - outs[-1])
    assert outs[1] - outs[0] < 15.0
    assert h3[1] > h3[0] + 10


def test_speed_error_between_decks_shifts_pitch():
    fast = TapeDeck("elektronika-302", seed=0, speed_error_pct=2.0)
    slow = TapeDeck("elektronika-302", seed=0, speed_error_pct=-1.0)
    y = slow.play(fast.record(tone(1000, -20, 2.0))).samples
    # recorded 2 % fast (longer wavelength), played 1 % slow: the pitch drops by 0.99/1.02
    assert peak_hz(y) == pytest.approx(1000 * 0.99 / 1.02, rel=0.002)


def test_azimuth_error_between_decks_loses_treble_as_the_formula_says():
    rec = TapeDeck("elektronika-302", seed=0, azimuth_arcmin=0.0)
    same = TapeDeck("elektronika-302", seed=0, azimuth_arcmin=0.0)
    tilted = TapeDeck("elektronika-302", seed=0, azimuth_arcmin=12.0)
    tape = rec.record(tone(6000, -25, 1.0))
    a = line_level_db(same.play(tape).samples[int(0.3 * FS):], 6000)
    b = line_level_db(tilted.play(tape).samples[int(0.3 * FS):], 6000)
    expected = 20 * np.log10(abs(azimuth_loss(6000, 0.0476, track_width_m=1.5e-3,
                                              angle_rad=12 / 60 * np.pi / 180)))
    assert b - a == pytest.approx(expected, abs=1.0)
    assert expected < -6


def test_playback_losses_fall_with_wavenumber_so_speed_decides_treble():
    kw = dict(spacing_m=0.5e-6, depth_m=1e-6, gap_m=1.5e-6)
    assert playback_loss(10000, 0.0476, **kw) < playback_loss(10000, 0.0953, **kw) < playback_loss(10000, 0.1905, **kw)
    assert playback_loss(100, 0.0476, **kw) == pytest.approx(1.0, abs=0.02)


@pytest.mark.parametrize("name", list(PRESETS))
def test_hiss_after_playback_falls_above_the_upper_limit(name):
    """The tape's hiss only passes the playback side (head losses, reproduce amplifier, playback
    EQ): its PSD over 1.3–2× the upper limit (to 20 kHz) is ≥ 6 dB below that over 0.3–0.6×."""
    deck = TapeDeck(name, seed=0)
    y = deck.play(deck.record(tone(1000, -80, 4.0))).samples[int(0.5 * FS):]
    f, psd = sps.welch(y.astype(np.float64), FS, nperseg=4096)
    upper = PRESETS[name].upper_hz

    def band_db(lo, hi):
        return 10 * np.log10(np.mean(psd[(f >= lo) & (f <= min(hi, 20000.0))]))

    assert band_db(0.3 * upper, 0.6 * upper) - band_db(1.3 * upper, 2.0 * upper) >= 6.0


def test_over_bias_is_a_record_side_loss():
    """Over-biasing loses the treble of what it records (e^(−kΔd), Δd = 0.3 µm per unit of excess
    bias), not the treble of a tape recorded elsewhere."""
    two = Audio(tone(1000, -30, 0.6).samples + tone(12000, -30, 0.6).samples, FS)
    tape = TapeDeck("mayak-203", seed=0, speed_error_pct=0).record(two)
    optimum = TapeDeck("mayak-203", seed=0, speed_error_pct=0)
    over = TapeDeck("mayak-203", seed=0, speed_error_pct=0, bias=2.0)

    def treble_db(deck, tape):
        y = deck.play(tape).samples[int(0.2 * FS):]
        return line_level_db(y, 12000) - line_level_db(y, 1000)

    assert treble_db(over, tape) == pytest.approx(treble_db(optimum, tape), abs=0.3)
    lost = treble_db(optimum, optimum.record(two)) - treble_db(optimum, over.record(two))
    k = 2 * np.pi * np.array([1000.0, 12000.0]) / 0.0953
    # at least the erasure loss (the shrunken hysteresis loop at double bias takes a little more)
    assert lost >= 20 * np.log10(np.e) * (k[1] - k[0]) * 0.3e-6 - 0.5


def test_meter_weighting_follows_the_iec_table():
    f = np.array(list(W_AND_F_WEIGHTING_DB))
    table = np.array(list(W_AND_F_WEIGHTING_DB.values()))
    err = weighting_response_db(f) - table
    assert np.max(np.abs(err[(f >= 0.3) & (f <= 100)])) < 2.0


def test_meter_reads_a_known_4hz_frequency_modulation():
    """A 3150 Hz tone frequency-modulated ±0.3 % at 4 Hz reads 0.3 % (calibrated on a sine)."""
    t = np.arange(int(8 * FS)) / FS
    phase = 2 * np.pi * 3150 * (t - 0.003 / (2 * np.pi * 4) * np.cos(2 * np.pi * 4 * t))
    assert wow_flutter_pct(np.sin(phase), FS) == pytest.approx(0.3, rel=0.05)


def test_erasure_strong_field_erases_weak_field_leaves_distorted_remnant():
    deck = TapeDeck("elektronika-302", seed=0)
    tape = deck.record(tone(1000, -12, 1.0))
    levels = {}
    for field in (0.0, 25.0, 120.0):
        y = deck.play(erase(tape, field_ka_m=field)).samples[int(0.3 * FS):]
        levels[field] = line_level_db(y, 1000)
    assert levels[0.0] - levels[25.0] > 6          # weak: faint
    assert levels[25.0] - levels[120.0] > 20       # strong: gone
    assert surviving_fraction(25.0) > 0.01 and surviving_fraction(120.0) < 1e-6
    with pytest.raises(TapeError):
        erase(tape, field_ka_m=-1)


def test_apartment_concert_is_deterministic_and_adds_an_audience():
    from izdat.tape.concert import apartment_concert
    song = tone(440, -20, 3.0, fs=22050.0)
    a = apartment_concert(song, seed=7)
    b = apartment_concert(song, seed=7)
    c = apartment_concert(song, seed=8)
    assert np.array_equal(a.samples, b.samples) and not np.array_equal(a.samples, c.samples)
    assert a.duration_s > song.duration_s  # applause and the room's tail after the song
    tail = a.samples[int(song.duration_s * 22050) + 2205:]
    assert np.sqrt(np.mean(tail ** 2)) > 1e-3  # the applause is there


@pytest.mark.parametrize("bad", [dict(model="nope"), dict(bias=7), dict(speed_error_pct=12),
                                 dict(azimuth_arcmin="x"), dict(seed=-1)])
def test_bad_settings_raise_one_sentence(bad):
    with pytest.raises(TapeError) as err:
        TapeDeck(**bad)
    assert "\n" not in str(err.value)


def test_unknown_deck_lists_known_ones_and_cassette_does_not_fit_reel():
    with pytest.raises(TapeError, match="elektronika-302"):
        TapeDeck("nope")
    tape = TapeDeck("elektronika-302").record(tone(1000, -20, 0.2))
    with pytest.raises(TapeError, match="does not fit"):
        TapeDeck("sony-tc-260").play(tape)


runner = CliRunner()


def test_cli_decks_json_has_unit_keys():
    r = runner.invoke(app, ["decks", "--json"])
    assert r.exit_code == 0
    rows = json.loads(r.stdout)
    assert len(rows) >= 6
    assert {"name", "wow_flutter_pct", "snr_db", "upper_hz", "lower_hz", "speed_cm_s", "sources"} <= set(rows[0])


def test_cli_dub_writes_generations_and_bad_input_exits_2(tmp_path):
    song = tmp_path / "song.wav"
    save(tone(440, -20, 1.0, fs=22050.0), song)
    out = tmp_path / "out"
    from izdat.cli import main
    import sys
    for args in (["--deck", "nope"], ["--deck", "vesna", "--generations", "0"], ["--chain", "vesna,,dnepr-11"]):
        sys.argv = ["izdat", "dub", str(song), "-o", str(out), *args]
        with pytest.raises(SystemExit) as ex:
            main()
        assert ex.value.code == 2
    assert not out.exists() or not any(out.iterdir())
    r = runner.invoke(app, ["dub", str(song), "-o", str(out), "--chain", "dnepr-11,sony-tc-260", "--seed", "2"])
    assert r.exit_code == 0, r.output
    # since issue 16 item 4 the files are named after the machine that made them, with chain.json
    assert sorted(p.name for p in out.iterdir()) == ["chain.json", "generation-01-on-dnepr-11.wav",
                                                     "generation-02-on-sony-tc-260.wav"]
