"""A record played without its record.json (issue 14 item 4): the programme found from the groove's
pitch (lead-in, lead-out and locked groove not played), the curve the groove's spectrum points to
said and used, and a mostly-subsonic result warned of.

The picture is izdat's own 1200 DPI render of 2 s of the bundled boogie on a 120 mm record, copied
where no record.json lies beside it; what the reader finds is scored against the cut's own
record.playback() (the programme as cut, record.json's program_start:program_end): where the
output starts and ends against it, by cross-correlation.
"""

from __future__ import annotations

import gzip
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from izdat.audio import Audio
from izdat.lathe import LEAD_IN_TURNS, Lathe
from izdat.optical._combine import _delay
from izdat.optical.metrics import si_snr_db
from izdat.outputs import write_record

FS = 44_100
PEERS = Path(__file__).parent / "data" / "peer-records"


def _music(seconds):
    """The first ``seconds`` of the bundled boogie (examples/make_song.py)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    from make_song import song
    return Audio(song()[: int(seconds * FS)].astype(np.float32), FS)


@pytest.fixture(scope="module")
def bare_record(tmp_path_factory):
    """(record, picture): the 2 s boogie cut blumlein at −6 dB on 120 mm (2.6 programme turns),
    rendered at 1200 DPI, its record.png alone in a folder."""
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(_music(2.0))
    out = tmp_path_factory.mktemp("cut")
    write_record(record, out, formats=("png", "json"), dpi=1200, seed=1)
    bare = tmp_path_factory.mktemp("bare")
    shutil.copy(out / "record.png", bare / "record.png")
    return record, bare / "record.png"


@pytest.fixture(scope="module")
def played(bare_record, tmp_path_factory):
    """``izdat play record.png -o out.wav`` with no record.json: (exit code, stdout, audio)."""
    import subprocess
    record, picture = bare_record
    out = tmp_path_factory.mktemp("played") / "out.wav"
    run = subprocess.run([sys.executable, "-m", "izdat", "play", str(picture), "-o", str(out)],
                         capture_output=True, text=True)
    audio = sf.read(out)[0] if out.exists() else None
    return run.returncode, " ".join((run.stdout + run.stderr).split()), audio


def test_the_programme_is_found_and_only_it_is_played(bare_record, played):
    """The output starts within 46 samples of the programme's start (measured 24: the lead-in is
    not played) and ends within 800 samples of its end (measured 80 short; 1329 before the
    lead-out's step was fitted; the lead-out, 9.3 turns with the locked groove, not played);
    the read is the music (SI-SNR over 60–5000 Hz above 19 dB, measured 21.1; 23.2 with record.json
    beside it. Before the width was fitted it was 14.7: the spiral finder's width, 5 % wide, made
    the calibration find a 0.42 px blur in this clean render)."""
    record, _ = bare_record
    code, text, audio = played
    assert code == 0, text
    ref = record.playback().samples.astype(np.float64)
    n = max(len(ref), len(audio))
    d, corr = _delay(np.r_[audio, np.zeros(n - len(audio))], np.r_[ref, np.zeros(n - len(ref))], 4000)
    start_error = -d                        # samples of the programme's start not played (− : lead-in played)
    end_error = len(audio) - d - len(ref)   # samples played past the programme's end (− : short of it)
    assert abs(start_error) <= 46, start_error
    assert abs(end_error) <= 800, end_error
    assert corr > 0.9
    assert si_snr_db(audio, ref, FS) > 19
    found = re.search(r"not played: ([\d.]+) turns of lead-in before it and ([\d.]+) turns of lead-out", text)
    assert found, text
    assert abs(float(found.group(1)) - LEAD_IN_TURNS) < 0.01
    assert float(found.group(2)) > 5                                   # lead-out and locked groove


@pytest.mark.parametrize("seconds", [1.5, 3.0, 5.0])
@pytest.mark.parametrize("kind", ["tone", "song"])
def test_the_programme_is_found_on_the_lathes_own_groove(kind, seconds):
    """find_programme on the lathe's own radius (lead-in to locked groove, 0.3 µm of read noise
    added), 1.95 to 6.5 programme turns: start within 46 samples (measured 1–29), end within 50 for
    a 1 kHz tone (measured 22–39; 3450 early before the lead-out's step was fitted) and within
    0.06 turn for the boogie, whose last 50 ms fade out (measured 46–1807 samples), pitch within
    15 % of the lathe's 180 µm."""
    from izdat.optical._programme import find_programme
    t = np.arange(int(seconds * FS)) / FS
    x = np.sin(2 * np.pi * 1000 * t) if kind == "tone" else _music(seconds).samples
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(Audio(np.asarray(x, np.float32), FS))
    spr = record.samples_per_rev
    r = record.radius_m[:record.locked_start + spr // 2]
    r = r + np.random.default_rng(0).normal(0.0, 0.3e-6, len(r))
    a, b, pitch = find_programme(r, spr)
    assert abs(a - record.program_start) <= 46, a - record.program_start
    assert abs(b - record.program_end) <= (50 if kind == "tone" else 0.06 * spr), b - record.program_end
    assert abs(pitch * 1e6 / 180 - 1) < 0.15, pitch


def test_the_curve_the_groove_points_to_is_said_and_used(played):
    """izdat's blumlein cut, read without --eq: blumlein (a velocity cut: its displacement falls
    about 16 dB an octave over 250–4000 Hz), said in a sentence with the other choice."""
    code, text, _ = played
    assert code == 0
    assert "no record.json and no --eq: read with eq blumlein" in text
    tilt = float(re.search(r"displacement falls ([\d.]+) dB an octave", text).group(1))
    assert 10 < tilt < 25, tilt
    assert "give --eq none to hear it otherwise" in text
    assert "eq blumlein;" in text                                       # the groove's own line says it too
    assert "warning" not in text                                        # music is not rumble


def test_a_laser_cut_is_read_as_constant_amplitude(tmp_path):
    """sndcut's speech (constant amplitude, -f 0) played from its path without --eq: eq none."""
    svg = tmp_path / "speech45.svg"
    svg.write_bytes(gzip.decompress((PEERS / "speech45.svg.gz").read_bytes()))
    import subprocess
    run = subprocess.run([sys.executable, "-m", "izdat", "play", str(svg), "--rpm", "45", "-o", str(tmp_path / "s.wav")],
                         capture_output=True, text=True)
    text = " ".join((run.stdout + run.stderr).split())
    assert run.returncode == 0, text
    assert "no record.json and no --eq: read with eq none" in text
    tilt = float(re.search(r"displacement falls ([\d.]+) dB an octave", text).group(1))
    assert tilt < 10, tilt                                              # measured 5.9


def test_a_mostly_subsonic_result_is_warned_of(tmp_path, izdat):
    """A record of a 25 Hz hum (izdat's record.svg with its record.json, so no high-pass): the
    output is almost all below 32 Hz, and play says so (and still writes it)."""
    t = np.arange(FS) / FS
    hum = Audio((0.5 * np.sin(2 * np.pi * 25 * t)).astype(np.float32), FS)
    record = Lathe(diameter_mm=120, inner_radius_mm=30, level_db=-6).cut(hum)
    write_record(record, tmp_path, formats=("svg", "json"))
    code, out, err = izdat("play", tmp_path / "record.svg", "-o", tmp_path / "hum.wav")
    text = " ".join((out + err).split())
    assert code == 0, text
    share = re.search(r"warning: (\d+)% of the audio's energy lies below 32 Hz", text)
    assert share and int(share.group(1)) > 90, text
    assert (tmp_path / "hum.wav").exists()
