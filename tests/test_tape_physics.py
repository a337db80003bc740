"""Issue 16: tape that saturates and biases like tape — the knee, the headroom, bias, MOL/SOL.

Measured as a service manual does (izdat.tape.service: the deck with its noises and flutter off,
315 Hz stepped tones, H3 by a Hann-windowed FFT)."""

import numpy as np
import pytest

from izdat.tape import PRESETS, TapeDeck
from izdat.tape.preisach import BiasedRecording
from izdat.tape.service import level_sweep, mol_db, non_harmonic_dbc, quiet

LEVELS = np.arange(-12.0, 10.01, 0.25)


def crossing(sweep, pct):
    """Input level (dB re reference) where H3 first reaches ``pct`` per cent (log interpolation)."""
    h, x = sweep["h3_pct"], sweep["input_db"]
    j = int(np.argmax(h >= pct))
    assert j > 0, h
    return float(np.interp(np.log(pct), np.log(h[j - 1:j + 1]), x[j - 1:j + 1]))


@pytest.fixture(scope="module")
def sweeps():
    return {name: level_sweep(TapeDeck(name), 315.0, LEVELS) for name in PRESETS}


@pytest.mark.parametrize("name", list(PRESETS))
def test_headroom_is_the_3pct_point_in_rms(name, sweeps):
    """The rms/peak bug (issue 16): the 3 % point lay 3.3–3.7 dB below ``headroom_db``. A 315 Hz
    tone now reaches 3 % H3 at ``headroom_db`` above the reference level, ±0.3 dB."""
    assert crossing(sweeps[name], 3.0) == pytest.approx(PRESETS[name].headroom_db, abs=0.3)


@pytest.mark.parametrize("name", list(PRESETS))
def test_knee_from_1_to_3_pct_within_2_to_4_db_and_1_pct_at_operating_level(name, sweeps):
    s = sweeps[name]
    assert 2.0 <= crossing(s, 3.0) - crossing(s, 1.0) <= 4.0
    at_op = float(np.interp(0.0, s["input_db"], s["h3_pct"]))
    assert 0.6 <= at_op <= 1.5, at_op


def test_h3_falls_with_level_at_optimum_bias_no_dead_zone():
    """Whole deck, noise and flutter off: below 0.1 % at −20 dB and still falling at −30 and −40 dB
    (the old leftover loop kept 0.7–1.3 % at −30 dB)."""
    h = level_sweep(TapeDeck("mayak-203"), 315.0, [-40.0, -30.0, -20.0, -10.0])["h3_pct"]
    assert h[2] < 0.1 and h[1] < 0.02
    assert np.all(np.diff(h) > 0), h


@pytest.fixture(scope="module")
def bias_runs():
    out = {}
    for b in (0.0, 0.5, 1.0, 2.0):
        d = TapeDeck("elektronika-302", bias=b)
        low = level_sweep(d, 315.0, [-20.0, 0.0])
        out[b] = {"sens_db": low["output_db"][0] + 20.0, "h3_op": low["h3_pct"][1],
                  "treble_db": level_sweep(d, 8000.0, [-20.0])["output_db"][0] - low["output_db"][0]}
    return out


def test_no_bias_is_grossly_distorted(bias_runs):
    assert bias_runs[0.0]["h3_op"] > 20.0
    assert bias_runs[0.0]["sens_db"] < -20.0


def test_under_bias_brighter_and_far_more_distorted(bias_runs):
    assert bias_runs[0.5]["treble_db"] > bias_runs[1.0]["treble_db"] + 1.0
    assert bias_runs[0.5]["h3_op"] > 2.5 * bias_runs[1.0]["h3_op"]


def test_over_bias_duller_cleaner_and_less_sensitive(bias_runs):
    """The playback gain is calibrated once at the optimum: over-bias plays back softer."""
    assert bias_runs[2.0]["treble_db"] < bias_runs[1.0]["treble_db"] - 2.0
    assert -8.0 < bias_runs[2.0]["sens_db"] - bias_runs[1.0]["sens_db"] < -1.0
    assert bias_runs[2.0]["h3_op"] < bias_runs[1.0]["h3_op"]
    assert abs(bias_runs[1.0]["sens_db"]) < 0.2


