"""Tape formulations (issue 16 item 5): the four tapes measure apart in the order of their data
sheets, print-through grows with storage by the stated law, modulation noise follows the signal,
and bad input gets one sentence."""

import dataclasses
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from izdat.audio import Audio
from izdat.cli import app
from izdat.tape import PRESETS, TAPES, Tape, TapeDeck, TapeError, store
from izdat.tape.deck import REFERENCE_DBFS
from izdat.tape.erase import erase
from izdat.tape.formulations import MOD_NOISE_WAVELENGTH_M, print_through_db
from izdat.tape.meter import noise_floor_dbfs
from izdat.tape.preisach import BiasedRecording
from izdat.tape.service import level_sweep, mol_db, sol_db

FS = 48000.0
runner = CliRunner()
CASSETTES = ["a4409-6b", "tdk-ad", "chrome"]


def _tone(f_hz, seconds, level_db, fs=FS, start_s=0.0, stop_s=None):
    t = np.arange(int(seconds * fs)) / fs
    x = np.sqrt(2) * 10 ** ((REFERENCE_DBFS + level_db) / 20) * np.sin(2 * np.pi * f_hz * t)
    gate = (t >= start_s) & (t < (seconds if stop_s is None else stop_s))
    return Audio((x * gate).astype(np.float32), fs)


def _bare(model, tape=None, *, print_through=False, modulation=False):
    """``model`` with no hiss, hum, dropouts, flutter, speed or azimuth error; the tape's print-through
    and modulation noise kept only where asked."""
    p = dataclasses.replace(PRESETS[model], hiss_db=-300.0, hum_db=-300.0, dropouts_per_min=0.0,
                            flutter_scale_pct=0.0)
    t = TAPES[tape or p.tape]
    t = dataclasses.replace(t, print_through_db=t.print_through_db if print_through else -300.0,
                            modulation_noise_db=t.modulation_noise_db if modulation else -300.0)
    return TapeDeck(p, speed_error_pct=0.0, azimuth_arcmin=0.0, tape=t)


@pytest.fixture(scope="module")
def cassette_figures():
    """Sensitivity, MOL, SOL10k and the unweighted noise floor of the three cassette tapes on
    elektronika-302 (aligned for its usual tape, A4409-6B), dB."""
    out = {}
    for name in CASSETTES:
        d = TapeDeck("elektronika-302", tape=name)
        out[name] = {"sensitivity": level_sweep(d, 315.0, [-20.0])["output_db"][0] + 20.0,
                     "mol": mol_db(d), "sol": sol_db(d),
                     "noise": noise_floor_dbfs(d, duration_s=2.0)["unweighted"]}
    return out


@pytest.mark.parametrize("figure, key", [("sensitivity", "sensitivity_db"), ("mol", "mol_db"),
                                         ("sol", "sol_db"), ("noise", "noise_db")])
def test_cassette_tapes_measure_their_data_sheet_differences(cassette_figures, figure, key):
    """Each tape against the deck's usual one reads its data-sheet difference within 1 dB
    (sensitivity and MOL within 0.3 dB: they are realised exactly, SOL through a fitted zone)."""
    tol = {"sensitivity": 0.3, "mol": 0.3, "sol": 1.0, "noise": 0.7}[figure]
    base = cassette_figures["a4409-6b"][figure]
    for name in CASSETTES[1:]:
        want = getattr(TAPES[name], key) - getattr(TAPES["a4409-6b"], key)
        got = cassette_figures[name][figure] - base
        assert got == pytest.approx(want, abs=tol), (name, figure, got, want)


def test_cassette_tapes_keep_the_data_sheets_order(cassette_figures):
    f = cassette_figures
    assert f["chrome"]["sol"] > f["tdk-ad"]["sol"] + 2 > f["a4409-6b"]["sol"] + 4     # chrome's treble headroom
    assert f["tdk-ad"]["mol"] > f["chrome"]["mol"] > f["a4409-6b"]["mol"]            # chrome's weaker bass MOL
    assert f["a4409-6b"]["sensitivity"] < f["tdk-ad"]["sensitivity"] - 1
    assert f["a4409-6b"]["noise"] > f["tdk-ad"]["noise"] + 2 > f["chrome"]["noise"] + 2


