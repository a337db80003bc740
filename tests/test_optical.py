"""The optical needle: cut → render → play round trips and its error sentences."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from izdat.audio import Audio
from izdat.errors import PictureError
from izdat.lathe import Lathe
from izdat.optical import OpticalReader, load_picture, play_picture, read_meta, scan_of
from izdat.optical.metrics import si_snr_db, tone_snr_db
from izdat.outputs import write_record

FS = 44_100


def _tone(seconds=2.0, hz=1000.0):
    t = np.arange(int(seconds * FS)) / FS
    return Audio(np.sin(2 * np.pi * hz * t).astype(np.float32), FS)


@pytest.fixture(scope="module")
def tone_record(tmp_path_factory):
    """A 2 s 1 kHz tone at −6 dB on a 100 mm record, rendered at 1200 DPI with its record.json."""
    record = Lathe(diameter_mm=100, inner_radius_mm=25, level_db=-6).cut(_tone())
    out = tmp_path_factory.mktemp("tone")
    write_record(record, out, formats=("png", "json"), dpi=1200, seed=1)
    return record, out


def test_reading_a_clean_render_with_its_json_gives_the_tone_back(tone_record):
    """Clean 1200 DPI render, record.json beside it: the tone comes back, as long as the cut."""
    record, out = tone_record
    audio, groove = play_picture(out / "record.png")
    ref = record.playback()
    assert len(audio) == len(ref)                       # the cut's duration, to the sample
    assert groove.confidence > 0.99
    # Measured 22–27 dB; the issue asks for 36 dB (see docs/optical.md: not reached yet).
    assert tone_snr_db(audio.samples, FS) > 18
    assert si_snr_db(audio.samples, ref.samples, FS) > 18


def test_the_spiral_is_found_without_the_json_centre(tone_record):
    """Without the centre and start from record.json the reader finds them itself."""
    record, out = tone_record
    meta = read_meta(out / "record.json")
    scan = load_picture(out / "record.png")
    groove = OpticalReader().read(scan, dataclasses.replace(meta, centre_px=None))
    assert abs(groove.centre_px[0] - meta.centre_px[0]) < 1.0
    assert abs(groove.centre_px[1] - meta.centre_px[1]) < 1.0
    assert abs((groove.start_angle_deg - meta.start_angle_deg + 180) % 360 - 180) < 1.0
    assert groove.direction == "counterclockwise"
    audio = groove.playback(eq=meta.eq, gain_m=meta.gain_m)
    assert tone_snr_db(audio.samples, FS) > 15


def test_a_picture_without_a_groove_is_refused_in_one_sentence():
    """Smooth noise (a photo of something else) is no record: one sentence, no audio."""
    rng = np.random.default_rng(0)
    from scipy import ndimage
    img = ndimage.gaussian_filter(rng.random((1500, 1500)), 20)
    img = (255 * (img - img.min()) / np.ptp(img)).astype(np.uint8)
    with pytest.raises(PictureError, match="no readable groove"):
        OpticalReader().read(scan_of(img, 1200))


def test_a_picture_without_dpi_asks_for_it(tmp_path):
    path = tmp_path / "plain.png"
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(path)
    with pytest.raises(PictureError, match="give it with --dpi"):
        OpticalReader().read(load_picture(path))


def test_the_pixel_limit_says_how_to_lift_it(tmp_path):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((300, 300), np.uint8)).save(path)
    with pytest.raises(PictureError, match="--max-pixels"):
        load_picture(path, max_pixels=10_000)
    assert load_picture(path, max_pixels=None).pixels.shape == (300, 300)


def test_16_bit_and_colour_pictures_load_as_8_bit_grey(tmp_path):
    grey = (np.arange(64 * 64).reshape(64, 64) % 256).astype(np.uint8)
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "g16.png")
    Image.fromarray(np.stack([grey] * 3, axis=2)).save(tmp_path / "rgb.png", dpi=(600, 600))
    assert np.array_equal(load_picture(tmp_path / "g16.png").pixels, grey)
    rgb = load_picture(tmp_path / "rgb.png")
    assert rgb.dpi == 600 and np.abs(rgb.pixels.astype(int) - grey).max() <= 1
