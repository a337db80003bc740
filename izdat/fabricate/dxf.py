"""DXF for CAD/CAM software: the groove as polylines, outline and hole as circles.

ezdxf builds the drawing (header, layers, circles, one groove polyline as a pattern); the millions
of groove vertices are then written as further LWPOLYLINE entities in that pattern by the compiled
text writer, since ezdxf's tag writer takes minutes for a whole side. Tests read the file back
with ``ezdxf.readfile``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import ezdxf

from izdat.fabricate._text import format_points
from izdat.fabricate.plan import CutPlan
from izdat.fabricate.svg import MAX_PATH_VERTICES
from izdat.files import atomic_path

__all__ = ["write_dxf"]


def write_dxf(plan: CutPlan, path: str | Path) -> Path:
    """Write ``plan`` as a DXF R2010 drawing in millimetres, y up (CAD convention), and return its path.

    Layers: ``GROOVE`` (lightweight polylines of at most 2000 vertices joined end to end, with the
    groove width as constant width), ``OUTLINE`` and ``HOLE`` (circles). Coordinates to 1 µm.
    The same plan gives the same bytes: the header's dates and GUIDs are ezdxf's fixed ones
    (created 2000-01-01), not the clock's.
    """
    text = _drawing(plan)
    x, y = plan.x_mm, plan.size_mm - plan.y_mm
    pattern = re.search(rb"  0\nLWPOLYLINE\n  5\n([0-9A-F]+)\n(.*?) 90\n2\n(.*?) 10\n", text, re.S)
    seed_match = re.search(rb"\$HANDSEED\n  5\n([0-9A-F]+)\n", text)
    body_end = text.index(b"  0\n", pattern.end())
    handle = int(seed_match.group(1), 16)
    step = MAX_PATH_VERTICES - 1
    entities = []
    for start in range(0, max(1, len(x) - 1), step):
        stop = min(len(x), start + MAX_PATH_VERTICES)
        entities.append(b"  0\nLWPOLYLINE\n  5\n%X\n%s 90\n%d\n%s" % (handle, pattern.group(2), stop - start, pattern.group(3)))
        entities.append(format_points(x[start:stop], y[start:stop], decimals=3, before=b" 10\n",
                                      between=b"\n 20\n", after=b"\n"))
        handle += 1
    head = text[:pattern.start()]
    head = head[:seed_match.start(1)] + b"%X" % handle + head[seed_match.end(1):]
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(head)
        for part in entities:
            f.write(part)
        f.write(text[body_end:])
    return Path(path)


def _drawing(plan: CutPlan) -> bytes:
    """The drawing without the groove's vertices, as DXF bytes: header, layers, circles, one pattern polyline.

    ezdxf's fixed metadata are used (no clock time nor random GUIDs), so the same plan gives the
    same bytes, as every izdat output does.
    """
    fixed = ezdxf.options.write_fixed_meta_data_for_testing
    ezdxf.options.write_fixed_meta_data_for_testing = True
    try:
        doc = ezdxf.new("R2010", units=ezdxf.units.MM)
        doc.layers.add("GROOVE", color=5)
        doc.layers.add("OUTLINE", color=1)
        doc.layers.add("HOLE", color=1)
        msp = doc.modelspace()
        centre = (plan.centre_mm[0], plan.size_mm - plan.centre_mm[1])
        msp.add_circle(centre, plan.outline_radius_mm, dxfattribs={"layer": "OUTLINE"})
        msp.add_circle(centre, plan.hole_radius_mm, dxfattribs={"layer": "HOLE"})
        msp.add_lwpolyline([(0.0, 0.0), (1.0, 1.0)], format="xy",
                           dxfattribs={"layer": "GROOVE", "const_width": plan.groove_width_mm})
        stream = io.StringIO()
        doc.write(stream)
    finally:
        ezdxf.options.write_fixed_meta_data_for_testing = fixed
    return stream.getvalue().encode("ascii")