def test_recording_is_memoryless_and_odd():
    """Each tape element is fresh coating: no loop carried from one sample to the next."""
    r = BiasedRecording(bias=1.0)
    h = np.linspace(-3, 3, 301)
    a = r.magnetise(np.concatenate([h, h[::-1]]))
    np.testing.assert_allclose(a[50:250], a[::-1][50:250], atol=1e-6)
    np.testing.assert_allclose(r.magnetise(-h)[10:-10], -r.magnetise(h)[10:-10], atol=1e-6)


def _treble_re_315(name, bias, f_hz=10000.0):
    d = TapeDeck(name, bias=bias)
    return level_sweep(d, f_hz, [-20.0])["output_db"][0] - level_sweep(d, 315.0, [-20.0])["output_db"][0]


@pytest.mark.parametrize("name, over_20pct, over_2x", [("elektronika-302", (2.0, 4.0), 10.0),
                                                        ("mayak-203", (3.0, 6.0), 12.0),
                                                        ("sony-tc-260", (1.5, 4.0), 8.0)])
def test_over_bias_takes_the_treble_as_a_service_alignment_expects(name, over_20pct, over_2x):
    """Issue 16: "2× over-bias costs only 2 dB at 10 kHz at 9.53 cm/s". The recording zone moves
    with the bias current: +20 % of bias takes 1.5–6 dB off 10 kHz re 315 Hz (the 2–3 dB
    "over-bias" of an alignment), 2× takes ≥ 8–12 dB; under-bias (0.5) gives treble back."""
    at = {b: _treble_re_315(name, b) for b in (0.5, 1.0, 1.2, 2.0)}
    lo, hi = over_20pct
    assert lo < at[1.0] - at[1.2] < hi, at
    assert at[1.0] - at[2.0] > over_2x, at
    assert at[0.5] > at[1.0] + 2.0, at


def test_quiet_copy_keeps_bias_and_level_but_not_noise():
    d = quiet(TapeDeck("vesna", bias=1.5, record_level_db=2.0))
    assert (d.bias, d.record_level_db, d.speed_error_pct, d.preset.dropouts_per_min) == (1.5, 2.0, 0.0, 0.0)
    assert mol_db(TapeDeck("vesna")) == pytest.approx(mol_db(TapeDeck("vesna", seed=5)), abs=0.05)


# -- item 1: short-wavelength saturation (MOL and SOL as a service manual measures them) ----------

@pytest.fixture(scope="module")
def mol_sol():
    from izdat.tape.service import sol_db
    return {name: (mol_db(TapeDeck(name)), sol_db(TapeDeck(name))) for name in PRESETS}


@pytest.mark.parametrize("name", [n for n in PRESETS if PRESETS[n].upper_hz > 10_000])
def test_sol_at_10khz_lies_below_mol_more_so_at_low_speed(name, mol_sol):
    """Before: the largest 10 kHz output was 13–17 dB above the 315 Hz 3 % point."""
    mol, sol = mol_sol[name]
    gap = mol - sol
    speed = PRESETS[name].speed_cm_s
    if speed < 5:
        assert 2.0 <= gap <= 7.0, (mol, sol)
    else:
        assert 0.5 <= gap < 4.0, (mol, sol)


def test_sol_margin_grows_as_the_speed_falls(mol_sol):
    by_speed = {}
    for name, (mol, sol) in mol_sol.items():
        if PRESETS[name].upper_hz > 10_000:
            by_speed.setdefault(PRESETS[name].speed_cm_s, []).append(mol - sol)
    gaps = [np.mean(by_speed[v]) for v in (19.05, 9.53, 4.76)]
    assert gaps[0] < gaps[1] < gaps[2], gaps


def test_loud_treble_compresses_the_upper_limit_falls_at_operating_level():
    """elektronika-302: measured at operating level instead of −20 dB the upper limit used to widen
    (9997 → 10124 Hz); the tape now loses treble there."""
    from izdat.tape.meter import frequency_response
    deck = quiet(TapeDeck("elektronika-302"))
    low, high = (frequency_response(deck, level_db=lv)["upper_hz"] for lv in (-20.0, 0.0))
    assert high < 0.97 * low, (low, high)          # 10048 → 9512 Hz


# -- item 8: aliasing --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sony-tc-260", "elektronika-302", "yauza-5"])
def test_no_aliasing_or_roundoff_tones_above_minus_90_dbc(name):
    """Before: −46 dBc (the JA stage at 2× with a 7-tap half-band); then −85 dBc at 17.9 kHz (the 7th
    harmonic folded) and −79 dBc at 100 Hz (float32 round-off in the bass poles, lifted by playback)."""
    assert non_harmonic_dbc(name) < -90.0
