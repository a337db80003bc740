"""The makers' files thinned to a tolerance (issue 17, "Makers' files"): the path stays within it,
the groove reads back as the full one does, the text is written in pieces, sizes are known before."""

import json
import math
import sys

import numpy as np
import pytest

from izdat.audio import Audio
from izdat.cli import main
from izdat.errors import GrooveError
from izdat.fabricate import CutPlan, read_gcode_path, read_svg_path, write_dxf, write_gcode, write_svg
from izdat.fabricate import dxf, gcode, plan as plan_module, svg
from izdat.fabricate.decimate import decimate, displacement_of_path, max_deviation_mm
from izdat.fabricate.plan import cutting_time_s, describe, file_sizes
from izdat.lathe import Lathe

RATE = 44100


def music(seconds: float, seed: int = 0) -> Audio:
    """Pink noise and a swelling 220 Hz tone: energy in every third octave, treble falling as in music."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    f = np.fft.rfftfreq(n, 1 / RATE)
    x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / np.sqrt(np.maximum(f, 20)), n)
    t = np.arange(n) / RATE
    x = 0.4 * x / np.abs(x).max() + 0.15 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))
    return Audio(0.8 * x / np.abs(x).max(), RATE)


@pytest.fixture(scope="module")
def record():
    return Lathe(diameter_mm=120, inner_radius_mm=30).cut(music(2.0))


def _band(x, lo=60.0, hi=5000.0):
    spectrum = np.fft.rfft(x)
    f = np.fft.rfftfreq(len(x), 1 / RATE)
    spectrum[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spectrum, len(x))


def snr_db(reference, y):
    """SNR (dB) of ``y`` against ``reference`` over 60–5000 Hz."""
    return 10 * math.log10(np.sum(_band(reference) ** 2) / np.sum(_band(y - reference) ** 2))


def thirds_db(reference, y):
    """Level (dB) of ``y`` over ``reference`` in each third octave from 63 Hz to 5 kHz."""
    p, q = np.abs(np.fft.rfft(reference)) ** 2, np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(reference), 1 / RATE)
    out = []
    for k in range(-12, 8):
        fc = 1000 * 2 ** (k / 3)
        m = (f >= fc * 2 ** (-1 / 6)) & (f < fc * 2 ** (1 / 6))
        out.append(10 * math.log10(q[m].sum() / p[m].sum()))
    return np.array(out)


def test_every_skipped_sample_lies_within_the_tolerance_of_its_chord(record):
    full = CutPlan.of(record, start_angle_deg=30.0, tolerance_um=0)
    assert full.points == full.samples and np.array_equal(full.index, np.arange(full.samples))
    for tol in (0.05, 0.1, 0.5, 2.0):
        thin = CutPlan.of(record, start_angle_deg=30.0, tolerance_um=tol)
        dev = max_deviation_mm(full.x_mm, full.y_mm, thin.index, thin.x_mm, thin.y_mm)
        assert dev <= tol * 1e-3 * (1 + 1e-9)
        assert dev > 0.5 * tol * 1e-3                  # the band is used, not kept far too wide
        assert thin.points < full.points / {0.05: 3, 0.1: 5, 0.5: 12, 2.0: 25}[tol]
        assert np.array_equal(thin.x_mm, full.x_mm[thin.index])   # vertices are samples, unmoved
        # the other way round: every point along a chord lies within the tolerance of the full path
        assert _chords_from_path(full, thin) <= tol * 1e-3 * (1 + 1e-6) + 1e-12


def _chords_from_path(full, thin):
    """The farthest (mm) a point along a chord of ``thin`` lies from the full path's segments it replaces."""
    a, c = thin.index[:-1], thin.index[1:]
    x, y = full.x_mm, full.y_mm
    worst = 0.0
    for s in np.linspace(0.05, 0.95, 7):
        px = thin.x_mm[:-1] + s * np.diff(thin.x_mm)
        py = thin.y_mm[:-1] + s * np.diff(thin.y_mm)
        best = np.full(len(a), np.inf)
        for d in range(int((c - a).max())):
            k = np.minimum(a + d, c - 1)           # segment k..k+1 of the full path, inside the chord's run
            ux, uy = x[k + 1] - x[k], y[k + 1] - y[k]
            t = np.clip(((px - x[k]) * ux + (py - y[k]) * uy) / np.maximum(ux * ux + uy * uy, 1e-30), 0, 1)
            best = np.minimum(best, np.hypot(px - x[k] - t * ux, py - y[k] - t * uy))
        worst = max(worst, float(best.max()))
    return worst


def test_blocks_give_the_same_vertices_as_one_pass(record, monkeypatch):
    whole = CutPlan.of(record, tolerance_um=0.3)
    x, y = whole.x_mm, whole.y_mm
    monkeypatch.setattr(plan_module, "BLOCK", 5000)
    blocks = CutPlan.of(record, tolerance_um=0.3)
    assert np.array_equal(blocks.index, whole.index) and np.array_equal(blocks.x_mm, x) and np.array_equal(blocks.y_mm, y)
    full = CutPlan.of(record, tolerance_um=0)
    keep = decimate(full.x_mm, full.y_mm, 0.3e-3)
    assert np.array_equal(keep, whole.index)


def test_the_written_files_keep_the_path_to_the_tolerance_plus_their_rounding(record, tmp_path):
    full = CutPlan.of(record, start_angle_deg=30.0, tolerance_um=0)
    thin = CutPlan.of(record, start_angle_deg=30.0, tolerance_um=0.1)
    rounding = 0.05e-3 * math.sqrt(2)                 # 0.1 µm coordinates
    xs, ys = read_svg_path(write_svg(thin, tmp_path / "r.svg"))
    xg, yg = read_gcode_path(write_gcode(thin, tmp_path / "r.gcode"))
    for x, y in ((xs, ys), (xg, yg)):
        assert len(x) == thin.points
        assert max_deviation_mm(full.x_mm, full.y_mm, thin.index, x, y) <= 0.1e-3 + rounding


