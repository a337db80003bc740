"""SVG for laser cutters: millimetre units, the groove as engrave paths, outline and hole as cuts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from izdat.fabricate._text import format_points, write_parts
from izdat.fabricate.plan import DECIMALS, CutPlan

__all__ = ["write_svg", "read_svg_path", "MAX_PATH_VERTICES", "RUNS_PER_WRITE"]

#: Most vertices in one path: laser drivers (LightBurn, RDWorks, K40 Whisperer) slow down or fail
#: on paths of tens of thousands of nodes; 2000 keeps every path small.
MAX_PATH_VERTICES = 2000
#: Paths formatted and written at a time (about 2.5 MB of text): the writer's memory stays this.
RUNS_PER_WRITE = 64
ENGRAVE, CUT = "#0000ff", "#ff0000"   # the colour-to-layer convention of laser software


def write_svg(plan: CutPlan, path: str | Path, *, title: str = "izdat bone record") -> Path:
    """Write ``plan`` as an SVG file in millimetres (1 user unit = 1 mm) and return its path.

    Layers (Inkscape groups): ``groove`` (engrave, blue, stroke = groove width), ``outline``
    and ``hole`` (cut, red hairlines). The groove's coordinates are rounded to 0.1 µm (:data:`~izdat.fabricate.plan.DECIMALS`), the circles' to 1 µm. The text is written a
    few paths at a time, never held whole.
    """
    return write_parts(path, _parts(plan, format_points, title=title))


def _parts(plan: CutPlan, points, *, title: str = "izdat bone record"):
    """The file's text in pieces: bytes, or what ``points(x, y, **layout)`` gives for the groove's vertices."""
    s = f"{plan.size_mm:.3f}"
    cx, cy = plan.centre_mm
    yield (f'<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
           f'width="{s}mm" height="{s}mm" viewBox="0 0 {s} {s}">\n<title>{title}</title>\n'
           f'<g id="groove" inkscape:groupmode="layer" inkscape:label="groove (engrave)" fill="none" '
           f'stroke="{ENGRAVE}" stroke-width="{plan.groove_width_mm:.3f}" stroke-linecap="round" '
           f'stroke-linejoin="round">\n').encode()
    step = (MAX_PATH_VERTICES - 1) * RUNS_PER_WRITE      # consecutive paths share their joining vertex
    n = plan.points
    for start in range(0, max(1, n - 1), step):
        stop = min(n, start + step + 1)
        yield points(plan.x_mm[start:stop], plan.y_mm[start:stop], decimals=DECIMALS, between=b",", after=b" ",
                     chunk=MAX_PATH_VERTICES, chunk_start=b'<path d="M', chunk_end=b'"/>\n')
    yield (f'</g>\n<g id="outline" inkscape:groupmode="layer" inkscape:label="outline (cut)" fill="none" '
           f'stroke="{CUT}" stroke-width="0.1">\n'
           f'<circle cx="{cx:.3f}" cy="{cy:.3f}" r="{plan.outline_radius_mm:.3f}"/>\n</g>\n'
           f'<g id="hole" inkscape:groupmode="layer" inkscape:label="spindle hole (cut)" fill="none" '
           f'stroke="{CUT}" stroke-width="0.1">\n'
           f'<circle cx="{cx:.3f}" cy="{cy:.3f}" r="{plan.hole_radius_mm:.3f}"/>\n</g>\n</svg>\n').encode()


_PATH = re.compile(rb'<path d="M([^"]*)"')


def read_svg_path(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The groove of an SVG written by :func:`write_svg` as arrays of x and y (mm), its paths
    joined (the vertex they share taken once): the groove path back."""
    runs = [np.array(m.replace(b",", b" ").split(), np.float64).reshape(-1, 2)
            for m in _PATH.findall(Path(path).read_bytes())]
    xy = np.concatenate([runs[0]] + [r[1:] for r in runs[1:]])
    return xy[:, 0], xy[:, 1]
