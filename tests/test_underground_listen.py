"""izdat listen: a copy's sound through every machine on its lineage (issue 6)."""

import sqlite3
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from izdat.audio import Audio
from izdat.tape.presets import PRESETS
from izdat.underground import LineageError, build_society, simulate
from izdat.underground.lineage import chain, write_lineage
from izdat.underground.listen import deck_preset, jammed_radio, listen
from izdat.underground.scenario import merge_scenario
from izdat.underground.society import DECK_IS_CASSETTE, DECKS

RATE = 44100
SIGNAL_S, GAP_S = 2.0, 1.0     # broadband programme, then silence (to read each copy's noise)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """A small run with many bone records and customs erasures, so every machine is on some lineage."""
    sc = merge_scenario({"state": {"customs_erase": 0.5},
                         "media": {"bone_buyer_share": 0.5, "cutters_per_100k": 300.0}})
    society = build_society(3000, sc, 1)
    history = simulate(society, sc, seed=1)
    path = tmp_path_factory.mktemp("listen") / "lineage.sqlite"
    write_lineage(path, history, society)
    return path


@pytest.fixture(scope="module")
def song():
    rng = np.random.default_rng(0)
    x = np.concatenate([0.2 * rng.standard_normal(int(SIGNAL_S * RATE)), np.zeros(int(GAP_S * RATE))])
    return Audio(x.astype(np.float32), RATE)


def _band_db(x, lo, hi, fs=RATE):
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    f = np.fft.rfftfreq(x.size, 1 / fs)
    return 10 * np.log10(spec[(f >= lo) & (f < hi)].mean() + 1e-30)


def _programme(a: Audio):
    return a.samples[int(0.2 * RATE): int((SIGNAL_S - 0.2) * RATE)]


def _gap_rms_db(a: Audio):
    gap = a.samples[int((SIGNAL_S + 0.3) * RATE): int((SIGNAL_S + GAP_S - 0.2) * RATE)]
    return 20 * np.log10(np.sqrt(np.mean(gap.astype(np.float64) ** 2)) + 1e-30)


def _rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)) + 1e-30)


def _one(con, sql):
    row = con.execute(sql).fetchone()
    assert row is not None, sql
    return row[0]


def test_every_stored_deck_is_a_tape_preset_of_the_same_kind():
    """The society's deck names are `izdat decks` presets, cassette where the society says cassette."""
    for name, cassette in zip(DECKS, DECK_IS_CASSETTE):
        assert name in PRESETS
        assert PRESETS[name].kind == ("cassette" if cassette else "reel")
    assert deck_preset("vesna-2") == "vesna"            # names of older databases still play


def test_same_copy_same_samples(db, song):
    con = sqlite3.connect(db)
    cid = _one(con, "SELECT id FROM copies WHERE medium IN ('reel','cassette') AND generation BETWEEN 2 AND 4 "
                    "AND parent IN (SELECT id FROM copies WHERE medium = 'bone') ORDER BY id LIMIT 1")
    a, b = listen(db, cid, song), listen(db, cid, song)
    assert np.array_equal(a.samples, b.samples) and a.sample_rate == RATE
    assert not np.array_equal(listen(db, cid, song, seed=99).samples, a.samples)


def test_deeper_tape_copy_has_less_treble_and_more_noise(db, song):
    """Down one lineage of tape dubs, the top octave fades and the hiss in the silence grows."""
    con = sqlite3.connect(db)
    tape = ("reel", "cassette")
    for (deep,) in con.execute("SELECT id FROM copies WHERE medium IN ('reel','cassette') AND fate != 'erased' "
                               "AND generation >= 6 ORDER BY generation DESC, id"):
        rows = chain(db, deep)[::-1]
        # the first tape of the lineage after which every copy is a tape
        k = max([i for i, r in enumerate(rows) if r["medium"] not in tape], default=-1) + 1
        # ... recorded on a deck that has a top octave to lose (Vesna, Dnepr-11 and Yauza-5 stop near 6-10 kHz)
        if rows[-1]["generation"] - rows[k]["generation"] >= 6 and rows[k]["deck"] not in ("vesna", "dnepr-11", "yauza-5"):
            break
    else:
        pytest.fail("no lineage of seven tapes in a row in the test run")
    a, b = listen(db, rows[k]["id"], song), listen(db, deep, song)
    treble = lambda x: _band_db(_programme(x), 12000, 18000) - _band_db(_programme(x), 300, 1500)  # noqa: E731
    hiss = lambda x: _band_db(x.samples[int((SIGNAL_S + 0.3) * RATE): int((SIGNAL_S + GAP_S - 0.2) * RATE)],  # noqa: E731
                              500, 5000)
    assert treble(b) < treble(a) - 6.0                   # treble lost, generation after generation
    assert hiss(b) > hiss(a) + 2.0                       # hiss adds up


