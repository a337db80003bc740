"""izdat.age: deterministic degradations."""

import numpy as np
import pytest

from izdat.age import PRESETS, Ageing, age
from izdat.errors import PictureError


def test_ageing_is_deterministic_from_its_seed():
    img = (np.random.default_rng(1).random((300, 300)) * 255).astype(np.uint8)
    a = age(img, dpi=600, ageing=PRESETS["photographed"], seed=4)
    b = age(img, dpi=600, ageing=PRESETS["photographed"], seed=4)
    c = age(img, dpi=600, ageing=PRESETS["photographed"], seed=5)
    assert a.shape == img.shape and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_no_ageing_changes_nothing():
    img = (np.random.default_rng(2).random((100, 120)) * 255).astype(np.uint8)
    assert np.array_equal(age(img, dpi=600, ageing=Ageing()), img)


def test_a_shift_moves_the_picture_by_that_many_millimetres():
    img = np.zeros((401, 401), np.uint8)
    img[195:206, 195:206] = 255
    out = age(img, dpi=254, ageing=Ageing(shift_mm=5.0), seed=0)     # 10 px per mm
    ys, xs = np.nonzero(out > 128)
    assert np.hypot(xs.mean() - 200, ys.mean() - 200) == pytest.approx(50, abs=1.0)


def test_age_refuses_colour_arrays():
    with pytest.raises(PictureError, match="8-bit grey"):
        age(np.zeros((10, 10, 3), np.uint8), dpi=600)


def test_a_16_bit_picture_ages_into_8_bits():
    """A photo or a scanner's JPEG is 8-bit: a 16-bit picture is rounded to it before ageing."""
    from izdat.age import Ageing, age
    fine = np.full((64, 64), 257 * 100 + 200, np.uint16)          # 100.78 on the 8-bit scale
    out = age(fine, dpi=1200, ageing=Ageing(), seed=0)
    assert out.dtype == np.uint8 and np.all(out == 101)
