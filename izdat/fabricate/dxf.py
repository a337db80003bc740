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

from izdat.fabricate._text import format_points, write_parts
from izdat.fabricate.plan import DECIMALS, CutPlan
from izdat.fabricate.svg import MAX_PATH_VERTICES

__all__ = ["write_dxf"]


def write_dxf(plan: CutPlan, path: str | Path) -> Path:
    """Write ``plan`` as a DXF R2010 drawing in millimetres, y up (CAD convention), and return its path.

    Layers: ``GROOVE`` (lightweight polylines of at most 2000 vertices joined end to end, with the
    groove width as constant width), ``OUTLINE`` and ``HOLE`` (circles). Groove coordinates to 0.1 µm, circles to 1 µm.
    The same plan gives the same bytes: the header's dates and GUIDs are ezdxf's fixed ones
    (created 2000-01-01), not the clock's. The polylines are written a few at a time, never held whole.
    """
    return write_parts(path, _parts(plan, format_points))


def _parts(plan: CutPlan, points):
    """The file's text in pieces: bytes, or what ``points(x, y, **layout)`` gives for the groove's vertices."""
    text = _drawing(plan)
    pattern = re.search(rb"  0\nLWPOLYLINE\n  5\n([0-9A-F]+)\n(.*?) 90\n2\n(.*?) 10\n", text, re.S)
    seed_match = re.search(rb"\$HANDSEED\n  5\n([0-9A-F]+)\n", text)
    body_end = text.index(b"  0\n", pattern.end())
    handle = int(seed_match.group(1), 16)
    step = MAX_PATH_VERTICES - 1
    n = plan.points
    starts = range(0, max(1, n - 1), step)
    head = text[:pattern.start()]
    yield head[:seed_match.start(1)] + b"%X" % (handle + len(starts)) + head[seed_match.end(1):]
    for start in starts:
        stop = min(n, start + MAX_PATH_VERTICES)
        yield b"  0\nLWPOLYLINE\n  5\n%X\n%s 90\n%d\n%s" % (handle, pattern.group(2), stop - start, pattern.group(3))
        yield points(plan.x_mm[start:stop], plan.size_mm - plan.y_mm[start:stop], decimals=DECIMALS, before=b" 10\n",
                     between=b"\n 20\n", after=b"\n")
        handle += 1
    yield text[body_end:]


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
