"""The treble kept (issue 14, item 3): the smooth and the fine fit of the same pixels blended by the
data's own Wiener gain (izdat.optical._wiener), checked first on signals whose answer is known, then
on records read back from their pictures against the ideal groove."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from izdat.audio import Audio
from izdat.lathe import Lathe
from izdat.optical import _wiener, play_picture
from izdat.optical.metrics import linear_fit, tone_snr_db, worst_response_db
from izdat.outputs import write_record

FS = 44_100


def _band_db(x, lo, hi):
    f, p = signal.welch(x, FS, nperseg=4096)
    return 10 * np.log10(p[(f >= lo) & (f <= hi)].sum())


def _known(seconds=6.0, seed=0):
    """A groove of low notes with a held 3 kHz tone and 2–4 kHz bursts; its smooth fit (cut at 1 kHz,
    a whisper of noise) and its fine fit (flat, white noise 30 dB under the signal)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    low = np.sin(2 * np.pi * 220 * t) + 0.5 * np.sin(2 * np.pi * 330 * t)
    held = 0.1 * np.sin(2 * np.pi * 3000 * t)
    bursts = signal.sosfilt(signal.butter(4, (2000, 4000), "bandpass", fs=FS, output="sos"), rng.standard_normal(len(t)))
    bursts *= (np.sin(2 * np.pi * 0.5 * t) > 0.6) * 0.3 / bursts.std()
    truth = low + held + bursts
    smooth = signal.sosfiltfilt(signal.butter(6, 1000, fs=FS, output="sos"), truth) + 1e-4 * rng.standard_normal(len(t))
    fine = truth + truth.std() * 10 ** (-30 / 20) * rng.standard_normal(len(t))
    return truth, smooth.astype(np.float32), fine.astype(np.float32)


def test_the_blend_keeps_treble_that_is_there_and_drops_noise_that_is_not():
    truth, smooth, fine = _known()
    out = _wiener.blend(smooth.copy(), fine - smooth, 0.5)
    # the held 3 kHz tone and the bursts come back at their level (the smooth fit alone: −40 dB and less)
    assert abs(_band_db(out, 2950, 3050) - _band_db(truth, 2950, 3050)) < 0.5
    assert abs(_band_db(out, 2000, 2900) - _band_db(truth, 2000, 2900)) < 1.0
    assert _band_db(smooth, 2950, 3050) - _band_db(truth, 2950, 3050) < -30
    # above 6 kHz the fine fit holds only its noise: most of it goes
    assert _band_db(out, 6000, 20000) < _band_db(fine, 6000, 20000) - 10
    err = out - truth
    assert 10 * np.log10((truth ** 2).mean() / (err ** 2).mean()) > 30      # fine alone: 30 dB


def test_denoise_0_is_the_fine_fit_and_more_denoise_removes_more():
    truth, smooth, fine = _known(seconds=4.0, seed=1)
    assert np.allclose(_wiener.blend(smooth.copy(), fine - smooth, 0.0), fine, rtol=0, atol=1e-6)
    hiss = [_band_db(_wiener.blend(smooth.copy(), (fine - smooth).astype(np.float16), d), 6000, 20000) for d in (0.0, 0.25, 0.5, 1.0)]
    assert hiss[0] > hiss[1] > hiss[2] > hiss[3]


def test_a_held_3_khz_tone_comes_back_from_the_picture_at_its_level(tmp_path):
    """Its treble is not noise: the blend keeps it (measured −0.9 dB re the ideal groove, 34.5 dB SNR;
    the smooth fit alone, the reader before the blend: −34 dB, 2 dB SNR)."""
    t = np.arange(2 * FS) / FS
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-12).cut(Audio(np.sin(2 * np.pi * 3000 * t).astype(np.float32), FS))
    write_record(record, tmp_path, formats=("png", "json"), dpi=1200, seed=1)
    audio, _ = play_picture(tmp_path / "record.png")
    ref = record.playback().samples
    assert abs(_band_db(audio.samples, 2950, 3050) - _band_db(ref, 2950, 3050)) < 2.0
    assert tone_snr_db(audio.samples, FS, 3000.0) > 30


@pytest.fixture(scope="module")
def bright(tmp_path_factory):
    """3 s of plucked notes with eleven partials (to 9.7 kHz) on a 120 mm record at 1200 DPI."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.optical_response import bright_melody
    record = Lathe(diameter_mm=120, inner_radius_mm=30).cut(Audio(bright_melody(3.0), FS))
    out = tmp_path_factory.mktemp("bright")
    write_record(record, out, formats=("png", "json"), dpi=1200, seed=1)
    return record, out


def test_a_bright_melody_reads_back_flat_to_4_khz(bright):
    """The issue: within ±3 dB of the ideal groove from 250 Hz to 4 kHz, and a noise-and-distortion SNR
    of at least 14 dB over 60–5000 Hz, so that neither a muffled nor a noisy read can pass."""
    record, out = bright
    audio, _ = play_picture(out / "record.png")
    ref = record.playback().samples
    assert worst_response_db(audio.samples, ref, FS) < 3.0
    assert linear_fit(audio.samples, ref, FS).snr_db > 14.0
    with pytest.MonkeyPatch.context() as mp:                  # the smooth fit alone fails the first
        mp.setattr(_wiener, "blend", lambda smooth, diff, denoise, **kw: smooth)
        muffled, _ = play_picture(out / "record.png")
    assert worst_response_db(muffled.samples, ref, FS) > 3.0


def test_the_blur_along_the_groove_is_divided_out():
    """A picture blurred by σ = 1 px low-passes the groove along its length: at r = 4000 px and 33,923
    samples a turn (0.74 px a sample) a 6 kHz displacement comes back exp(−2π²σ²f²) = −2.5 dB low;
    told the blur, the blend lifts it back (within 0.3 dB), and leaves 500 Hz alone."""
    N, r, sigma = 33_923, 4000.0, 1.0
    pps = 2 * np.pi * r / N
    t = np.arange(3 * FS) / FS
    tones = {f: 0.05 * np.sin(2 * np.pi * f * t) for f in (500.0, 6000.0)}
    seen = sum(a * np.exp(-2 * (np.pi * sigma * f / FS / pps) ** 2) for f, a in tones.items())
    smooth = np.full(len(t), r, np.float32)
    out = _wiener.blend(smooth, seen.astype(np.float32), 0.0, blur_px=sigma, samples_per_rev=N) - r
    truth = sum(tones.values())
    for f in tones:
        assert abs(_band_db(out, f - 50, f + 50) - _band_db(truth, f - 50, f + 50)) < 0.3
    assert _band_db(seen, 5950, 6050) - _band_db(truth, 5950, 6050) < -2.0