def test_the_thinned_groove_reads_back_as_the_full_one(record, tmp_path):
    """Both SVGs' paths played as grooves (radius at each sample's angle, linear between vertices,
    through the record's own playback): the 0.1 µm default keeps every third octave from 63 Hz to
    5 kHz within 0.5 dB of the full file's, and 0.5 µm would not (it shaves the treble)."""
    ideal = record.playback().samples.astype(float)
    played = {}
    for tol in (0, 0.1, 0.5):
        plan = CutPlan.of(record, start_angle_deg=30.0, tolerance_um=tol)
        x, y = read_svg_path(write_svg(plan, tmp_path / f"r{tol}.svg"))
        played[tol] = record.playback(displacement_of_path(record, x, y, plan.centre_mm, 30.0)).samples.astype(float)
    full, thin, coarse = played[0], played[0.1], played[0.5]
    assert snr_db(ideal, full) > 40                   # the full file: 0.1 µm rounding only
    assert snr_db(ideal, thin) > 35
    assert np.abs(thirds_db(full, thin)).max() < 0.5
    assert np.abs(thirds_db(ideal, thin)).max() < 0.5
    assert np.abs(thirds_db(full, coarse)).max() > 1.5


def test_the_writers_write_in_pieces_of_bounded_size():
    n = 1_500_000
    theta = np.linspace(0, 60 * math.pi, n)
    big = CutPlan(60 + 50 * np.cos(theta), 60 - 50 * np.sin(theta), (60.0, 60.0), 60.0, 3.63, 0.12, 132.0,
                  np.arange(n), n, 0.0)
    for parts in (svg._parts(big, _fmt), gcode._parts(big, _fmt), dxf._parts(big, _fmt)):
        sizes = [len(p) for p in parts]
        assert sum(sizes) > 20e6 and max(sizes) < 4e6


def _fmt(x, y, **kw):
    from izdat.fabricate._text import format_points
    return format_points(x, y, **kw)


@pytest.mark.parametrize("tolerance_um", [0, 0.1])
def test_sizes_known_before_writing_are_the_sizes_written(record, tmp_path, tolerance_um):
    plan = CutPlan.of(record, tolerance_um=tolerance_um)
    sizes = file_sizes(plan, ["svg", "gcode", "dxf", "png"], feed_mm_min=300, depth_mm=0.05)
    assert set(sizes) == {"svg", "gcode", "dxf"}
    assert sizes["svg"] == write_svg(plan, tmp_path / "r.svg").stat().st_size
    assert sizes["gcode"] == write_gcode(plan, tmp_path / "r.gcode", feed_mm_min=300, depth_mm=0.05).stat().st_size
    assert sizes["dxf"] == write_dxf(plan, tmp_path / "r.dxf").stat().st_size


def test_cutting_time_is_the_groove_length_over_the_feed():
    # 26 m of groove (a straight line, to make its length exact) at 600 mm/min: 43 min 20 s
    x = np.linspace(0.0, 26_000.0, 1001)
    plan = CutPlan(x, np.zeros_like(x), (0.0, 0.0), 1.0, 1.0, 0.1, 1.0, np.arange(1001), 1001, 0.0)
    assert cutting_time_s(plan, 600) == pytest.approx(2600.0)
    assert "cutting time 43 min at 600 mm/min" in describe(plan, {"svg": 2_500_000}, 600)
    assert "record.svg 2.5 MB" in describe(plan, {"svg": 2_500_000}, 600)


def test_the_tolerance_is_checked(record):
    for bad in (-0.1, 21, float("nan")):
        with pytest.raises(GrooveError, match="tolerance_um"):
            CutPlan.of(record, tolerance_um=bad)
    with pytest.raises(TypeError):
        CutPlan.of(record, tolerance_um="0.5")


def test_izdat_cut_prints_sizes_and_time_first_and_records_them(tmp_path, izdat):
    import soundfile as sf
    sf.write(tmp_path / "s.wav", music(1.0).samples, RATE)
    code, out, err = izdat("cut", tmp_path / "s.wav", "-o", tmp_path / "bad", "--tolerance-um", "-1",
                           "--format", "svg", "--diameter", "120", "--inner-radius", "30")
    assert code == 2 and "--tolerance-um" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "bad").exists()
    code, out, err = izdat("cut", tmp_path / "s.wav", "-o", tmp_path / "rec", "--format", "svg,gcode,json",
                           "--diameter", "120", "--inner-radius", "30", "--feed", "300")
    assert code == 0, err
    text = " ".join((out + err).split())
    meta = json.loads((tmp_path / "rec" / "record.json").read_text())["fabrication"]
    sizes = meta["file_sizes_bytes"]
    assert sizes == {"record.svg": (tmp_path / "rec" / "record.svg").stat().st_size,
                     "record.gcode": (tmp_path / "rec" / "record.gcode").stat().st_size}
    assert f"record.svg {sizes['record.svg'] / 1e6:.1f} MB" in text
    assert f"cutting time {meta['cutting_time_s'] / 60:.0f} min at 300 mm/min" in text
    assert meta["cutting_time_s"] == pytest.approx(meta["groove_length_mm"] / 300 * 60)
    assert meta["tolerance_um"] == 0.1 and meta["groove_points"] < meta["groove_samples"] / 4
    said = " ".join(err.split())
    assert said.index("groove path:") < said.index("record.svg") < said.index(" programme turns ")  # before the files
