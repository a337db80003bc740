"""Load a record's picture as grey pixels, with its DPI, within a deliberate pixel limit.

Grey 8- and 16-bit pictures are decoded straight into one NumPy buffer (no second copy), so a 250 mm
record at 2400 DPI (about 24,000 × 24,000 pixels) costs its grey bytes and little more. 16-bit grey
pictures keep their 16 bits (uint16: an archival scan's finer levels place a groove's wall 256
times finer); colour pictures are reduced to 8-bit grey band by band.
"""

from __future__ import annotations

import ctypes
import math
import mmap
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from izdat.errors import PictureError, first_line

__all__ = ["Scan", "load_picture", "MAX_PIXELS", "scan_of", "RowRelease"]

#: Default pixel limit: a 300 mm record at 2400 DPI with a 6 mm margin (29,480 px square) fits; larger
#: pictures are refused unless the caller raises the limit (``max_pixels``, ``--max-pixels``).
MAX_PIXELS = 30_000 * 30_000
#: Rows converted at a time when a 16-bit or colour picture is reduced to 8-bit grey.
BAND_ROWS = 512


@dataclass(frozen=True, eq=False)
class Scan:
    """A picture of a record: grey pixels (uint8 or uint16, rows × columns, pixel centres at integer
    coordinates, x right, y down) and its resolution in dots per inch (``None`` if unknown)."""

    pixels: np.ndarray
    dpi: float | None = None
    path: Path | None = None

    @property
    def px_per_m(self) -> float:
        if self.dpi is None:
            raise PictureError("the picture's resolution is unknown; give it with --dpi")
        return self.dpi / 0.0254

    def __repr__(self):
        h, w = self.pixels.shape
        return f"Scan({w} × {h} px, {self.dpi or '?'} dpi)"


def scan_of(pixels: np.ndarray, dpi: float | None = None) -> Scan:
    """Wrap a grey array (uint8, uint16, or float in 0–1) as a :class:`Scan`."""
    a = np.asarray(pixels)
    if a.ndim != 2 or min(a.shape) < 16:
        raise PictureError(f"a picture must be a 2-D grey array of at least 16 × 16 pixels, not shape {a.shape}")
    if a.dtype not in (np.uint8, np.uint16):
        a = np.clip(np.asarray(a, np.float32) * 255 + 0.5, 0, 255).astype(np.uint8)
    return Scan(a, _check_dpi(dpi), None)


