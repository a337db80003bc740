"""The gramophone: wow from the hole, tracing distortion from the tip, wear from the plays."""


import numpy as np
import pytest
from scipy import signal

import izdat
from izdat.errors import GrooveError
from izdat.gramophone import Gramophone, GroovePath
from izdat.gramophone.stylus import trace
from izdat.lathe import Lathe

FS = 44_100
SPR = 33_923                     # groove samples per turn at 78 rpm (the lathe's 44.1 kHz groove)
GROOVE_RATE = SPR * 78 / 60
QUIET = dict(material="ideal", warp_mm=0.0, rumble_db=None, hole_offset_mm=0.0, scratches=0)


def _tone_path(freq_hz, radius_m, velocity_m_s, seconds, silence_s=0.0):
    """A constant-velocity tone cut at one radius, then unmodulated groove."""
    n, m = int(GROOVE_RATE * seconds), int(GROOVE_RATE * silence_s)
    t = np.arange(n) / GROOVE_RATE
    x = np.concatenate([velocity_m_s / (2 * np.pi * freq_hz) * np.sin(2 * np.pi * freq_hz * t), np.zeros(m)])
    return GroovePath(x, np.full(n + m, radius_m), SPR, 78, gain_m_s=velocity_m_s)


def _amplitude(samples, freq_hz, a_s, b_s):
    """Amplitude of the ``freq_hz`` component between ``a_s`` and ``b_s`` (least squares)."""
    s = np.asarray(samples[int(a_s * FS):int(b_s * FS)], float)
    t = np.arange(len(s)) / FS
    basis = np.c_[np.cos(2 * np.pi * freq_hz * t), np.sin(2 * np.pi * freq_hz * t)]
    c, *_ = np.linalg.lstsq(basis, s, rcond=None)
    return float(np.hypot(*c))


def _third_harmonic(freq_hz, radius_m, tip_um, velocity_m_s=0.1, cycles=20):
    """Third harmonic (× fundamental) of the tip-centre path on a sine groove: pure geometry."""
    v = 2 * np.pi * radius_m * 78 / 60
    wavelength = v / freq_hz
    n = int(round(cycles * wavelength / (2 * np.pi * radius_m / SPR)))
    step = cycles * wavelength / n
    s = np.arange(n) * step
    y = velocity_m_s / (2 * np.pi * freq_hz) * np.sin(2 * np.pi * s / wavelength)
    spectrum = np.abs(np.fft.rfft(trace(y, y, np.full(n, step), tip_um * 1e-6)))
    return spectrum[3 * cycles] / spectrum[cycles]


# -- the off-centre hole ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tone_record():
    tone = izdat.Audio(0.5 * np.sin(2 * np.pi * 1000 * np.arange(4 * FS) / FS), FS)
    return Lathe().cut(tone)


def _frequency_swing(sound, rev_hz):
    """Peak swing (Hz) of the instantaneous frequency of a 1 kHz tone at ``rev_hz``, and its mean."""
    band = signal.butter(4, [700, 1300], "bandpass", fs=FS, output="sos")
    phase = np.unwrap(np.angle(signal.hilbert(signal.sosfiltfilt(band, sound.samples.astype(float)))))
    f = np.diff(phase) * FS / (2 * np.pi)
    t = (np.arange(len(f)) + 0.5) / FS
    keep = (t > 0.3) & (t < t[-1] - 0.3)
    w = 2 * np.pi * rev_hz
    basis = np.c_[np.cos(w * t[keep]), np.sin(w * t[keep]), np.ones(keep.sum())]
    c, *_ = np.linalg.lstsq(basis, f[keep], rcond=None)
    return float(np.hypot(c[0], c[1])), float(c[2])


