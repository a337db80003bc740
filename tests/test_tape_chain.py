"""Copies between machines (issue 16, item 4) and `izdat measure --wav` (item 7)."""

import dataclasses
import json
import sys

import numpy as np
import pytest
import soundfile
from typer.testing import CliRunner

from izdat.audio import Audio
from izdat.cli import app, main
from izdat.cli.tape import copy_chain
from izdat.tape import PRESETS, TapeDeck
from izdat.tape.deck import REFERENCE_DBFS
from izdat.tape.formulations import TAPES
from izdat.tape.meter import instantaneous_hz

FS = 48000.0
runner = CliRunner()


def _tone(f_hz, seconds, level_db=-20.0, fs=FS):
    t = np.arange(int(seconds * fs)) / fs
    return Audio((np.sqrt(2) * 10 ** ((REFERENCE_DBFS + level_db) / 20) * np.sin(2 * np.pi * f_hz * t)).astype(np.float32), fs)


def _still(model, seed, *, speed_pct, azimuth_arcmin):
    """A machine of ``model`` with no flutter or noises, its speed error and azimuth as given."""
    p = dataclasses.replace(PRESETS[model], hiss_db=-300.0, hum_db=-300.0, dropouts_per_min=0.0,
                            flutter_scale_pct=0.0)
    t = dataclasses.replace(TAPES[p.tape], print_through_db=-300.0, modulation_noise_db=-300.0)
    return TapeDeck(p, seed=seed, speed_error_pct=speed_pct, azimuth_arcmin=azimuth_arcmin, tape=t)


def _mean_hz(audio, near_hz):
    return float(np.mean(instantaneous_hz(audio.samples, audio.sample_rate, near_hz)))


def _line_db(audio, f_hz):
    y = audio.samples[int(0.2 * audio.sample_rate):]
    spec = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    k = int(round(f_hz * y.size / audio.sample_rate))
    return 10 * np.log10(np.sum(spec[k - 4:k + 5] ** 2))


def test_a_copy_played_on_the_next_machine_carries_the_ratio_of_their_speeds():
    a = _still("elektronika-302", 0, speed_pct=1.0, azimuth_arcmin=0.0)
    b = _still("rus-205", 1, speed_pct=-0.8, azimuth_arcmin=0.0)
    song = _tone(3150.0, 4.0)
    cross = copy_chain(song, [a, b])
    expected = 3150.0 * (1 - 0.008) / (1 + 0.010)
    assert _mean_hz(cross[0]["heard"], 3150.0) == pytest.approx(3150.0, rel=2e-4)
    assert _mean_hz(cross[1]["heard"], 3150.0) == pytest.approx(expected, rel=2e-4)
    assert cross[1]["step"]["pitch_ratio"] == pytest.approx(0.992 / 1.01, rel=1e-9)
    same = copy_chain(song, [a, b], same_deck=True)   # the old way: the recorder plays its own tape
    assert _mean_hz(same[1]["heard"], 3150.0) == pytest.approx(3150.0, rel=2e-4)


def test_a_copy_played_on_the_next_machine_loses_treble_by_the_sinc_law_of_their_azimuths():
    model = "elektronika-302"
    p = PRESETS[model]
    f = 8000.0
    # a difference that puts sin(x)/x at about -6 dB at 8 kHz
    x = 1.9
    delta = np.degrees(np.arctan(x * p.speed_m_s / (np.pi * p.track_width_m * f))) * 60
    expected_db = 20 * np.log10(abs(np.sin(x) / x))
    song = _tone(f, 1.0, level_db=-30.0)
    a = _still(model, 0, speed_pct=0.0, azimuth_arcmin=+delta / 2)
    tilted = _still(model, 1, speed_pct=0.0, azimuth_arcmin=-delta / 2)
    aligned = _still(model, 1, speed_pct=0.0, azimuth_arcmin=+delta / 2)
    lost = _line_db(copy_chain(song, [a, tilted])[1]["heard"], f) - _line_db(copy_chain(song, [a, aligned])[1]["heard"], f)
    assert lost == pytest.approx(expected_db, abs=1.0)
    # and the same pair with --same-deck: each tape on its own recorder, no azimuth loss
    same = _line_db(copy_chain(song, [a, tilted], same_deck=True)[1]["heard"], f)
    assert same - _line_db(copy_chain(song, [a, aligned], same_deck=True)[1]["heard"], f) == pytest.approx(0.0, abs=0.2)


