"""Issue 15, item 8 (and the ranges of item 9): a machine whose setting is changed after its first use
works as a new machine built with that setting (the same samples), and a bad value set later is
refused at once with one sentence; the ranges live in each machine's ``LIMITS``."""

import dataclasses
import math

import numpy as np
import pytest

from izdat.audio import Audio
from izdat.errors import GrooveError, IzdatError
from izdat.gramophone import Gramophone, GroovePath
from izdat.gramophone.surface import MATERIALS
from izdat.lathe import Lathe
from izdat.tape import TapeDeck
from izdat.tape.deck import TapeError
from izdat.tape.hysteresis import JilesAtherton

RATE = 44100
SMALL = dict(diameter_mm=100.0, inner_radius_mm=25.0, outer_margin_mm=5.0)


def tone(seconds=0.25, amplitude=0.3, freq=1000.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return Audio((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32), RATE)


def one_sentence(exc):
    text = str(exc)
    assert text and "\n" not in text, text
    return text


# -- the lathe ----------------------------------------------------------------------------------------

LATHE_CHANGES = [("rpm", 45.0), ("diameter_mm", 120.0), ("outer_margin_mm", 6.0), ("inner_radius_mm", 30.0),
                 ("pitch_um", 300.0), ("groove_width_um", 100.0), ("land_um", 30.0), ("variable_pitch", False),
                 ("eq", "riaa"), ("level_db", -6.0), ("max_slope", 0.3)]


def same_record(a, b):
    assert a.samples_per_rev == b.samples_per_rev and a.rpm == b.rpm
    assert np.array_equal(a.radius_m, b.radius_m) and np.array_equal(a.displacement_m, b.displacement_m)
    assert a.info() == b.info()


def test_every_public_lathe_setting_is_covered():
    covered = {name for name, _ in LATHE_CHANGES}
    assert covered == set(Lathe().settings()) == {n for n in Lathe.LIMITS if n != "trim_s"} | {"variable_pitch", "eq"}


@pytest.mark.parametrize("name, value", LATHE_CHANGES)
def test_a_lathe_changed_after_use_cuts_as_a_new_one(name, value):
    lathe = Lathe(**SMALL)
    first = lathe.cut(tone())
    setattr(lathe, name, value)
    again = lathe.cut(tone())
    fresh = Lathe(**{**SMALL, name: value}).cut(tone())
    same_record(again, fresh)
    with pytest.raises(AssertionError):
        same_record(first, fresh)            # the change did change the cut
    assert getattr(lathe, name) == getattr(Lathe(**{**SMALL, name: value}), name)


LATHE_REFUSALS = [
    ("rpm", 0, "rpm must be between 5 and 200 rev/min, not 0"),
    ("rpm", math.nan, "rpm must be between 5 and 200 rev/min, not nan"),
    ("rpm", math.inf, "rpm must be between 5 and 200 rev/min, not inf"),
    ("rpm", "78", "rpm must be a number between 5 and 200 rev/min, not '78'"),
    ("rpm", True, "rpm must be a number between 5 and 200 rev/min, not True"),
    ("diameter_mm", 10, "diameter_mm must be between 50 and 420 mm, not 10"),
    ("diameter_mm", 40.0 + 10, "the groove band between"),        # 50 mm: legal alone, no band inside 25 mm
    ("inner_radius_mm", 60, "inner_radius_mm must be between 10 and 50 mm, not 60"),
    ("outer_margin_mm", -1, "outer_margin_mm must be between 1 and 50 mm, not -1"),
    ("pitch_um", 100, "a pitch of 100 µm leaves no room to modulate a 120 µm groove with 20 µm of land"),
    ("pitch_um", 1e9, "pitch_um must be between 20 and 5000 µm"),
    ("groove_width_um", math.nan, "groove_width_um must be between 10 and 1000 µm, not nan"),
    ("land_um", 600, "land_um must be between 0 and 500 µm, not 600"),
    ("level_db", 21, "level_db must be between -40 and 20 dB, not 21"),
    ("max_slope", 0, "max_slope must be between 0.05 and 2, not 0"),
    ("variable_pitch", "yes", "variable_pitch must be True or False, not 'yes'"),
    ("eq", "loud", "unknown equalisation 'loud'"),
    ("eq", 3, "eq must be a curve's name or an Equalisation, not 3"),
]


@pytest.mark.parametrize("name, value, words", LATHE_REFUSALS)
def test_a_bad_lathe_setting_set_later_is_refused_at_once(name, value, words):
    lathe = Lathe(**SMALL)
    first = lathe.cut(tone())
    before = lathe.settings()
    with pytest.raises(GrooveError) as err:
        setattr(lathe, name, value)
    assert words in one_sentence(err.value)
    assert lathe.settings() == before                  # nothing half-set
    same_record(lathe.cut(tone()), first)
    with pytest.raises(GrooveError):                   # and a new lathe refuses it the same way
        Lathe(**{**SMALL, name: value})


def test_rpm_0_set_later_is_a_sentence_not_a_zero_division():
    lathe = Lathe()
    with pytest.raises(GrooveError, match="rpm must be between 5 and 200 rev/min, not 0"):
        lathe.rpm = 0
    assert lathe.rpm == 78.0 and lathe.samples_per_rev == 33923


# -- the tape deck ------------------------------------------------------------------------------------

DECK_CHANGES = [("record_level_db", 10.0), ("bias", 2.0), ("bias", False), ("speed_error_pct", 1.5),
                ("azimuth_arcmin", 20.0), ("seed", 5), ("preset", "mayak-203")]


def deck_cycle(deck):
    """A quiet tone recorded on ``deck``, played on it and on another deck of its model (where its own
    azimuth error no longer cancels)."""
    tape = deck.record(tone(amplitude=0.01))
    return np.concatenate([deck.play(tape).samples, TapeDeck(deck.preset, seed=99).play(tape).samples])


def test_every_public_deck_setting_is_covered():
    assert {n for n, _ in DECK_CHANGES} == set(TapeDeck.LIMITS) | {"preset"}


@pytest.mark.parametrize("name, value", DECK_CHANGES)
def test_a_deck_changed_after_use_records_and_plays_as_a_new_one(name, value):
    deck = TapeDeck("elektronika-302", seed=1)
    first = deck_cycle(deck)
    setattr(deck, name, value)
    deck.reset()                                      # the random streams from the start, as a new deck's
    fresh = TapeDeck(**{"model": "elektronika-302", "seed": 1, name if name != "preset" else "model": value})
    assert repr(deck) == repr(fresh)
    again, new = deck_cycle(deck), deck_cycle(fresh)
    assert np.array_equal(again, new)
    assert not np.array_equal(first, new)


def test_record_level_changed_after_use_plays_back_at_the_fresh_decks_level():
    """The issue's measurement: −32.85 dBFS after ``record_level_db = 10`` against −42.85 for a new deck
    (the playback gain was cached for the old level)."""
    deck = TapeDeck("elektronika-302", seed=1)
    deck_cycle(deck)
    deck.record_level_db = 10
    deck.reset()
    fresh = TapeDeck("elektronika-302", seed=1, record_level_db=10)
    level = [20 * np.log10(np.sqrt(np.mean(d.play(d.record(tone(amplitude=0.01))).samples[RATE // 20:] ** 2)))
             for d in (deck, fresh)]
    assert level[0] == pytest.approx(level[1], abs=1e-6)
    assert -45 < level[1] < -40                       # a −40 dBFS tone comes back near its level


def test_a_new_seed_redraws_only_what_was_drawn_and_restarts_the_streams():
    deck = TapeDeck("sony-tc-260", seed=1, azimuth_arcmin=7.0)
    deck_cycle(deck)
    deck.seed = 9                                     # no reset(): a new seed restarts the streams
    fresh = TapeDeck("sony-tc-260", seed=9, azimuth_arcmin=7.0)
    assert (deck.speed_error_pct, deck.azimuth_arcmin) == (fresh.speed_error_pct, 7.0)
    assert np.array_equal(deck_cycle(deck), deck_cycle(fresh))
    deck.speed_error_pct = 2.0
    deck.speed_error_pct = None                       # drawn from the seed again
    assert deck.speed_error_pct == fresh.speed_error_pct


def test_bias_true_and_false_are_the_bias_switch():
    """The first check (``float(bias)``) took True/False as 1/0: kept on purpose, as the switch."""
    assert TapeDeck(bias=True).bias == 1.0 and TapeDeck(bias=False).bias == 0.0
    assert np.array_equal(deck_cycle(TapeDeck(bias=True)), deck_cycle(TapeDeck(bias=1.0)))


DECK_REFUSALS = [
    ("record_level_db", math.nan, "record_level_db must be between -30 and 20 dB, not nan"),
    ("record_level_db", 100, "record_level_db must be between -30 and 20 dB, not 100"),
    ("record_level_db", "10", "record_level_db must be a number between -30 and 20 dB, not '10'"),
    ("bias", -1, "bias must be between 0 and 5 (1 = optimum), not -1"),
    ("bias", math.inf, "bias must be between 0 and 5 (1 = optimum), not inf"),
    ("speed_error_pct", 12, "speed_error_pct must be between -5 and 5 %, not 12"),
    ("azimuth_arcmin", "x", "azimuth_arcmin must be a number between -60 and 60 arc minutes, not 'x'"),
    ("seed", -1, "seed must be between 0 and 9223372036854775807, not -1"),
    ("seed", 1.5, "seed must be a whole number"),
    ("preset", "nope", "unknown deck 'nope'; known decks: "),
    ("preset", 3, "model must be a deck's name or a DeckPreset, not 3"),
]


@pytest.mark.parametrize("name, value, words", DECK_REFUSALS)
def test_a_bad_deck_setting_set_later_is_refused_at_once(name, value, words):
    deck = TapeDeck("elektronika-302", seed=1)
    deck_cycle(deck)
    before = repr(deck)
    with pytest.raises(TapeError) as err:
        setattr(deck, name, value)
    assert words in one_sentence(err.value)
    assert repr(deck) == before
    deck.reset()
    assert np.array_equal(deck_cycle(deck), deck_cycle(TapeDeck("elektronika-302", seed=1)))


def test_a_decks_parts_follow_it_and_cannot_be_changed_behind_its_back():
    deck = TapeDeck("elektronika-302")
    deck.bias = 2.0
    assert deck.hysteresis.bias == 2.0
    deck.preset = "mayak-203"
    assert deck.transport.speed_m_s == deck.preset.speed_m_s == 0.0953
    with pytest.raises(AttributeError):
        deck.hysteresis = JilesAtherton(alpha=0, k=0.1, c=0.7)
    with pytest.raises(AttributeError, match="fixed once it is made"):
        deck.hysteresis.bias = 0.0
    with pytest.raises(AttributeError, match="fixed once it is made"):
        deck.transport.flutter_scale_pct = 5.0
    with pytest.raises(TypeError):
        deck.transport.shares["capstan"] = 9.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        deck.preset.speed_cm_s = 19.05


# -- the gramophone -----------------------------------------------------------------------------------

GRAMOPHONE_CHANGES = [("stylus_um", 25.4), ("stylus_um", "microgroove"), ("pickup", "acoustic"),
                      ("speed_error_pct", 1.0), ("rumble_db", None), ("rumble_db", -50.0), ("warp_mm", 0.5),
                      ("material", "shellac"), ("material", MATERIALS["vinyl"]), ("plays", 3),
                      ("hole_offset_mm", 1.0), ("hole_angle_deg", 90.0), ("hole_angle_deg", None),
                      ("scratches", 50), ("seed", 3), ("sample_rate", 22050.0)]


@pytest.fixture(scope="module")
def record():
    return Lathe(**SMALL).cut(tone())


def test_every_public_gramophone_setting_is_covered():
    assert {n for n, _ in GRAMOPHONE_CHANGES} == set(Gramophone().settings()) - {"sample_rate_hz"} | {"sample_rate"}


@pytest.mark.parametrize("name, value", GRAMOPHONE_CHANGES)
def test_a_gramophone_changed_after_use_plays_as_a_new_one(record, name, value):
    start = dict(hole_angle_deg=30.0)                 # so that None is a change too
    gramophone = Gramophone(**start)
    first = gramophone(record).samples
    setattr(gramophone, name, value)
    fresh = Gramophone(**{**start, name: value})
    assert repr(gramophone) == repr(fresh) and gramophone.settings() == fresh.settings()
    again, new = gramophone(record), fresh(record)
    assert again.sample_rate == new.sample_rate and np.array_equal(again.samples, new.samples)
    assert first.shape != new.samples.shape or not np.array_equal(first, new.samples)


GRAMOPHONE_REFUSALS = [
    ("stylus_um", 500, "stylus_um must be between 5 and 150 µm, not 500"),
    ("stylus_um", "diamond", "unknown stylus 'diamond'"),
    ("stylus_um", math.nan, "stylus_um must be between 5 and 150 µm, not nan"),
    ("pickup", "crystal", "unknown pickup 'crystal'"),
    ("pickup", None, "unknown pickup None"),
    ("speed_error_pct", math.inf, "speed_error_pct must be between -10 and 10 %, not inf"),
    ("rumble_db", 3, "rumble_db must be between -120 and 0 dB, not 3"),
    ("warp_mm", "1", "warp_mm must be a number between 0 and 10 mm, not '1'"),
    ("material", "wax", "unknown record material 'wax'"),
    ("material", 3, "material must be a material's name or a Material, not 3"),
    ("plays", -1, "plays must be a whole number from 0 to 1000, not -1"),
    ("plays", 2.5, "plays must be a whole number from 0 to 1000, not 2.5"),
    ("hole_offset_mm", 30, "hole_offset_mm must be between 0 and 20 mm, not 30"),
    ("hole_angle_deg", math.nan, "hole_angle_deg must be between -360 and 360 degrees, not nan"),
    ("scratches", True, "scratches must be a whole number from 0 to 50, not True"),
    ("seed", -1, "seed must be a whole number from 0 to 9223372036854775807, not -1"),
    ("sample_rate", 0, "sample_rate must be between 8000 and 192000 Hz, not 0"),
]


@pytest.mark.parametrize("name, value, words", GRAMOPHONE_REFUSALS)
def test_a_bad_gramophone_setting_set_later_is_refused_at_once(record, name, value, words):
    gramophone = Gramophone()
    first = gramophone(record).samples
    with pytest.raises(GrooveError) as err:
        setattr(gramophone, name, value)
    assert words in one_sentence(err.value)
    assert gramophone.settings() == Gramophone().settings()
    assert np.array_equal(gramophone(record).samples, first)


def test_the_gramophones_parts_are_values_that_cannot_change(record):
    path = GroovePath.from_record(record)
    with pytest.raises(dataclasses.FrozenInstanceError):
        path.rpm = 45.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        MATERIALS["xray"].wear_um = 0.0


@pytest.mark.parametrize("field, value, words", [
    ("gain_m_s", math.nan, "gain_m_s must be between 0 and 1e+12 m/s, not nan"),
    ("gain_m_s", 0.0, "gain_m_s must be a positive groove velocity"),
    ("gain_m_s", "1", "gain_m_s must be a number"),
    ("rpm", "78", "rpm must be a number between 5 and 200 rev/min, not '78'"),
    ("rpm", np.float32(45.0), None),
    ("groove_width_m", math.inf, "groove_width_m must be between 1e-06 and 0.001 m, not inf"),
    ("angle0_rad", math.nan, "angle0_rad must be between"),
    ("eq", 3, "eq must be a curve's name or an Equalisation, not 3"),
])
def test_a_groove_path_is_checked_when_made(record, field, value, words):
    """A GroovePath is a value, fixed once made: its fields are checked then, by kind and range (before,
    a NaN start angle was taken, a gain "1" raised a bare TypeError and a NumPy rpm was refused)."""
    if words is None:
        assert getattr(dataclasses.replace(GroovePath.from_record(record), **{field: value}), field) == 45.0
        return
    with pytest.raises(GrooveError) as err:
        dataclasses.replace(GroovePath.from_record(record), **{field: value})
    assert words in one_sentence(err.value)


# -- the ranges, in one place -------------------------------------------------------------------------

def _outside(lo, hi):
    span = max(hi - lo, 1)
    return [lo - span * 1e-3 if isinstance(lo, float) else lo - 1, hi + span * 1e-3 if isinstance(hi, float) else hi + 1]


@pytest.mark.parametrize("machine, make", [
    (Lathe, lambda name, v: Lathe(**({"diameter_mm": 420.0} if name == "inner_radius_mm" else {}), **{name: v})),
    (TapeDeck, lambda name, v: TapeDeck(**{name: v})),
    (Gramophone, lambda name, v: Gramophone(**{name: v})),
])
def test_each_machine_refuses_just_outside_its_limits_and_says_them(machine, make):
    for name, (lo, hi, unit) in machine.LIMITS.items():
        if name == "trim_s":
            for value in _outside(lo, hi):
                with pytest.raises(GrooveError, match=f"trim_s must be between {lo:g} and {hi:g} s"):
                    Lathe(**SMALL).cut(tone(), trim_s=value)
            continue
        for value in _outside(lo, hi):
            with pytest.raises(IzdatError) as err:
                make(name, value)
            text = one_sentence(err.value)
            assert text.startswith(f"{name} must be ") and (f"{lo:g}" in text or f"{lo}" in text), text
            assert f"{hi:g}" in text or f"{hi}" in text, text
            assert unit in text, text


def test_the_limits_are_what_the_checks_use(monkeypatch):
    """The checks read the very dicts: narrowing one narrows what a machine accepts."""
    monkeypatch.setitem(Lathe.LIMITS, "rpm", (5.0, 50.0, "rev/min"))
    monkeypatch.setitem(TapeDeck.LIMITS, "record_level_db", (-30.0, 5.0, "dB"))
    monkeypatch.setitem(Gramophone.LIMITS, "warp_mm", (0.0, 0.5, "mm"))
    with pytest.raises(GrooveError, match="rpm must be between 5 and 50 rev/min, not 78"):
        Lathe()
    with pytest.raises(TapeError, match="record_level_db must be between -30 and 5 dB, not 10"):
        TapeDeck().record_level_db = 10
    with pytest.raises(GrooveError, match="warp_mm must be between 0 and 0.5 mm, not 1"):
        Gramophone()
