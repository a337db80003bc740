"""The lathe: groove geometry with numbers."""

import math

import numpy as np
import pytest

from izdat.audio import Audio
from izdat.errors import AudioError, GrooveError
from izdat.lathe import Lathe, cut

from conftest import RATE, sine

SMALL = dict(diameter_mm=120, inner_radius_mm=30)  # a small disc keeps tests quick


def music_like(seconds=20.0, seed=3):
    """Loud bursts and quiet passages: tones and noise, a 0.1 Hz loudness swell."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    loud = (np.sin(2 * np.pi * 0.1 * t) > 0).astype(float)
    x = (0.03 + 0.97 * loud) * (0.4 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 1760 * t))
    return Audio(x + 0.02 * rng.standard_normal(t.size), RATE)


def land_m(record):
    """Land between each groove sample and the groove one turn further in (m), over every pair of
    distinct grooves: lead-in, programme and lead-out, up to where the lead-out joins the locked circle."""
    n = record.samples_per_rev
    r = record.radius_m
    stop = record.locked_start - n // 2 - n
    return r[:stop] - r[n:stop + n] - record.groove_width_m


@pytest.fixture(scope="module")
def variable():
    return Lathe(**SMALL).cut(music_like())


@pytest.fixture(scope="module")
def fixed():
    return Lathe(**SMALL, variable_pitch=False).cut(music_like())


def test_capacity_matches_a_hand_computation():
    """(125 − 8 − 1.5 × 1.5 mm − 52 mm) / 254 µm turns at 78 rpm."""
    turns = (125 - 8 - 2.25 - 52) / 0.254
    assert Lathe().capacity_s() == pytest.approx(turns * 60 / 78, rel=1e-9)
    assert Lathe().capacity_s() == pytest.approx(190.04, abs=0.01)
    assert Lathe(rpm=100 / 3).capacity_s() == pytest.approx(turns * 60 / (100 / 3), rel=1e-9)


def test_a_song_longer_than_the_side_fails_before_any_work_with_what_would_fit():
    lathe = Lathe(**SMALL, variable_pitch=False)
    long_song = Audio(np.zeros((int(lathe.capacity_s() + 30) * 8000,), np.float32) + 0.1, 8000)
    with pytest.raises(GrooveError) as err:
        lathe.cut(long_song)
    text = str(err.value)
    capacity = round(lathe.capacity_s())
    assert f"holds {capacity // 60}:{capacity % 60:02d} at 254 µm" in text
    assert f"--trim {math.floor(lathe.capacity_s())}" in text
    assert "finer pitch" in text and "larger diameter" in text and "lower speed" in text and "--trim" in text


@pytest.mark.parametrize("record", ["variable", "fixed"])
def test_grooves_never_touch_their_neighbours(record, request):
    rec = request.getfixturevalue(record)
    assert land_m(rec).min() >= rec.land_m - 1e-7


@pytest.mark.parametrize("record", ["variable", "fixed"])
def test_excursion_and_slope_stay_within_limits(record, request):
    rec = request.getfixturevalue(record)
    lathe = Lathe(**SMALL)
    assert np.abs(rec.displacement_m).max() <= lathe.max_excursion_m * (1 + 1e-6)
    velocity = np.gradient(rec.displacement_m.astype(float)) * rec.sample_rate
    radius = rec.radius_m[rec.program_start:rec.program_end]
    slope = np.abs(velocity) / rec.groove_speed_m_s(radius)
    assert slope.max() <= lathe.max_slope * 1.001


def test_variable_pitch_packs_quiet_passages_tighter_so_more_fits(variable, fixed):
    assert variable.pitch_m.min() < 0.7 * fixed.pitch_m.min()
    assert variable.pitch_m.max() <= fixed.pitch_m.max() + 1e-12
    band = lambda rec: rec.radius_m[rec.program_start] - rec.radius_m[rec.program_end - 1]
    assert band(variable) < 0.85 * band(fixed)


def test_look_ahead_widens_the_pitch_a_turn_before_a_loud_passage(variable):
    """The loudness swell turns loud at 10 s: the pitch must be wide from about one turn before."""
    t_loud = 10.0 - variable.samples_per_rev / variable.sample_rate   # one turn early
    i_before = int((t_loud + 0.05) * variable.sample_rate)
    i_quiet = int(8.0 * variable.sample_rate)
    assert variable.pitch_m[i_before] > 1.3 * variable.pitch_m[i_quiet]


def test_an_over_loud_cut_is_limited_and_reported_where(tone):
    rec = Lathe(**SMALL, level_db=9).cut(tone)
    assert rec.limiter
    assert rec.limiter.max_reduction_db == pytest.approx(9, abs=1.0)
    excursion = [seg for seg in rec.limiter.segments if seg[3] == "excursion"]
    start, end, db, _ = excursion[0]
    assert start < 0.05 and end > 1.9 and db == pytest.approx(9, abs=0.5)
    assert "9." in rec.limiter.summary() or "8." in rec.limiter.summary()


def test_fast_treble_is_slope_limited_at_the_inner_grooves():
    """A loud 8 kHz tone cut hot: the slope limit engages, and more so near the centre."""
    rec = Lathe(**SMALL, eq="riaa", level_db=6).cut(sine(8000, 4.0))
    assert any(c == "slope" for *_, c in rec.limiter.segments)


def test_playback_of_a_clean_cut_gives_back_the_song(tone):
    """Record → velocity playback: a −6 dB 1 kHz tone comes back at its level; all that is not the
    tone (noise and distortion, after a least-squares fit of the 1 kHz sine) is 60 dB below it."""
    rec = Lathe(**SMALL, level_db=-6).cut(tone)
    out = rec.playback(sample_rate=RATE).samples[RATE // 2: -RATE // 2].astype(float)
    t = np.arange(len(out)) / RATE
    basis = np.stack([np.sin(2 * np.pi * 1000 * t), np.cos(2 * np.pi * 1000 * t)], 1)
    fit, *_ = np.linalg.lstsq(basis, out, rcond=None)
    assert np.hypot(*fit) == pytest.approx(0.5, rel=0.01)
    residual = out - basis @ fit
    assert 10 * np.log10(np.sum((basis @ fit) ** 2) / np.sum(residual**2)) > 60


def test_stereo_is_summed_to_mono():
    t = np.arange(RATE) / RATE
    left = 0.5 * np.sin(2 * np.pi * 500 * t)
    rec = Lathe(**SMALL).cut(Audio(np.stack([left, -left + 0.5 * np.sin(2 * np.pi * 700 * t)], 1), RATE))
    spectrum = np.abs(np.fft.rfft(rec.playback(sample_rate=RATE).samples))
    assert spectrum[700] > 100 * spectrum[500]


def test_lead_in_lead_out_and_a_closed_locked_groove(variable):
    r, n = variable.radius_m, variable.samples_per_rev
    assert len(r) % n == 0
    assert r[0] == pytest.approx(0.060 - 0.008, abs=1e-9)
    assert r[variable.program_start] == pytest.approx(r[0] - 1.5 * 1.5e-3, abs=2e-6)
    locked = r[variable.locked_start:]
    assert len(locked) >= n and np.ptp(locked) == 0      # a circle: the last turn returns on itself
    assert r[variable.program_end - 1] - r[-1] > 3e-3     # the lead-out spiral runs well inside the music


def test_the_same_audio_gives_the_same_groove():
    a, b = (Lathe(**SMALL).cut(music_like(5)) for _ in range(2))
    assert np.array_equal(a.radius_m, b.radius_m)


@pytest.mark.parametrize("seconds", [0.05, 0.5])
def test_a_song_shorter_than_one_turn_is_cut(seconds):
    rec = Lathe(**SMALL).cut(sine(440, seconds))
    assert rec.program_s == pytest.approx(seconds, abs=1e-3)
    assert land_m(rec).min() >= rec.land_m - 1e-7


def test_convenience_cut_and_trim():
    rec = cut(music_like(10), trim_s=4.0, **SMALL)
    assert rec.program_s == pytest.approx(4.0, abs=1e-3)


@pytest.mark.parametrize("samples,match", [(np.zeros(0), "empty"), (np.zeros(1000), "silent"), (np.ones(1), "too short"),
                                           (np.array([0.1, np.nan, 0.2] * 100), "NaN")])
def test_unusable_audio_is_refused_with_a_sentence(samples, match):
    with pytest.raises(AudioError, match=match):
        Lathe(**SMALL).cut(Audio(samples, RATE))


@pytest.mark.parametrize("kwargs,match", [(dict(rpm=-78), "rpm"), (dict(diameter_mm=5000), "diameter"),
                                          (dict(pitch_um=100), "no room"), (dict(level_db=math.inf), "level")])
def test_absurd_settings_are_refused(kwargs, match):
    with pytest.raises(GrooveError, match=match):
        Lathe(**kwargs)