def test_izdat_dub_chain_names_files_after_their_machines_and_writes_chain_json(tmp_path):
    song = tmp_path / "tone.wav"
    soundfile.write(song, _tone(3150.0, 9.0, fs=22050.0).samples, 22050)
    out = tmp_path / "tapes"
    r = runner.invoke(app, ["dub", str(song), "-o", str(out), "--chain", "elektronika-302,rus-205", "--seed", "3"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["chain.json", "generation-01-on-elektronika-302.wav",
                                                      "generation-02-on-rus-205.wav"]
    rec = json.loads((out / "chain.json").read_text())
    assert rec["mode"] == "between machines" and rec["seed"] == 3
    m = rec["machines"]
    assert [(x["model"], x["seed"]) for x in m] == [("elektronika-302", 3), ("rus-205", 4)]
    for x in m:  # every machine's settings, enough to build it again
        d = TapeDeck(x["model"], seed=x["seed"])
        assert x["speed_error_pct"] == pytest.approx(d.speed_error_pct, abs=1e-6)
        assert x["azimuth_arcmin"] == pytest.approx(d.azimuth_arcmin, abs=1e-6)
    g2 = rec["generations"][1]
    assert (g2["played_on"], g2["recorded_on"]) == (1, 1)
    ratio = (1 + m[1]["speed_error_pct"] / 100) / (1 + m[0]["speed_error_pct"] / 100)
    assert g2["pitch_ratio"] == pytest.approx(ratio, rel=1e-8)
    assert g2["azimuth_error_arcmin"] == pytest.approx(m[1]["azimuth_arcmin"] - m[0]["azimuth_arcmin"], abs=1e-5)
    heard, fs = soundfile.read(out / "generation-02-on-rus-205.wav")
    # with the machines' own wow and flutter, over 8 s: 0.0195 % off (the slow wow does not average
    # out in 8 s); the 0.02 % of the ratio itself is asserted without flutter above
    assert _mean_hz(Audio(heard, fs), 3150.0) == pytest.approx(3150.0 * ratio, rel=5e-4)
    r = runner.invoke(app, ["dub", str(song), "-o", str(out), "--chain", "elektronika-302,rus-205", "--seed", "3",
                            "--same-deck"])
    assert r.exit_code == 0, r.output
    rec = json.loads((out / "chain.json").read_text())
    assert rec["mode"] == "same deck" and rec["generations"][1]["played_on"] == 0
    assert rec["generations"][1]["pitch_ratio"] == 1.0


def test_a_tape_the_next_machine_cannot_play_is_played_by_its_recorder_and_chain_json_says_so(tmp_path):
    song = tmp_path / "s.wav"
    soundfile.write(song, _tone(1000.0, 0.5, fs=22050.0).samples, 22050)
    r = runner.invoke(app, ["dub", str(song), "-o", str(tmp_path / "t"), "--chain", "dnepr-11,rus-205"])
    assert r.exit_code == 0, r.output
    g2 = json.loads((tmp_path / "t" / "chain.json").read_text())["generations"][1]
    assert g2["played_on"] == 0 and "rus-205 cannot play a reel tape at 9.53 cm/s" in g2["note"]


# ---------------------------------------------------------------------------- izdat measure --wav
def test_measure_wav_reads_a_tone_of_known_flutter_and_speed(tmp_path):
    fs = 44100
    t = np.arange(int(12 * fs)) / fs
    dev = 0.002 * np.sin(2 * np.pi * 4.0 * t)
    path = tmp_path / "transfer.wav"
    soundfile.write(path, 0.3 * np.sin(2 * np.pi * 3150 * 0.985 * np.cumsum(1 + dev) / fs), fs)
    r = runner.invoke(app, ["measure", "--wav", str(path), "--json"])
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)
    assert m["kind"] == "tone"
    assert m["speed_error_pct"] == pytest.approx(-1.5, abs=0.005)
    assert m["wow_flutter_2sigma_pct"] == pytest.approx(0.2 * 0.9969, rel=0.03)
    assert m["wow_flutter_qp_pct"] == pytest.approx(0.2, rel=0.03)
    r = runner.invoke(app, ["measure", "--wav", str(path)])
    assert r.exit_code == 0 and "W&F weighted 2σ %" in r.output and "quasi-peak" in r.output


def test_measure_wav_gives_the_third_octave_response_of_noise(tmp_path):
    fs = 48000
    rng = np.random.default_rng(1)
    spec = np.fft.rfft(rng.standard_normal(fs * 4))
    f = np.fft.rfftfreq(fs * 4, 1 / fs)
    spec[1:] /= np.sqrt(f[1:])                       # pink
    spec[f > 8000] *= 10 ** (-12 / 20)               # a 12 dB shelf down above 8 kHz
    path = tmp_path / "pink.wav"
    soundfile.write(path, 0.1 * np.fft.irfft(spec) / np.std(np.fft.irfft(spec)), fs)
    r = runner.invoke(app, ["measure", "--wav", str(path), "--json"])
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)
    bands, resp = np.array(m["bands_hz"]), np.array(m["response_db"])
    assert np.all(np.abs(resp[(bands >= 100) & (bands <= 5000)]) < 1.5)
    assert np.all(resp[bands >= 10000] < -10)
    assert 7000 < m["upper_hz"] < 9500


