"""The fast PNG writer: Pillow reads back the same pixels and DPI."""

import numpy as np
import pytest
from PIL import Image

from izdat.png import write_grey_png


@pytest.mark.parametrize("shape", [(1, 1), (3, 700), (1500, 2900)])
def test_pixels_and_dpi_round_trip_through_pillow(tmp_path, shape):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    pixels[: shape[0] // 2] //= 7                     # some structure, some noise
    path = write_grey_png(tmp_path / "p.png", pixels, dpi=2400)
    with Image.open(path) as im:
        assert im.mode == "L" and im.size == (shape[1], shape[0])
        assert im.info["dpi"][0] == pytest.approx(2400, abs=0.05)
        assert np.array_equal(np.asarray(im), pixels)


def test_a_wrong_shape_is_refused(tmp_path):
    with pytest.raises(ValueError, match="2-D"):
        write_grey_png(tmp_path / "p.png", np.zeros((2, 2, 3), np.uint8), dpi=300)
    assert not list(tmp_path.iterdir())


def test_16_bit_pixels_round_trip_through_pillow(tmp_path):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 65536, (301, 517), dtype=np.uint16)
    path = write_grey_png(tmp_path / "p16.png", pixels, dpi=2400)
    with Image.open(path) as im:
        assert im.mode.startswith("I;16") and im.size == (517, 301)
        assert np.array_equal(np.asarray(im).astype(np.uint16), pixels)
        assert round(im.info["dpi"][0]) == 2400
