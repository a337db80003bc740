"""SVG, G-code and DXF: they parse, carry the groove in millimetres, and keep its vertices to 0.1 µm."""

import re
import xml.etree.ElementTree as ET

import ezdxf
import numpy as np
import pytest

from izdat.fabricate import CutPlan, read_gcode_path, write_dxf, write_gcode, write_svg
from izdat.fabricate.svg import MAX_PATH_VERTICES
from izdat.lathe import Lathe

from conftest import sine

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def plan():
    record = Lathe(diameter_mm=120, inner_radius_mm=45).cut(sine(440, 1.0))   # a short lead-out: quick to parse
    return CutPlan.of(record, start_angle_deg=30.0)


def svg_paths(path):
    root = ET.parse(path).getroot()
    layers = {g.get("id"): g for g in root.iter(f"{SVG}g")}
    points = []
    for p in layers["groove"].iter(f"{SVG}path"):
        numbers = np.array(re.findall(r"-?\d+\.\d+", p.get("d")), float)
        points.append(numbers.reshape(-1, 2))
    return root, layers, points


def test_svg_is_millimetres_with_short_paths_and_the_stated_length(plan, tmp_path):
    root, layers, paths = svg_paths(write_svg(plan, tmp_path / "r.svg"))
    size = f"{plan.size_mm:.3f}"
    assert root.get("width") == f"{size}mm" and root.get("viewBox") == f"0 0 {size} {size}"
    assert set(layers) >= {"groove", "outline", "hole"}
    assert max(len(p) for p in paths) <= MAX_PATH_VERTICES
    joined = np.concatenate([paths[0]] + [p[1:] for p in paths[1:]])  # consecutive paths share a point
    assert len(joined) == plan.points
    length = np.hypot(*np.diff(joined, axis=0).T).sum()
    rounded = np.round(np.column_stack([plan.x_mm, plan.y_mm]), 4)
    assert length == pytest.approx(np.hypot(*np.diff(rounded, axis=0).T).sum(), rel=1e-9)
    assert length == pytest.approx(plan.length_mm(), rel=1e-4)   # 0.1 µm rounding of the vertices' steps
    assert np.abs(joined[:, 0] - plan.x_mm).max() <= 0.00005 + 1e-9
    outline = layers["outline"].find(f"{SVG}circle")
    assert float(outline.get("r")) == pytest.approx(60.0)
    assert float(layers["hole"].find(f"{SVG}circle").get("r")) == pytest.approx(7.26 / 2, abs=1e-3)


def test_gcode_parses_back_to_the_same_groove_within_5_um(plan, tmp_path):
    path = write_gcode(plan, tmp_path / "r.gcode", feed_mm_min=300, depth_mm=0.05)
    text = path.read_text()
    assert "G21" in text and "G90" in text and "Z-0.050" in text and "F300" in text
    x, y = read_gcode_path(path)
    assert len(x) == plan.points
    assert np.hypot(x - plan.x_mm, y - plan.y_mm).max() < 0.005


def test_dxf_opens_in_ezdxf_with_layers_units_and_the_groove(plan, tmp_path):
    doc = ezdxf.readfile(write_dxf(plan, tmp_path / "r.dxf"))
    assert doc.units == ezdxf.units.MM
    auditor = doc.audit()
    assert not auditor.has_errors
    msp = doc.modelspace()
    polylines = msp.query('LWPOLYLINE[layer=="GROOVE"]')
    assert max(len(p) for p in polylines) <= MAX_PATH_VERTICES
    xy = np.concatenate([np.array(p.get_points("xy"))[(1 if i else 0):] for i, p in enumerate(polylines)])
    assert len(xy) == plan.points
    assert np.abs(xy[:, 0] - plan.x_mm).max() < 0.001
    assert np.abs(xy[:, 1] - (plan.size_mm - plan.y_mm)).max() < 0.001   # DXF is y up
    assert len(msp.query('CIRCLE[layer=="OUTLINE"]')) == 1 and len(msp.query('CIRCLE[layer=="HOLE"]')) == 1


def test_plan_starts_at_the_rim_and_ends_on_the_locked_circle(plan):
    cx, cy = plan.centre_mm
    r = np.hypot(plan.x_mm - cx, plan.y_mm - cy)
    assert r[0] == pytest.approx(60 - 8, abs=1e-6)
    locked = plan.index >= plan.samples - 33923          # the last turn: the locked circle (78 rpm)
    assert locked.sum() > 100 and np.ptp(r[locked]) < 1e-9
    angle = np.degrees(np.arctan2(-(plan.y_mm[0] - cy), plan.x_mm[0] - cx))
    assert angle == pytest.approx(30.0, abs=1e-6)