@pytest.mark.parametrize("make,words", [
    (lambda p: p.write_text("not audio"), "cannot read"),
    (lambda p: soundfile.write(p, np.full(44100, np.nan), 44100, subtype="FLOAT"), "NaN"),
    (lambda p: soundfile.write(p, 0.3 * np.sin(2 * np.pi * 3150 * np.arange(3 * 44100) / 44100), 44100),
     "needs at least"),
    (lambda p: soundfile.write(p, 0.3 * np.sin(2 * np.pi * 50 * np.arange(2 * 44100) / 44100), 44100),
     "no 3150 Hz tone found"),
    (lambda p: soundfile.write(p, np.zeros(2000), 44100), "at least 1 s"),
])
def test_measure_wav_refuses_bad_input_in_one_sentence(izdat, tmp_path, make, words):
    path = tmp_path / "bad.wav"
    make(path)
    code, out, err = izdat("measure", "--wav", path)
    assert code == 2 and words in err and err.count("\n") == 1 and not out, err


def test_measure_wants_a_deck_or_a_wav(izdat, tmp_path):
    code, _, err = izdat("measure")
    assert code == 2 and "either --deck or --wav" in err and err.count("\n") == 1


def test_measure_deck_gives_mol_and_sol_and_both_w_and_f_readings(izdat):
    code, out, err = izdat("measure", "--deck", "sony-tc-129", "--json")
    assert code == 0, err
    m = json.loads(out)["measured"]
    assert np.isfinite(m["mol_db"]) and np.isfinite(m["sol_10k_db"])
    # the quasi-peak detector reads above the 2σ statistic on tape flutter (issue 16: 12-38 %)
    assert m["wow_flutter_qp_pct"] > m["wow_flutter_pct"] > 0


def test_dub_bias_under_is_brighter_over_is_duller_and_out_of_range_is_refused(izdat, tmp_path):
    """``izdat dub --bias``: the ratio to each deck's optimum reaches the deck (issue 16, item 2)."""
    t = np.arange(int(2 * FS)) / FS
    song = tmp_path / "song.wav"
    rng = np.random.default_rng(0)
    soundfile.write(song, 0.05 * rng.standard_normal(t.size), int(FS))       # white noise: every band lit
    treble = {}
    for bias in (0.5, 2.0):
        code, _, _ = izdat("dub", song, "-o", tmp_path / str(bias), "--bias", bias, "--deck", "elektronika-302")
        assert code == 0
        x, fs = soundfile.read(tmp_path / str(bias) / "generation-01.wav")
        f, p = __import__("scipy.signal", fromlist=["welch"]).welch(x, fs, nperseg=4096)
        treble[bias] = 10 * np.log10(p[(f > 5000) & (f < 8000)].sum() / p[(f > 300) & (f < 1500)].sum())
    assert treble[0.5] - treble[2.0] > 2.0, treble
    for bad in ("6", "nan", "-0.1"):
        code, out, err = izdat("dub", song, "-o", tmp_path / "bad", "--bias", bad)
        assert code == 2 and "--bias must be between 0 and 5" in out + err
    assert not (tmp_path / "bad").exists()
