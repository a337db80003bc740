"""`izdat cut` from the command line: outputs, and one sentence with exit code 2 for bad input."""

import json
import re
import sys

import numpy as np
import pytest
import soundfile
from PIL import Image

from izdat.cli import main

from conftest import RATE, dicom

SMALL = ["--diameter", "100", "--inner-radius", "25", "--outer-margin", "5", "--dpi", "150"]


@pytest.fixture
def song(tmp_path):
    t = np.arange(3 * RATE) / RATE
    stereo = np.stack([0.4 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], 1)
    path = tmp_path / "song.flac"
    soundfile.write(path, stereo, RATE)
    return path


def test_cut_writes_every_file_with_what_playback_needs(izdat, song, tmp_path):
    code, out, err = izdat("cut", song, "-o", tmp_path / "rec", *SMALL, "--seed", 4, "--rpm", "33⅓")
    assert code == 0, err
    assert "summed to mono" in err
    names = sorted(p.name for p in (tmp_path / "rec").iterdir())
    assert names == ["preview.wav", "record.dxf", "record.gcode", "record.json", "record.png", "record.svg"]
    meta = json.loads((tmp_path / "rec" / "record.json").read_text())
    assert meta["rpm"] == pytest.approx(100 / 3)
    assert meta["picture"]["dpi"] == 150 and len(meta["picture"]["spiral_centre_px"]) == 2
    assert meta["source"]["sample_rate_hz"] == RATE and len(meta["source"]["sha256"]) == 64
    assert meta["equalisation"]["name"] == "blumlein" and meta["pitch"]["law"] == "variable"
    with Image.open(tmp_path / "rec" / "record.png") as im:
        assert im.info["dpi"][0] == pytest.approx(150, abs=0.05)   # PNG stores whole pixels per metre
    preview, rate = soundfile.read(tmp_path / "rec" / "preview.wav")
    assert rate == RATE and len(preview) == pytest.approx(3 * RATE, abs=5)


def test_format_picks_the_files_and_the_same_seed_gives_the_same_bytes(izdat, song, tmp_path):
    for name in ("a", "b"):
        assert izdat("cut", song, "-o", tmp_path / name, *SMALL, "--format", "png,svg")[0] == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["record.png", "record.svg"]
    for f in ("record.png", "record.svg"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def nan_wav(path):
    soundfile.write(path, np.array([0.1, np.nan, 0.2] * 1000), RATE, subtype="FLOAT")


def empty_wav(path):
    soundfile.write(path, np.zeros(0), RATE)


def long_wav(path):
    soundfile.write(path, 0.1 * np.ones(8000 * 200), 8000)


def text_file(path):
    path.write_text("not audio")


@pytest.mark.parametrize("make,words", [(text_file, "cannot read"), (empty_wav, "empty"), (nan_wav, "NaN"),
                                        (long_wav, "holds")])
def test_bad_songs_get_one_sentence_exit_2_and_no_files(izdat, tmp_path, make, words):
    song = tmp_path / "bad.wav"
    make(song)
    code, out, err = izdat("cut", song, "-o", tmp_path / "rec", *SMALL)
    assert code == 2
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) <= 3
    assert not (tmp_path / "rec").exists() or not any((tmp_path / "rec").iterdir())


@pytest.mark.parametrize("args,words", [(["--rpm", "-78"], "rpm"), (["--diameter", "0"], "diameter"),
                                        (["--dpi", "0"], "dpi"), (["--format", "pdf"], "unknown format"),
                                        (["--eq", "edison"], "unknown equalisation"), (["--bits", "12"], "8 or 16"),
                                        (["--lpi", "100", "--pitch-mm", "0.3"], "once")])
def test_absurd_settings_get_one_sentence_and_exit_2(izdat, song, tmp_path, args, words):
    code, _, err = izdat("cut", song, "-o", tmp_path / "rec", *SMALL, *args)
    assert code == 2 and words in err and "Traceback" not in err
    assert not (tmp_path / "rec").exists() or not any((tmp_path / "rec").iterdir())


def test_an_xray_that_is_not_an_image_is_refused(izdat, song, tmp_path):
    fake = tmp_path / "scan.png"
    fake.write_text("hello")
    code, _, err = izdat("cut", song, "-o", tmp_path / "rec", *SMALL, "--xray", fake)
    assert code == 2 and "scan.png" in err
    assert not (tmp_path / "rec").exists()     # refused before any work


def test_a_dicom_with_no_pixels_is_refused(izdat, song, tmp_path):
    code, _, err = izdat("cut", song, "-o", tmp_path / "rec", *SMALL, "--xray", dicom(tmp_path / "empty.dcm"))
    assert code == 2 and "empty.dcm" in err and "Traceback" not in err


def test_an_output_folder_that_cannot_be_written_is_refused(izdat, song, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = izdat("cut", song, "-o", blocker / "rec", *SMALL)
    assert code == 2 and "cannot write" in err


def test_a_dicom_xray_is_cut_into(izdat, song, tmp_path):
    hand = dicom(tmp_path / "hand.dcm", np.add.outer(np.arange(64), np.arange(64)) * 30)
    code, _, err = izdat("cut", song, "-o", tmp_path / "rec", *SMALL, "--xray", hand, "--format", "png,json")
    assert code == 0, err
    assert json.loads((tmp_path / "rec" / "record.json").read_text())["xray"] == {"file": "hand.dcm"}


def test_a_picture_too_coarse_for_its_groove_is_refused_not_played(izdat, song, tmp_path):
    """At 150 DPI a 120 µm groove is 0.7 px across: what the reader would follow is noise, so it
    says so in one sentence, with the DPI that would do, and writes no audio."""
    assert izdat("cut", song, "-o", tmp_path / "rec", *SMALL, "--format", "png,json")[0] == 0
    code, out, err = izdat("play", tmp_path / "rec" / "record.png", "-o", tmp_path / "x.wav")
    assert code == 2 and not (tmp_path / "x.wav").exists()
    assert "the picture is too coarse to read the groove: at 150 DPI its turns are " in err
    assert "its 120 µm 0.7 px across" in err and "Traceback" not in err
    assert re.search(r"scan it at (\d+) DPI or more", err) and int(re.search(r"at (\d+) DPI or more", err)[1]) >= 500


@pytest.mark.parametrize("rate", ["0", "nan", "1e9"])
def test_play_refuses_an_absurd_output_rate_before_reading(izdat, tmp_path, rate):
    code, out, err = izdat("play", tmp_path / "nothing.png", "-o", tmp_path / "x.wav", "--rate", rate)
    assert code == 2 and "--rate must be between 8000 and 384000 Hz" in err and not (tmp_path / "x.wav").exists()