def test_a_3mm_hole_offset_swings_a_1khz_tone_as_the_geometry_says(tone_record):
    """Groove speed r·Ω − e·Ω·cos(θ − θ_h): a ±(e/r)·1000 Hz swing once a revolution (1.3 Hz)."""
    sound = Gramophone(**{**QUIET, "hole_offset_mm": 3.0}, hole_angle_deg=30)(tone_record)
    swing, mean = _frequency_swing(sound, 78 / 60)
    # By hand: the default lathe starts the music at 125 − 8 − 1.5 × 1.5 = 114.75 mm and moves in by
    # at most 254 µm a turn; 4 s is 5.2 turns, so the mean radius is 114.75 − 2.6 × 0.254 ≈ 114.09 mm.
    r_mean = (114.75 - 2.6 * 0.254) * 1e-3
    expected = 1000 * 3e-3 / r_mean                      # 26.3 Hz
    assert expected == pytest.approx(26.3, abs=0.05)
    assert swing == pytest.approx(expected, rel=0.10)
    assert mean == pytest.approx(1000, abs=0.5)


def test_a_centred_record_does_not_wow(tone_record):
    """No hole offset, no warp, no speed error: the tone stays at 1 kHz within 0.05 Hz."""
    swing, mean = _frequency_swing(Gramophone(**QUIET)(tone_record), 78 / 60)
    assert swing < 0.05
    assert mean == pytest.approx(1000, abs=0.05)


def test_speed_error_transposes_and_shortens():
    """A turntable 2 % fast plays 1 kHz as 1020 Hz and the side in 1/1.02 of the time."""
    path = _tone_path(1000, 0.1, 0.1, 2.0)
    sound = Gramophone(**QUIET, speed_error_pct=2.0)(path)
    assert sound.duration_s == pytest.approx(path.duration_s / 1.02, rel=1e-3)
    assert _amplitude(sound.samples, 1020, 0.3, 1.6) > 10 * _amplitude(sound.samples, 1000, 0.3, 1.6)


# -- the stylus tip --------------------------------------------------------------------------------

def test_tip_path_matches_a_brute_force_search():
    """Third harmonic of a 64 µm tip on a 1 kHz, 10 cm/s sine at 60 mm equals a fine brute-force
    envelope of the two walls (4001 contact offsets) within 3 %."""
    radius, f, rho, vel = 0.06, 1000.0, 64e-6, 0.1
    v = 2 * np.pi * radius * 78 / 60
    k = 2 * np.pi * f / v
    amp = vel / (2 * np.pi * f)
    s = np.arange(2000) * (20 * 2 * np.pi / k / 2000)
    u = np.linspace(-rho, rho, 4001)[1:-1]
    e = np.sqrt(2) * np.sqrt(rho ** 2 - u ** 2)
    walls = amp * np.sin(k * (s[:, None] + u[None, :]))
    reference = 0.5 * ((walls - e).min(axis=1) + (walls + e).max(axis=1))
    ours = trace(amp * np.sin(k * s), amp * np.sin(k * s), np.full(len(s), s[1]), rho)
    h3 = np.abs(np.fft.rfft(ours))[60] / np.abs(np.fft.rfft(ours))[20]
    h3_ref = np.abs(np.fft.rfft(reference))[60] / np.abs(np.fft.rfft(reference))[20]
    assert h3 == pytest.approx(h3_ref, rel=0.03)
    assert h3_ref == pytest.approx(1.71e-3, rel=0.02)


def test_a_straight_groove_is_traced_exactly():
    """Where the walls do not bend the tip centre lies midway between them."""
    y = np.full(1000, 3e-6)
    assert np.allclose(trace(y, y, np.full(1000, 15e-6), 64e-6), 3e-6, atol=1e-12)


def test_tracing_distortion_rises_with_frequency():
    """64 µm tip, 10 cm/s, 60 mm: third harmonic 0.04 %, 0.17 %, 0.67 %, 2.5 % at 0.5–4 kHz."""
    h3 = [_third_harmonic(f, 0.06, 64.0) for f in (500, 1000, 2000, 4000)]
    assert all(a < b for a, b in zip(h3, h3[1:]))
    assert h3[0] < 1e-3 and h3[-1] > 0.02