def test_chrome_is_quieter_at_high_frequency_on_a_deck_with_a_chrome_switch():
    """sony-tc-129 plays chrome with 70 µs: its hiss at 8–12 kHz lies ≥ 4 dB below TDK AD's (the EQ's
    4.4 dB at 10 kHz and the tape's 1 dB), 3 dB more than the drop at 200–900 Hz."""
    import scipy.signal as sps
    bands = {}
    for name in ("tdk-ad", "chrome"):
        d = TapeDeck("sony-tc-129", tape=name)
        assert d._t1_t2()[1] == (70.0 if name == "chrome" else 120.0)
        y = d.play(d.record(Audio(np.zeros(int(3 * FS), np.float32), FS))).samples
        f, pxx = sps.welch(y[int(0.5 * FS):], FS, nperseg=4096)
        bands[name] = [10 * np.log10(np.mean(pxx[(f >= lo) & (f <= hi)])) for lo, hi in ((200, 900), (8000, 12000))]
    low, high = (bands["chrome"][i] - bands["tdk-ad"][i] for i in (0, 1))
    assert high < -4.0 and high < low - 3.0, (low, high)
    assert TapeDeck("elektronika-302", tape="chrome")._t1_t2()[1] == 120.0  # no switch: 120 µs


@pytest.mark.parametrize("name", list(TAPES))
def test_each_coating_has_a_tape_like_knee(name):
    """Its own hysteresis (switching-field spread, interaction width): 1 % → 3 % H3 within 2–4 dB."""
    t = TAPES[name]
    rec = BiasedRecording(bias=1.0, sigma=t.switching_spread, spread_i=t.interaction_spread)
    assert 2.0 < 20 * np.log10(rec.field_at(0.03) / rec.field_at(0.01)) < 4.0


def test_coercivities_follow_the_coatings():
    hc = {n: t.coercivity_ka_m for n, t in TAPES.items()}
    assert hc["chrome"] > hc["tdk-ad"] > hc["a4409-6b"] >= hc["svema-type-6"]
    fresh = Tape(np.full(4800, 0.3, np.float32), FS, 4.76, "cassette")
    left = {n: float(np.mean(erase(fresh.replace(stock=n, formulation=TAPES[n].coating),
                                   field_ka_m=35.0).magnetisation)) for n in ("tdk-ad", "chrome")}
    assert left["chrome"] > 3 * left["tdk-ad"]   # 35 kA/m erases ferric, not chrome


# ------------------------------------------------------------------------------------- print-through
def _echo_db(tape, lag_s, burst=(3.0, 3.6)):
    m = tape.magnetisation.astype(np.float64)
    fs = tape.sample_rate
    a, b = int((burst[0] + 0.05) * fs), int((burst[1] - 0.05) * fs)
    sig = np.sqrt(np.mean(m[a:b] ** 2))
    lag = int(round(lag_s * fs))
    pre = np.sqrt(np.mean(m[a - lag:b - lag] ** 2))
    post = np.sqrt(np.mean(m[a + lag:b + lag] ** 2))
    return 20 * np.log10(pre / sig), 20 * np.log10(post / sig)


@pytest.fixture(scope="module")
def printed():
    """A 0.6 s burst at the print's worst wavelength recorded on a bare elektronika-302 (A4409-6B)."""
    d = _bare("elektronika-302", print_through=True)
    t = TAPES[d.tape.name]
    f_peak = d.preset.speed_m_s / (2 * np.pi * t.thickness_um * 1e-6)
    tape = d.record(_tone(f_peak, 6.5, -6.0, start_s=3.0, stop_s=3.6))
    return tape, 2 * np.pi * d.preset.reel_radius_m / d.preset.speed_m_s


