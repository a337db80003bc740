"""Progress: every stage's callback climbs to 1, and the "writing" bar fills to its total."""

import numpy as np
import pytest

from izdat.audio import Audio
from izdat.lathe import Lathe
from izdat.outputs import write_record
from izdat.png import write_grey_png
from izdat.render import render


@pytest.fixture(scope="module")
def record():
    t = np.arange(int(2.0 * 44_100)) / 44_100
    return Lathe(diameter_mm=100.0, inner_radius_mm=20.0).cut(Audio(0.5 * np.sin(2 * np.pi * 440 * t), 44_100))


def _climbs(seen):
    assert len(seen) >= 3, seen
    assert np.all(np.diff(seen) >= 0), seen
    assert seen[-1] == pytest.approx(1.0)


def test_cut_render_and_png_report_fractions_that_climb_to_one(record, tmp_path):
    t = np.arange(44_100) / 44_100
    seen = []
    Lathe(diameter_mm=100.0, inner_radius_mm=20.0).cut(Audio(0.5 * np.sin(2 * np.pi * 440 * t), 44_100),
                                                        on_progress=seen.append)
    _climbs(seen)
    seen = []
    picture = render(record, dpi=300, on_progress=seen.append)
    _climbs(seen)
    seen = []
    big = np.tile(picture.pixels, (8, 8))               # > 4 MiB, so it is compressed in slices
    write_grey_png(tmp_path / "p.png", big, dpi=300, on_progress=seen.append)
    _climbs(seen)


def test_banded_render_draws_the_same_picture_as_one_band(record, monkeypatch):
    import izdat.render as r
    banded = render(record, dpi=300, seed=3).pixels
    monkeypatch.setattr(r, "PROGRESS_BANDS", 1)
    assert np.array_equal(banded, render(record, dpi=300, seed=3).pixels)


class Bar:
    def __init__(self):
        self.total, self.done, self.steps = None, 0.0, 0

    def add_task(self, description, total=None, **_):
        self.total = total
        return 0

    def advance(self, task, advance=1):
        assert advance > 0
        self.done += advance
        self.steps += 1


def test_writing_bar_fills_to_its_total_in_many_steps(record, tmp_path):
    bar = Bar()
    write_record(record, tmp_path / "out", dpi=300, bar=bar)
    assert bar.done == pytest.approx(bar.total, rel=1e-9)
    assert bar.steps >= 32          # the picture alone moves it once per band of rows
