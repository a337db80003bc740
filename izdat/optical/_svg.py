"""Rasterise an SVG from a laser-record generator to 8-bit grey at a chosen DPI.

The strokes of the SVG are where the laser engraves the groove; on film an engraved groove shows
lighter than the film round it, so the raster is turned over (strokes light on dark), as the reader
expects of a groove lit from the front. Uses resvg (``resvg-py``, a self-contained wheel).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image

from izdat.errors import PictureError


def rasterise_svg(path: Path, dpi: float, *, max_pixels: int | None) -> np.ndarray:
    """The SVG at ``path`` as uint8 grey at ``dpi`` dots per inch, strokes light on a dark ground."""
    import resvg_py
    head = path.read_bytes()[:4096].decode("utf-8", "replace")
    size = _size_px(head, dpi)
    if size is not None and max_pixels and size[0] * size[1] > max_pixels:
        raise PictureError(f"{path.name} at {dpi:g} DPI would be {size[0]} × {size[1]} pixels, more than the limit "
                           f"of {max_pixels / 1e6:.0f} million; rasterise it at a lower DPI or allow it with --max-pixels")
    try:
        png = resvg_py.svg_to_bytes(svg_path=str(path), background="#ffffff", dpi=float(dpi),
                                    skip_system_fonts=True)
    except Exception as exc:  # resvg raises one kind for every bad SVG
        raise PictureError(f"cannot rasterise {path.name} as an SVG ({_first_line(exc)})") from None
    old = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None                     # the limit is ours, checked here
        im = Image.open(io.BytesIO(bytes(png)))
    finally:
        Image.MAX_IMAGE_PIXELS = old
    if max_pixels and im.size[0] * im.size[1] > max_pixels:
        raise PictureError(f"{path.name} at {dpi:g} DPI would be {im.size[0]} × {im.size[1]} pixels, more than the "
                           f"limit of {max_pixels / 1e6:.0f} million; rasterise it at a lower DPI or allow it with --max-pixels")
    grey = np.asarray(im.convert("L"))
    return np.subtract(255, grey, dtype=np.uint8)


def _size_px(head: str, dpi: float):
    """(width, height) in pixels at ``dpi`` from the root element's width and height (mm, cm, in, pt or
    px) or, without them, its viewBox; None if it says neither."""
    import re
    units = {"mm": 1 / 25.4, "cm": 1 / 2.54, "in": 1.0, "pt": 1 / 72, "px": 1 / 96, "": 1 / 96}
    root = re.search(r"<svg\b[^>]*>", head, re.S)
    if not root:
        return None
    out = []
    box = re.search(r'\bviewBox\s*=\s*["\']\s*[-0-9.e]+[\s,]+[-0-9.e]+[\s,]+([0-9.e]+)[\s,]+([0-9.e]+)', root.group(0))
    for k, attr in enumerate(("width", "height")):
        m = re.search(rf'\b{attr}\s*=\s*["\']\s*([0-9.]+)\s*(mm|cm|in|pt|px|)\s*["\']', root.group(0))
        if m:
            out.append(int(math.ceil(float(m.group(1)) * units[m.group(2)] * dpi)))
        elif box:                                   # no size: the viewBox's user units are CSS pixels
            out.append(int(math.ceil(float(box.group(k + 1)) / 96 * dpi)))
        else:
            return None
    return tuple(out)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(".") if text else type(exc).__name__