def test_print_through_starts_at_the_data_sheet_figure(printed):
    tape, lag_s = printed
    pre, post = _echo_db(tape, lag_s)
    assert pre == pytest.approx(TAPES["a4409-6b"].print_through_db, abs=0.5)
    assert post == pytest.approx(pre + 20 * np.log10(0.6), abs=0.5)
    assert tape.stock == "a4409-6b" and tape.stored_years == 0.0 and tape.turn_m > 0


@pytest.mark.parametrize("years", [1.0, 10.0, 40.0])
def test_print_through_grows_two_db_per_tenfold_storage(printed, years):
    """+2 dB per decade of (1 day + storage): 1 year +5.1 dB, 10 years +7.1, 40 years +8.3."""
    tape, lag_s = printed
    pre0, _ = _echo_db(tape, lag_s)
    pre, post = _echo_db(store(tape, years), lag_s)
    law = 2.0 * np.log10(1 + 365.25 * years)
    assert pre - pre0 == pytest.approx(law, abs=0.3)
    assert print_through_db(TAPES["a4409-6b"], years) - print_through_db(TAPES["a4409-6b"], 0) == pytest.approx(law)
    assert post - pre == pytest.approx(20 * np.log10(0.6), abs=0.5)


def test_storage_adds_up(printed):
    tape, lag_s = printed
    twice = store(store(tape, 5.0), 5.0)
    once = store(tape, 10.0)
    assert twice.stored_years == once.stored_years == 10.0
    assert _echo_db(twice, lag_s)[0] == pytest.approx(_echo_db(once, lag_s)[0], abs=0.05)
    assert store(tape, 0.0) is tape


# ------------------------------------------------------------------------------------ modulation noise
def _sidebands_db(audio, f0=1000.0, lo=40.0, hi=400.0):
    """(carrier, sidebands within f0 ± [lo, hi] Hz) power in dB."""
    y = audio.samples[int(0.3 * audio.sample_rate):].astype(np.float64)
    win = np.hanning(y.size)
    p = np.abs(np.fft.rfft(y * win)) ** 2
    f = np.fft.rfftfreq(y.size, 1 / audio.sample_rate)
    off = np.abs(f - f0)
    return 10 * np.log10(p[off < 3].sum()), 10 * np.log10(p[(off >= lo) & (off <= hi)].sum())


@pytest.mark.parametrize("name", ["a4409-6b", "chrome"])
def test_modulation_noise_sidebands_scale_with_the_tone(name):
    """Around a 1 kHz tone the noise sidebands (±40–400 Hz) rise as the tone does (14 dB from −20 to
    −6 dB re operating level) and sit at the tape's modulation noise times the share of a first-order
    spectrum (corner v/λ) in that band; with no signal there are none."""
    d = _bare("elektronika-302", name, modulation=True)
    fc = d.preset.speed_m_s / MOD_NOISE_WAVELENGTH_M
    share = (np.arctan(400 / fc) - np.arctan(40 / fc)) / (np.pi / 2)
    want_dbc = TAPES[name].modulation_noise_db + 10 * np.log10(share)
    readings = []
    for level in (-20.0, -6.0):
        d.reset()
        c, s = _sidebands_db(d.play(d.record(_tone(1000.0, 2.5, level))))
        readings.append((c, s))
        assert s - c == pytest.approx(want_dbc, abs=1.0), (level, s - c, want_dbc)
    (c1, s1), (c2, s2) = readings
    assert c2 - c1 == pytest.approx(14.0, abs=0.5)
    assert s2 - s1 == pytest.approx(c2 - c1, abs=0.7)
    silent = d.play(d.record(Audio(np.zeros(int(FS), np.float32), FS))).samples
    assert np.sqrt(np.mean(silent ** 2)) < 1e-6


# ------------------------------------------------------------------------------------------- bad input
def _izdat(monkeypatch, capsys, *args):
    """Run the ``izdat`` entry point (its error handling included): (exit code, output)."""
    from izdat.cli import main
    monkeypatch.setattr("sys.argv", ["izdat", *args])
    with pytest.raises(SystemExit) as ex:
        main()
    cap = capsys.readouterr()
    return ex.value.code, cap.out + cap.err


