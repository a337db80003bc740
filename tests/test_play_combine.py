"""Several scans of one record combined (issue 14 item 5): izdat.optical._combine on signals whose
answer is known, and ``izdat play a.png b.png c.png d.png`` on four aged scans of one record.

The known-answer tests make one signal (white noise low-passed at 5 kHz, 2 s at 44.1 kHz) and copies
of it, each moved by its own fractional delay (a linear phase: exact), scaled by its own gain and
added to its own noise; combine_reads must find every delay, level and noise power, and its
average must be as good as the 1/noise-weighted optimum: with noise powers n_i at matched level the
optimum's SNR is Σ SNR_i (linear), four equal copies 10·log10(4) = 6.0 dB above one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from izdat.errors import PictureError
from izdat.optical._combine import combine_reads

FS = 44_100
N = 2 * FS
#: Samples left off each end of a span before an SNR is measured: the fractional shift of a finite
#: signal rings for a few hundred samples at its ends.
EDGE = 2000


def _song(seed: int, n: int = N + 400) -> np.ndarray:
    """White noise through a 4th-order 5 kHz low-pass, unit RMS (a wide-band 'song')."""
    x = np.random.default_rng(seed).standard_normal(n)
    x = signal.sosfilt(signal.butter(4, 5000, fs=FS, output="sos"), x)
    return x / np.sqrt(np.mean(x ** 2))


def _delayed(x: np.ndarray, d: float) -> np.ndarray:
    """``x`` delayed by ``d`` samples (y[n] = x[n − d]), exactly (a linear phase over the padded length)."""
    size = 1 << int(np.ceil(np.log2(len(x) + 1024)))
    f = np.fft.rfftfreq(size)
    return np.fft.irfft(np.fft.rfft(x, size) * np.exp(-2j * np.pi * f * d), size)[:len(x)]


def _copies(delays, gains, noise_rms, *, seed=0):
    """(copies, clean signal in the first copy's time line and level): copy i is gains[i]·s[n − d_i]
    plus white noise of RMS noise_rms[i], all N samples long, cut 200 samples into the signal."""
    s = _song(seed)
    rng = np.random.default_rng(seed + 100)
    out = []
    for d, g, nr in zip(delays, gains, noise_rms):
        out.append(g * _delayed(s, d)[200:200 + N] + nr * rng.standard_normal(N))
    clean = gains[0] * _delayed(s, delays[0])[200:200 + N]
    return out, clean


def _snr_db(x: np.ndarray, clean: np.ndarray) -> float:
    """SNR (dB) of ``x`` against ``clean`` at their given alignment and level, ends left off."""
    e = x[EDGE:-EDGE] - clean[EDGE:-EDGE]
    return 10 * math.log10(np.mean(clean[EDGE:-EDGE] ** 2) / np.mean(e ** 2))


def _combined_against_clean(c, clean):
    """The combination and the clean first copy over the span the combination covers: the first's
    samples from where every copy has begun (the largest advance among the delays) on."""
    start = int(np.ceil(max(0.0, *(-c.delays_samples))))
    return np.asarray(c.samples, np.float64), clean[start:start + len(c.samples)]


def test_delays_levels_and_noises_of_known_copies_are_found():
    """Four copies, delays 0, +3.3, −7.62, +12.48 samples, gains 0 / −1.9 / +1.9 / −6 dB, noises
    at 8, 12, 5 and 10 dB SNR: each delay within 0.05 sample, each level within 0.2 dB, each noise
    power (at matched level, against the first's) within 1 dB, and the average within 0.5 dB of
    the 1/noise-weighted optimum."""
    delays = [0.0, 3.3, -7.62, 12.48]
    gains = [1.0, 0.8, 1.25, 0.5]
    snrs_db = np.array([8.0, 12.0, 5.0, 10.0])
    noise_rms = [g * 10 ** (-s / 20) for g, s in zip(gains, snrs_db)]
    copies, clean = _copies(delays, gains, noise_rms)
    c = combine_reads(copies, FS)
    assert np.all(np.abs(c.delays_samples - np.array(delays)) < 0.05), c.delays_samples
    levels_db = 20 * np.log10(c.levels)
    true_db = 20 * np.log10(np.array(gains) / gains[0])
    assert np.all(np.abs(levels_db - true_db) < 0.2), levels_db
    # noise power at matched level: (n_i / g_i²) against the first's
    true_noise_db = -(snrs_db - snrs_db[0])
    assert np.all(np.abs(c.noise_db - true_noise_db) < 1.0), c.noise_db
    assert abs(c.weights.sum() - 1) < 1e-9
    assert np.argmax(c.weights) == 1 and np.argmin(c.weights) == 2      # the cleanest counts most
    out, ref = _combined_against_clean(c, clean)
    optimum = 10 * math.log10(np.sum(10 ** (snrs_db / 10)))
    got = _snr_db(out, ref)
    assert abs(got - optimum) < 0.5, (got, optimum)
    assert got > max(snrs_db) + 2.0                                      # better than the best copy


def test_four_equally_noisy_copies_gain_six_db():
    """Four copies at one level and one noise (0 dB SNR each), different fractional delays: the
    average is 10·log10(4) = 6.0 dB above one copy, within 0.5 dB."""
    delays = [0.0, 0.37, -1.81, 5.5]
    copies, clean = _copies(delays, [1.0] * 4, [1.0] * 4, seed=3)
    one = _snr_db(copies[0], clean)
    c = combine_reads(copies, FS)
    out, ref = _combined_against_clean(c, clean)
    gain = _snr_db(out, ref) - one
    assert abs(gain - 6.02) < 0.5, gain
    assert np.all(np.abs(c.weights - 0.25) < 0.03), c.weights


def test_two_copies_are_registered_and_averaged():
    """Two copies (the pairs give no per-read noise: equal weights): delay and level still found,
    the average 3 dB above one within 0.5 dB."""
    copies, clean = _copies([0.0, -2.25], [1.0, 0.7], [0.5, 0.35], seed=5)
    one = _snr_db(copies[0], clean)
    c = combine_reads(copies, FS)
    assert abs(c.delays_samples[1] + 2.25) < 0.05
    assert abs(20 * math.log10(c.levels[1] / 0.7)) < 0.2
    out, ref = _combined_against_clean(c, clean)
    assert abs(_snr_db(out, ref) - one - 3.01) < 0.5


def test_a_different_song_is_refused_in_one_sentence():
    """A scan of another record among them: one sentence naming it, no combination."""
    copies, _ = _copies([0.0, 1.5], [1.0, 1.0], [0.3, 0.3], seed=7)
    other = _song(99)[:N]
    with pytest.raises(PictureError) as caught:
        combine_reads([copies[0], copies[1], other], FS, names=["a.png", "b.png", "c.png"])
    msg = str(caught.value)
    assert msg.startswith("c.png does not hold the record a.png holds")
    assert "\n" not in msg and ". " not in msg and msg.count(";") <= 1


def test_one_read_is_refused():
    with pytest.raises(PictureError, match="two reads or more"):
        combine_reads([_song(1)], FS)


# ------------------------------------------------------------ four aged scans of one record, played

def _music(seconds):
    """The first ``seconds`` of the bundled boogie (examples/make_song.py)."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    from make_song import song
    from izdat.audio import Audio
    return Audio(song()[: int(seconds * FS)].astype(np.float32), FS)


#: How the four scans are aged: tests/test_optical.py::test_a_degraded_picture_loses_no_turn's photo
#: (light, dust, scratches, 1 px blur, 2 grey levels of noise, JPEG 85), each turned by its own angle
#: and moved 10 mm in its own direction (the seed's).
SCANS = [(10 + k, 17.0 + 40.0 * k) for k in range(4)]


@pytest.fixture(scope="module")
def four_scans(tmp_path_factory):
    """(record, [one scan's read, four scans' read], stdout of the four): izdat's 1200 DPI render of
    1.5 s of the boogie on a 120 mm record (1.95 programme turns), aged four ways and saved as PNGs
    in a folder of their own (no record.json: as an archivist's scans), each played alone (the
    first) and all four together by ``izdat play``."""
    import subprocess
    import sys
    import soundfile as sf
    from PIL import Image
    from izdat.age import Ageing, age
    from izdat.lathe import Lathe
    from izdat.optical import load_picture
    from izdat.outputs import write_record
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(_music(1.5))
    cut = tmp_path_factory.mktemp("cut")
    write_record(record, cut, formats=("png",), dpi=1200, seed=1)
    pixels = load_picture(cut / "record.png").pixels
    scans = tmp_path_factory.mktemp("scans")
    names = []
    for seed, turn in SCANS:
        aged = age(pixels, dpi=1200, seed=seed, ageing=Ageing(rotate_deg=turn, shift_mm=10.0, light=0.25, dust=40,
                                                             scratches=3, blur_px=1.0, noise=2.0, jpeg_quality=85))
        names.append(scans / f"scan{seed}.png")
        Image.fromarray(aged).save(names[-1], dpi=(1200, 1200))
    reads, texts = [], []
    for pictures, wav in ((names[:1], "one.wav"), (names, "four.wav")):
        run = subprocess.run([sys.executable, "-m", "izdat", "play", *map(str, pictures), "-o", str(scans / wav)],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        reads.append(sf.read(scans / wav)[0])
        texts.append(" ".join((run.stdout + run.stderr).split()))
    return record, reads, texts[1]


def test_four_aged_scans_are_registered_and_averaged(four_scans):
    """``izdat play scan10.png scan11.png scan12.png scan13.png``: the four reads registered and
    averaged, and the result no worse than one scan (SI-SNR against record.playback(), 60–5000 Hz:
    one 10.98 dB, four 11.22 dB measured; with record.json beside them 11.07 and 11.78). The issue's
    +4 dB is the xfail below."""
    from izdat.optical.metrics import si_snr_db
    record, (one, four), text = four_scans
    ref = record.playback().samples
    assert "4 scans registered on the first and averaged by their noise" in text
    # each scan's 1.95 turns: the turn-to-turn pitch (the lathe's ~180 µm), not "0–0 µm"
    import re
    pitches = [int(p) for p in re.findall(r"turns, pitch (\d+) µm", text)]
    assert len(pitches) == 4 and all(150 < p < 250 for p in pitches), text
    got_one, got_four = si_snr_db(one, ref, FS), si_snr_db(four, ref, FS)
    assert got_one > 9.0, got_one
    assert got_four > got_one, (got_one, got_four)


@pytest.mark.xfail(strict=True, reason="issue 14 item 5's +4 dB is not reached (+0.25 dB): each read is denoised on "
                                       "its own, so the treble above ~1.5 kHz is missing alike from every read; "
                                       "even an ideal Wiener on four independent flat reads would gain only ~3 dB "
                                       "on this music and look (see the docstring)")
def test_four_aged_scans_gain_four_db_on_one(four_scans):
    """The issue's target: four aged scans combined at least 4 dB above one (SI-SNR, 60–5000 Hz).

    Why it fails (measured on these scans, flat reads, --denoise 0): one scan's SNR is 26 / 12 / −3
    / −11 / −13 dB over 60–250 / 250–1k / 1–2k / 2–3k / 3–5 kHz, the boogie's power 59 / 34 / 5 /
    1.2 / 0.3 %. The reader's Wiener leaves the error where the SNR is below 0 dB; four scans
    raise every band by 6 dB at best, which an ideal per-band Wiener turns into 11.6 → 14.6 dB
    (+2.9): SI-SNR here is bound by treble the picture does not hold, not by noise an average
    removes. Read flat, four scans do gain 4.2 dB (grain-free film: 5.1 → 9.3 dB), and the
    known-answer tests above gain 6.0."""
    from izdat.optical.metrics import si_snr_db
    record, (one, four), _ = four_scans
    ref = record.playback().samples
    assert si_snr_db(four, ref, FS) >= si_snr_db(one, ref, FS) + 4.0