def load_picture(path: str | Path, *, dpi: float | None = None, max_pixels: int | None = MAX_PIXELS,
                 svg_dpi: float = 1200.0) -> Scan:
    """Read a picture of a record (PNG, TIFF 8/16-bit, JPEG, grey or colour; SVG rasterised at
    ``svg_dpi``) as grey: uint16 for 16-bit grey pictures, else uint8.

    Parameters
    ----------
    path : str or Path
        The picture file.
    dpi : float, optional
        Resolution (dots per inch); default: read from the file's metadata, else unknown.
    max_pixels : int or None
        Refuse pictures with more pixels than this (default :data:`MAX_PIXELS`, a 300 mm record at
        2400 DPI); ``None`` or 0 lifts the limit.
    svg_dpi : float
        Resolution (dots per inch) an SVG is rasterised at when ``dpi`` is not given; default 1200.

    Raises
    ------
    PictureError
        Missing or unreadable file, a picture over the pixel limit, a bad DPI.
    """
    path = Path(path)
    if not path.is_file():
        raise PictureError(f"cannot read {path}: no such file")
    if path.suffix.lower() in (".svg", ".svgz"):
        from izdat.optical._svg import rasterise_svg
        svg_dpi = _check_dpi(dpi if dpi is not None else svg_dpi)
        return Scan(rasterise_svg(path, svg_dpi, max_pixels=max_pixels), svg_dpi, path)
    limit = None if not max_pixels else int(max_pixels)
    old = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                im = Image.open(path)
            except (OSError, ValueError, SyntaxError) as exc:
                raise PictureError(f"cannot read {path} as a picture ({first_line(exc)})") from None
            w, h = im.size
            if limit is not None and w * h > limit:
                raise PictureError(
                    f"{path.name} has {w} × {h} = {w * h / 1e6:.0f} million pixels, more than the limit of "
                    f"{limit / 1e6:.0f} million (a 300 mm record at 2400 DPI); allow it with --max-pixels "
                    f"{w * h} (or max_pixels=None), memory permitting ({w * h / 2**30:.1f} GiB)")
            file_dpi = _file_dpi(im)
            try:
                pixels = _grey(im)
            except (OSError, ValueError, SyntaxError) as exc:
                raise PictureError(f"cannot decode {path} ({first_line(exc)})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old
    return Scan(pixels, _check_dpi(dpi if dpi is not None else file_dpi), path)


def _grey(im: Image.Image) -> np.ndarray:
    """Grey pixels of ``im`` (uint16 for 16-bit grey, else uint8), decoded into one buffer where the
    format allows."""
    w, h = im.size
    if im.format == "JPEG" and im.mode != "L":
        im.draft("L", im.size)          # the JPEG decoder gives luminance directly
    if im.mode in ("L", "I;16") and getattr(im, "tile", None) and len(im.tile) >= 1:
        buf = np.empty((h, w), np.uint8 if im.mode == "L" else np.uint16)
        try:
            im.im = Image.core.map_buffer(buf, (w, h), "raw", 0, (im.mode, 0, 1))
            im.load()
            return buf
        except (AttributeError, TypeError, ValueError):
            im = Image.open(im.filename)  # this Pillow will not decode into our buffer: the plain way
    im.load()
    if im.mode.startswith("I;16") or (im.mode == "I" and im.getextrema()[1] > 255):
        out = np.empty((h, w), np.uint16)
        for y in range(0, h, BAND_ROWS):
            band = np.asarray(im.crop((0, y, w, min(h, y + BAND_ROWS))))
            out[y:y + band.shape[0]] = np.clip(band, 0, 65535)
        return out
    out = np.empty((h, w), np.uint8)
    if im.mode in ("I", "F"):
        scale = None
        for y in range(0, h, BAND_ROWS):
            band = np.asarray(im.crop((0, y, w, min(h, y + BAND_ROWS))))
            if scale is None:
                top = max(1.0, float(np.asarray(im.getextrema()[1])))
                scale = 255.0 / (65535.0 if top > 255 else 255.0)
            out[y:y + band.shape[0]] = np.clip(band.astype(np.float32) * scale + 0.5, 0, 255).astype(np.uint8)
        return out
    if im.mode != "L":
        for y in range(0, h, BAND_ROWS):
            band = im.crop((0, y, w, min(h, y + BAND_ROWS)))
            if band.mode in ("RGBA", "LA", "PA") or (band.mode == "P" and "transparency" in band.info):
                band = band.convert("RGBA")
                white = Image.new("RGBA", band.size, (255, 255, 255, 255))
                band = Image.alpha_composite(white, band)
            out[y:y + band.size[1]] = np.asarray(band.convert("L"))
        return out
    out[:] = np.asarray(im)
    return out


class RowRelease:
    """Hands back the memory of a picture's rows the reader has passed, as it moves in.

    Called with a radius ``r`` (px) about ``cy``, it tells the system that the rows farther than ``r``
    from ``cy`` will not be read again (``madvise(MADV_DONTNEED)`` on the whole pages they fill; on
    Linux they then read as zeros). Only for a picture the caller owns and will not look at again:
    the grey buffer is then the largest thing a reader holds, and it shrinks as the groove goes in.
    A no-op elsewhere than Linux or for a buffer that is not one C-contiguous block.
    """

    def __init__(self, pixels: np.ndarray, cy: float):
        self.pixels, self.cy = pixels, float(cy)
        self.top, self.bottom = 0, pixels.shape[0]          # rows [top, bottom) are still held
        self._madvise = _madvise() if pixels.flags.c_contiguous else None

    def __call__(self, r: float) -> None:
        if self._madvise is None or not math.isfinite(r):
            return
        top = max(self.top, min(self.bottom, int(math.floor(self.cy - r))))
        bottom = min(self.bottom, max(top, int(math.ceil(self.cy + r)) + 1))
        row = self.pixels.strides[0]
        base = self.pixels.ctypes.data
        for y0, y1 in ((self.top, top), (bottom, self.bottom)):
            a = -(-(base + y0 * row) // mmap.PAGESIZE) * mmap.PAGESIZE      # whole pages inside the rows
            b = (base + y1 * row) // mmap.PAGESIZE * mmap.PAGESIZE
            if b > a:
                self._madvise(ctypes.c_void_p(a), ctypes.c_size_t(b - a), 4)   # 4: MADV_DONTNEED
        self.top, self.bottom = top, bottom


def _madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None


def _file_dpi(im: Image.Image) -> float | None:
    dpi = im.info.get("dpi")
    if not dpi:
        return None
    try:
        value = float(dpi[0] if isinstance(dpi, tuple) else dpi)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value < 2:      # 1 or 72 with no unit are placeholders, not scans
        return None
    nearest = round(value)
    return float(nearest) if abs(value - nearest) < 1e-4 * value else value   # PNG stores px per metre


def _check_dpi(dpi):
    if dpi is None:
        return None
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not math.isfinite(dpi) or not 50 <= dpi <= 20_000:
        raise PictureError(f"dpi must be between 50 and 20000 dots per inch, not {dpi!r}")
    return float(dpi)