def test_bad_tapes_get_one_sentence():
    with pytest.raises(TapeError, match="unknown tape 'foo'; known tapes: svema-type-6, a4409-6b, tdk-ad, chrome"):
        TapeDeck("elektronika-302", tape="foo")
    with pytest.raises(TapeError, match="cassette tape and does not fit the reel deck sony-tc-260"):
        TapeDeck("sony-tc-260", tape="chrome")
    with pytest.raises(TapeError, match="known tapes"):
        TapeDeck("elektronika-302", tape=3)
    d = TapeDeck("elektronika-302", tape="tdk-ad")
    with pytest.raises(TapeError, match="does not fit"):
        d.preset = "sony-tc-260"           # the loaded cassette does not fit a reel deck
    assert d.preset.name == "elektronika-302" and d.tape.name == "tdk-ad"
    d.tape = None
    assert d.tape.name == "a4409-6b"
    d.preset = "sony-tc-260"
    assert d.tape.name == "svema-type-6"


@pytest.mark.parametrize("years", [-1.0, float("nan"), 101.0, "ten"])
def test_bad_storage_gets_one_sentence(years):
    tape = TapeDeck("elektronika-302").record(_tone(1000.0, 0.2, -20.0))
    with pytest.raises(TapeError, match="stored years"):
        store(tape, years)


def test_a_tape_of_unknown_stock_cannot_age():
    with pytest.raises(TapeError, match="which stock"):
        store(Tape(np.zeros(100, np.float32), FS, 4.76, "cassette"), 1.0)


@pytest.mark.parametrize("args, words", [
    (["--tape", "foo"], "unknown tape 'foo'"),
    (["--tape", "chrome", "--deck", "sony-tc-260"], "does not fit"),
    (["--stored-years", "-1"], "--stored-years must be between 0 and 100"),
    (["--chain", "elektronika-302,vesna", "--tape", "tdk-ad"], "does not fit the reel deck vesna"),
    (["--chain", "elektronika-302,rus-205", "--tape", "tdk-ad,chrome,a4409-6b"], "one per deck of --chain (2)"),
    (["--chain", "elektronika-302,vesna", "--tape", "tdk-ad,chrome"], "does not fit the reel deck vesna"),
])
def test_dub_refuses_bad_tapes_and_storage_before_any_work(tmp_path, monkeypatch, capsys, args, words):
    song = tmp_path / "song.wav"
    import soundfile
    soundfile.write(song, np.zeros(4800, np.float32), 48000)
    out = tmp_path / "out"
    code, text = _izdat(monkeypatch, capsys, "dub", str(song), "-o", str(out), *args)
    assert code == 2
    assert words in text and "Traceback" not in text and len(text.strip().splitlines()) == 1
    assert not out.exists()


def test_dub_with_a_tape_and_storage_writes_them_into_chain_json(tmp_path):
    import soundfile
    song = tmp_path / "song.wav"
    soundfile.write(song, _tone(440.0, 1.0, -10.0).samples, 48000)
    out = tmp_path / "out"
    r = runner.invoke(app, ["dub", str(song), "-o", str(out), "--tape", "chrome", "--stored-years", "3"])
    assert r.exit_code == 0, r.output
    record = json.loads((out / "chain.json").read_text())
    assert record["stored_years"] == 3.0 and record["machines"][0]["tape"] == "chrome"
    assert record["machines"][0]["formulation"] == "CrO2"
    assert record["generations"][0]["history"] == ["recorded on elektronika-302", "stored 3 years"]


