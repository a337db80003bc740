"""Rasterise an SVG (from a laser-record generator) to 8-bit grey at a chosen DPI.

Uses ``cairosvg`` when it is installed (it is optional: ``pip install cairosvg``); without it an
SVG gets one sentence saying so.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from izdat.errors import PictureError


def rasterise_svg(path: Path, dpi: float, *, max_pixels: int | None) -> np.ndarray:
    try:
        import cairosvg
    except ImportError:
        raise PictureError(f"{path.name} is an SVG and no SVG rasteriser is installed; install cairosvg "
                           f"(pip install cairosvg) or export the SVG as a PNG at a known DPI") from None
    try:
        png = cairosvg.svg2png(url=str(path), dpi=dpi, scale=dpi / 96, background_color="white")
    except Exception as exc:  # cairosvg raises many kinds on bad SVG
        raise PictureError(f"cannot rasterise {path.name} ({type(exc).__name__}: {exc})") from None
    im = Image.open(io.BytesIO(png))
    if max_pixels and im.size[0] * im.size[1] > max_pixels:
        raise PictureError(f"{path.name} at {dpi:g} DPI would be {im.size[0]} × {im.size[1]} pixels, more than the "
                           f"limit; rasterise it at a lower DPI or allow it with --max-pixels")
    return np.asarray(im.convert("L")).copy()
