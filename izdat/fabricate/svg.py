"""SVG for laser cutters: millimetre units, the groove as engrave paths, outline and hole as cuts."""

from __future__ import annotations

from pathlib import Path

from izdat.fabricate._text import format_points
from izdat.fabricate.plan import CutPlan
from izdat.files import atomic_path

__all__ = ["write_svg", "MAX_PATH_VERTICES"]

#: Most vertices in one path: laser drivers (LightBurn, RDWorks, K40 Whisperer) slow down or fail
#: on paths of tens of thousands of nodes; 2000 keeps every path small.
MAX_PATH_VERTICES = 2000
ENGRAVE, CUT = "#0000ff", "#ff0000"   # the colour-to-layer convention of laser software


def write_svg(plan: CutPlan, path: str | Path, *, title: str = "izdat bone record") -> Path:
    """Write ``plan`` as an SVG file in millimetres (1 user unit = 1 mm) and return its path.

    Layers (Inkscape groups): ``groove`` (engrave, blue, stroke = groove width), ``outline``
    and ``hole`` (cut, red hairlines). Coordinates are rounded to 1 µm.
    """
    s = f"{plan.size_mm:.3f}"
    cx, cy = plan.centre_mm
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
            f'width="{s}mm" height="{s}mm" viewBox="0 0 {s} {s}">\n<title>{title}</title>\n'
            f'<g id="groove" inkscape:groupmode="layer" inkscape:label="groove (engrave)" fill="none" '
            f'stroke="{ENGRAVE}" stroke-width="{plan.groove_width_mm:.3f}" stroke-linecap="round" stroke-linejoin="round">\n')
    groove = format_points(plan.x_mm, plan.y_mm, decimals=3, between=b",", after=b" ", chunk=MAX_PATH_VERTICES,
                           chunk_start=b'<path d="M', chunk_end=b'"/>\n')
    tail = (f'</g>\n<g id="outline" inkscape:groupmode="layer" inkscape:label="outline (cut)" fill="none" '
            f'stroke="{CUT}" stroke-width="0.1">\n'
            f'<circle cx="{cx:.3f}" cy="{cy:.3f}" r="{plan.outline_radius_mm:.3f}"/>\n</g>\n'
            f'<g id="hole" inkscape:groupmode="layer" inkscape:label="spindle hole (cut)" fill="none" '
            f'stroke="{CUT}" stroke-width="0.1">\n'
            f'<circle cx="{cx:.3f}" cy="{cy:.3f}" r="{plan.hole_radius_mm:.3f}"/>\n</g>\n</svg>\n')
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(head.encode())
        f.write(groove)
        f.write(tail.encode())
    return Path(path)
