"""The picture: true size, the groove where the record says, the hole off centre, the same bytes."""

import math

import numpy as np
import pytest

from izdat.errors import GrooveError
from izdat.lathe import Lathe
from izdat.render import render

from conftest import sine


@pytest.fixture(scope="module")
def record():
    return Lathe(diameter_mm=100, inner_radius_mm=25, outer_margin_mm=5).cut(sine(300, 2.0))


def test_picture_is_true_size(record):
    pic = render(record, dpi=300)
    size_mm = pic.pixels.shape[0] / 300 * 25.4
    assert size_mm == pytest.approx(100 + 12, abs=0.2)


def test_groove_is_drawn_where_the_record_says(record):
    """At the angle of a groove sample, the pixel at its radius is lighter than the land between."""
    pic = render(record, dpi=600, seed=2)
    px_per_m = 600 / 0.0254
    cx, cy = pic.centre_px
    start = math.radians(pic.start_angle_deg)
    i = record.program_start + 5 * record.samples_per_rev + 1234
    theta = start + 2 * math.pi * i / record.samples_per_rev
    def value(radius_m):
        x = cx + radius_m * px_per_m * math.cos(theta)
        y = cy - radius_m * px_per_m * math.sin(theta)
        return float(pic.pixels[int(round(y)), int(round(x))])
    on = value(record.radius_m[i])
    between = value((record.radius_m[i] + record.radius_m[i + record.samples_per_rev]) / 2)
    assert on - between > 40


def test_burnt_hole_misses_the_spiral_centre_by_the_offset(record):
    pic = render(record, dpi=300, hole_offset_mm=3.0)
    (cx, cy), (hx, hy) = pic.centre_px, pic.hole_centre_px
    assert math.hypot(hx - cx, hy - cy) / 300 * 25.4 == pytest.approx(3.0, rel=1e-9)
    assert pic.pixels[int(round(hy)), int(round(hx))] > 230   # see-through


def test_same_seed_same_pixels_other_seed_other_pixels(record):
    a, b, c = (render(record, dpi=150, seed=s).pixels for s in (1, 1, 2))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("dpi", [0, -300, 1e6, math.nan])
def test_absurd_dpi_is_refused(record, dpi):
    with pytest.raises(GrooveError, match="dpi"):
        render(record, dpi=dpi)