def test_bone_copy_has_the_records_band_limit(db, song):
    con = sqlite3.connect(db)
    cid = _one(con, "SELECT c.id FROM copies c JOIN copies p ON c.parent = p.id WHERE c.medium = 'bone' "
                    "AND c.fake = 0 AND p.medium = 'LP' ORDER BY c.id LIMIT 1")
    heard = _programme(listen(db, cid, song))
    clean = _programme(song)
    lost = (_band_db(clean, 11000, 16000) - _band_db(clean, 300, 1500)) - \
           (_band_db(heard, 11000, 16000) - _band_db(heard, 300, 1500))
    assert lost > 12.0                                   # the stylus cannot trace the short wavelengths


def test_erased_copy_is_much_quieter(db, song):
    con = sqlite3.connect(db)
    cid, parent = con.execute("SELECT c.id, c.parent FROM copies c JOIN copies p ON c.parent = p.id "
                              "WHERE c.fate = 'erased' AND p.medium IN ('reel','cassette') ORDER BY c.generation, c.id "
                              "LIMIT 1").fetchone()
    erased, source = listen(db, cid, song), listen(db, parent, song)
    assert _rms_db(_programme(erased)) < _rms_db(_programme(source)) - 15.0
    assert _rms_db(_programme(erased)) > -100.0          # a faint remnant, not silence


def test_radio_channel_is_band_limited_and_jammed(song):
    heard = jammed_radio(song, seed=1)
    x = _programme(heard)
    assert _band_db(x, 8000, 14000) < _band_db(x, 500, 3000) - 30
    assert _gap_rms_db(heard) < _rms_db(x) - 8           # the jammer stays under the programme


def test_unknown_copy_and_bad_input_raise_one_sentence(db, song, tmp_path):
    with pytest.raises(LineageError, match="not in the database"):
        listen(db, 10**9, song)
    with pytest.raises(LineageError, match="does not exist"):
        listen(tmp_path / "missing.sqlite", 0, song)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "izdat", *args], capture_output=True, text=True)


def _cli_here(capsys, monkeypatch, *args):
    """The `izdat` entry point in this process (no interpreter start-up): exit code and stderr."""
    from izdat.cli import main
    monkeypatch.setattr(sys, "argv", ["izdat", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code or 0, capsys.readouterr().err


def test_cli_listen_writes_a_wav_and_fails_cleanly(db, song, tmp_path, capsys, monkeypatch):
    wav = tmp_path / "song.wav"
    soundfile.write(wav, song.samples, RATE)
    out = tmp_path / "copy.wav"
    con = sqlite3.connect(db)
    lp = _one(con, "SELECT id FROM copies WHERE medium = 'LP' ORDER BY id LIMIT 1")
    code, err = _cli_here(capsys, monkeypatch, "listen", str(db), str(lp), str(wav), "-o", str(out))
    assert code == 0, err
    data, fs = soundfile.read(out)
    assert fs == RATE and data.size == song.samples.size
    bad = tmp_path / "bad.wav"
    r = _cli("listen", str(db), "999999999", str(wav), "-o", str(bad))        # the real command, end to end
    assert r.returncode == 2 and "not in the database" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and not bad.exists()
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"not a database" * 100)
    for args, words in [((str(db), str(lp), str(tmp_path / "nothing.wav")), "cannot read"),
                        ((str(tmp_path / "nothing.sqlite"), str(lp), str(wav)), "does not exist"),
                        ((str(corrupt), str(lp), str(wav)), "not a readable")]:
        code, err = _cli_here(capsys, monkeypatch, "listen", *args, "-o", str(bad))
        assert code == 2 and words in err and "Traceback" not in err, err
        assert err.strip().count("\n") == 0
        assert not bad.exists() and not list(tmp_path.glob(".bad.wav*"))