def test_tracing_distortion_rises_towards_the_centre():
    """2 kHz, 64 µm: the groove slows from 0.94 to 0.49 m/s between 115 and 60 mm and bends harder."""
    h3 = [_third_harmonic(2000, r, 64.0) for r in (0.115, 0.09, 0.06)]
    assert all(a < b for a, b in zip(h3, h3[1:]))
    assert h3[2] > 3 * h3[0]


def test_a_blunter_tip_distorts_more():
    """At 2 kHz, 60 mm: 25.4 µm < 64 µm < 88.9 µm in third harmonic."""
    h3 = [_third_harmonic(2000, 0.06, rho) for rho in (25.4, 64.0, 88.9)]
    assert all(a < b for a, b in zip(h3, h3[1:]))


def test_a_larger_stylus_loses_more_treble():
    """A 6 kHz tone at 20 cm/s on a 60 mm groove: each larger tip plays it quieter."""
    path = _tone_path(6000, 0.06, 0.2, 0.8)
    levels = [_amplitude(Gramophone(**QUIET, stylus_um=rho)(path).samples, 6000, 0.2, 0.7)
              for rho in (25.4, 64.0, 88.9)]
    assert all(a > b for a, b in zip(levels, levels[1:]))
    assert 20 * np.log10(levels[0] / levels[2]) > 2.0            # measured 3.3 dB


# -- surface and wear ------------------------------------------------------------------------------

def test_plays_wear_the_treble_and_raise_the_noise():
    """After 1, 10 and 30 plays of X-ray film: the 5 kHz level falls and the noise floor rises."""
    hp = signal.butter(4, 200, "highpass", fs=FS, output="sos")
    tone, floor = [], []
    for plays in (1, 10, 30):
        g = Gramophone(material="xray", plays=plays, warp_mm=0.0, rumble_db=None, hole_offset_mm=0.0, scratches=0)
        s = signal.sosfilt(hp, g(_tone_path(5000, 0.08, 0.1, 1.0, 1.0)).samples.astype(float))
        tone.append(20 * np.log10(_amplitude(s, 5000, 0.2, 0.9)))
        floor.append(10 * np.log10(np.mean(s[int(1.2 * FS):int(1.9 * FS)] ** 2)))
    assert tone[0] > tone[1] > tone[2]
    assert floor[0] < floor[1] < floor[2]
    assert tone[0] - tone[2] > 15            # measured ~27 dB
    assert floor[2] - floor[0] > 6           # measured ~9 dB


def test_an_ideal_groove_never_wears():
    """The "ideal" material: 100 plays sound like the first."""
    path = _tone_path(3000, 0.08, 0.1, 0.5)
    a = Gramophone(**QUIET)(path).samples
    b = Gramophone(**{**QUIET, "material": "ideal"}, plays=100)(path).samples
    assert np.array_equal(a, b)


def test_a_scratch_ticks_once_a_revolution():
    """One scratch on an unmodulated groove: the loudest ticks come 1/1.3 s apart."""
    path = GroovePath(np.zeros(6 * SPR), np.linspace(0.1, 0.0985, 6 * SPR), SPR, 78, gain_m_s=0.1)
    s = Gramophone(**{**QUIET, "scratches": 1}, seed=4)(path).samples.astype(float)
    hp = signal.butter(2, 1000, "highpass", fs=FS, output="sos")
    env = np.abs(signal.sosfilt(hp, s))
    assert env.max() > 1e-3
    peaks, _ = signal.find_peaks(env, height=0.3 * env.max(), distance=int(0.2 * FS))
    gaps = np.diff(peaks) / FS
    assert len(gaps) >= 3
    assert np.median(gaps) == pytest.approx(60 / 78, rel=0.01)


