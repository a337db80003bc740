"""Rasterise an SVG from a laser-record generator to 8-bit grey at a chosen DPI.

The strokes of the SVG are where the laser engraves the groove; on film an engraved groove shows
lighter than the film round it, so the raster is turned over (strokes light on dark), as the reader
expects of a groove lit from the front. Uses resvg (``resvg-py``, a self-contained wheel).
"""

from __future__ import annotations

import gzip
import io
import math
import re
from pathlib import Path

import numpy as np
from PIL import Image

from izdat.errors import PictureError, first_line

#: Inches per unit of an SVG length (CSS: 96 px to the inch; a bare number is px).
UNITS = {"mm": 1 / 25.4, "cm": 1 / 2.54, "in": 1.0, "pt": 1 / 72, "pc": 1 / 6, "px": 1 / 96, "": 1 / 96}
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_ROOT = re.compile(r"<(?:[\w.-]+:)?svg\b[^>]*>", re.S)
_BOX = re.compile(rf"(?<![\w:.-])viewBox\s*=\s*[\"']\s*{_NUM}[\s,]+{_NUM}[\s,]+({_NUM})[\s,]+({_NUM})")


def rasterise_svg(path: Path, dpi: float, *, max_pixels: int | None) -> np.ndarray:
    """The SVG at ``path`` as uint8 grey at ``dpi`` dots per inch, strokes light on a dark ground."""
    import resvg_py
    size = svg_size_px(path, dpi)
    if size is None:
        raise PictureError(f"{path.name} does not say its size (no width and height in mm, cm, in, pt, pc or px, "
                           f"nor a viewBox): export it with its size, or as a PNG at a known DPI")
    if max_pixels and size[0] * size[1] > max_pixels:
        raise PictureError(f"{path.name} at {dpi:g} DPI would be {size[0]} × {size[1]} pixels, more than the limit "
                           f"of {max_pixels / 1e6:.0f} million; rasterise it at a lower DPI or allow it with --max-pixels")
    try:                       # drawn to the width its size says at this DPI, whatever its units
        png = resvg_py.svg_to_bytes(svg_path=str(path), background="#ffffff", dpi=96.0, width=size[0],
                                    skip_system_fonts=True)
    except Exception as exc:   # resvg raises one kind for every bad SVG
        raise PictureError(f"cannot rasterise {path.name} as an SVG ({first_line(exc)})") from None
    old = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None                     # the limit is ours, checked above
        grey = np.asarray(Image.open(io.BytesIO(bytes(png))).convert("L"))
    finally:
        Image.MAX_IMAGE_PIXELS = old
    return np.subtract(255, grey, dtype=np.uint8)


def svg_size_px(path: Path, dpi: float) -> tuple[int, int] | None:
    """(width, height) in pixels at ``dpi`` from the root element's width and height (mm, cm, in, pt,
    pc or px) or, where they are missing or relative, its viewBox (CSS pixels); None if it says
    neither. Reads the file's head only (gzipped for .svgz)."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                head = f.read(1 << 16)
    except (OSError, EOFError):
        return None
    root = _ROOT.search(head.decode("utf-8", "replace"))
    if not root:
        return None
    box = _BOX.search(root.group(0))
    out = []
    for k, attr in enumerate(("width", "height")):
        m = re.search(rf"(?<![\w:.-]){attr}\s*=\s*[\"']\s*({_NUM})\s*(mm|cm|in|pt|pc|px|)\s*[\"']", root.group(0))
        if m:
            length = float(m.group(1)) * UNITS[m.group(2)]
        elif box:
            length = float(box.group(k + 1)) * UNITS["px"]
        else:
            return None
        if not math.isfinite(length) or length <= 0:
            return None
        out.append(max(1, int(math.ceil(length * dpi - 1e-6))))
    return out[0], out[1]