def test_measure_shows_the_tape(monkeypatch, capsys):
    code, text = _izdat(monkeypatch, capsys, "measure", "--deck", "elektronika-302", "--tape", "foo")
    assert code == 2 and "unknown tape 'foo'" in text
    code, text = _izdat(monkeypatch, capsys, "measure", "--wav", "x.wav", "--tape", "chrome")
    assert code == 2 and "--tape loads a tape into --deck" in text
    r = runner.invoke(app, ["tapes", "--json"])
    assert r.exit_code == 0 and [t["name"] for t in json.loads(r.output)] == list(TAPES)
    r = runner.invoke(app, ["measure", "--deck", "elektronika-302", "--tape", "tdk-ad"])
    assert r.exit_code == 0, r.output
    assert "tape: tdk-ad (" in r.output and "its usual tape is a4409-6b" in r.output
    row = next(line for line in r.output.splitlines() if line.startswith("sensitivity 315 Hz dB"))
    assert float(row.split()[4]) == pytest.approx(TAPES["tdk-ad"].sensitivity_db - TAPES["a4409-6b"].sensitivity_db, abs=0.3)


def test_each_deck_of_a_chain_can_hold_its_own_tape(tmp_path):
    import soundfile
    song = tmp_path / "song.wav"
    soundfile.write(song, _tone(440.0, 0.5, -10.0).samples, 48000)
    out = tmp_path / "out"
    r = runner.invoke(app, ["dub", str(song), "-o", str(out), "--chain", "elektronika-302,rus-205,elektronika-302",
                            "--tape", "a4409-6b,chrome,tdk-ad"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "chain.json").read_text())["machines"]
    # the same elektronika-302 (one serial number) with two cassettes, the rus-205 with chrome
    assert [(x["model"], x["seed"], x["tape"]) for x in m] == [
        ("elektronika-302", 0, "a4409-6b"), ("rus-205", 1, "chrome"), ("elektronika-302", 0, "tdk-ad")]


@pytest.mark.parametrize("change, words", [({"mol_db": float("nan")}, "mol_db must be"),
                                           ({"coercivity_ka_m": 0.0}, "coercivity_ka_m must be between 5 and 200"),
                                           ({"kind": "wire"}, "kind must be 'reel' or 'cassette'"),
                                           ({"iec_type": "IV"}, "iec_type must be")])
def test_a_formulation_checks_its_figures(change, words):
    with pytest.raises(TapeError, match=words):
        dataclasses.replace(TAPES["tdk-ad"], **change)


def test_an_untrimmed_bias_under_biases_a_harder_tape():
    """chrome (40 kA/m) on elektronika-302 with the bias left for A4409-6B (23 kA/m): it sees
    0.575 of its optimum, so it records brighter (+1.5 dB or more at 10 kHz re 315 Hz) and dirtier
    (3× the H3 at operating level or more) than with the bias trimmed."""
    readings = {}
    for trim in (True, False):
        d = TapeDeck("elektronika-302", tape="chrome", bias_trim=trim)
        low = level_sweep(d, 315.0, [-20.0, 0.0])
        readings[trim] = (level_sweep(d, 10000.0, [-20.0])["output_db"][0] - low["output_db"][0],
                          low["h3_pct"][1])
    assert TapeDeck("elektronika-302", tape="chrome", bias_trim=False).effective_bias == pytest.approx(23 / 40)
    assert readings[False][0] > readings[True][0] + 1.5
    assert readings[False][1] > 3 * readings[True][1]
    assert TapeDeck("elektronika-302", bias_trim=False).effective_bias == 1.0  # its usual tape: no change
    with pytest.raises(TapeError, match="bias_trim must be True or False"):
        TapeDeck("elektronika-302", bias_trim="no")


def test_dub_can_leave_the_bias_untrimmed(tmp_path):
    import soundfile
    song = tmp_path / "song.wav"
    soundfile.write(song, _tone(440.0, 0.5, -10.0).samples, 48000)
    out = tmp_path / "out"
    r = runner.invoke(app, ["dub", str(song), "-o", str(out), "--tape", "chrome", "--no-bias-trim"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "chain.json").read_text())["machines"][0]
    assert m["bias_trim"] is False and m["effective_bias"] == pytest.approx(0.575)