def test_a_new_bone_record_is_noisier_than_shellac_and_vinyl():
    """Noise floor of unmodulated groove (dB re the cut's 1 kHz level): xray > shellac > vinyl."""
    path = GroovePath(np.zeros(2 * SPR), np.full(2 * SPR, 0.1), SPR, 78, gain_m_s=0.36)
    floors = []
    for name in ("xray", "shellac", "vinyl"):
        s = Gramophone(material=name, warp_mm=0.0, rumble_db=None, hole_offset_mm=0.0, scratches=0)(path).samples
        floors.append(10 * np.log10(np.mean(s[FS // 5:].astype(float) ** 2)))
    assert floors[0] > floors[1] + 5 > floors[2] + 10
    assert -40 < floors[0] < -28                 # "music through sand": ~−35 dB
    assert floors[2] < -60


# -- pickups, levels, seeds ------------------------------------------------------------------------

def test_a_clean_play_gives_back_the_cut_level(tone_record):
    """Smooth groove, fine tip, nothing else: the 1 kHz tone comes back at 0.5 within 0.3 dB,
    like the record's own clean playback."""
    sound = Gramophone(**QUIET, stylus_um=5)(tone_record)
    clean = tone_record.playback()
    ours = _amplitude(sound.samples, 1000, 0.5, 3.5)
    assert 20 * np.log10(ours / 0.5) == pytest.approx(0, abs=0.3)
    assert 20 * np.log10(ours / _amplitude(clean.samples, 1000, 0.5, 3.5)) == pytest.approx(0, abs=0.3)


def test_the_acoustic_horn_has_no_bass_and_no_top():
    """Soundbox and horn: 100 Hz and 8 kHz at least 15 dB below 1 kHz; the electric pickup keeps them."""
    def level(kind, f):
        path = _tone_path(f, 0.1, 0.05, 0.6)
        return _amplitude(Gramophone(**QUIET, pickup=kind, stylus_um=25)(path).samples, f, 0.3, 0.55)
    for f in (100, 8000):
        assert 20 * np.log10(level("acoustic", f) / level("acoustic", 1000)) < -15
    assert 20 * np.log10(level("electric", 8000) / level("electric", 1000)) > -12


def test_the_same_seed_gives_the_same_samples():
    """Two plays with one seed are identical; another seed gives other noise."""
    path = _tone_path(1000, 0.1, 0.1, 0.5)
    a = Gramophone(plays=5, seed=7)(path).samples
    b = Gramophone(plays=5, seed=7)(path).samples
    c = Gramophone(plays=5, seed=8)(path).samples
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_path_read_as_radius_splits_spiral_and_music():
    """GroovePath.from_radius: a one-turn mean takes the spiral out and leaves the modulation."""
    n = 4 * SPR
    spiral = np.linspace(0.1, 0.099, n)
    x = 20e-6 * np.sin(2 * np.pi * 500 * np.arange(n) / GROOVE_RATE)
    path = GroovePath.from_radius(spiral + x, SPR, 78)
    middle = slice(SPR, 3 * SPR)
    assert np.max(np.abs(path.displacement_m[middle] - x[middle])) < 0.01 * 20e-6
    assert path.gain_m_s is None
    assert np.max(np.abs(Gramophone(**QUIET)(path).samples)) == pytest.approx(0.9, abs=1e-6)


@pytest.mark.parametrize("settings, words", [
    ({"stylus_um": 500}, "stylus_um must be between 5 and 150 µm"),
    ({"stylus_um": "diamond"}, "unknown stylus 'diamond'"),
    ({"pickup": "crystal"}, "unknown pickup 'crystal'"),
    ({"plays": -1}, "plays must be a whole number from 0 to 1000"),
    ({"material": "wax"}, "unknown record material 'wax'"),
    ({"hole_offset_mm": 30}, "hole_offset_mm must be between 0 and 20 mm"),
])
def test_bad_settings_get_one_clear_sentence(settings, words):
    with pytest.raises(GrooveError, match=words):
        Gramophone(**settings)


def test_it_plays_records_and_paths_only():
    with pytest.raises(GrooveError, match="plays a Record or a GroovePath, not ndarray"):
        Gramophone()(np.zeros(10))
