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
import numbers
import os
import stat
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from izdat._check import check_int
from izdat.errors import PictureError, first_line

__all__ = ["Scan", "load_picture", "picture_size", "pillow_guard", "MAX_PIXELS", "scan_of", "RowRelease"]

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
    """Read a picture of a record (PNG, TIFF 8/16-bit, JPEG, BMP, WebP or PPM, grey or colour; SVG
    rasterised at ``svg_dpi``) as grey: uint16 for 16-bit grey pictures, else uint8.

    Parameters
    ----------
    path : str or Path
        The picture file.
    dpi : float, optional
        Resolution (dots per inch, 50–20000); default: read from the file's metadata, else unknown.
    max_pixels : int or None
        Refuse pictures with more pixels than this (default :data:`MAX_PIXELS`, a 300 mm record at
        2400 DPI); ``None`` or 0 lifts the limit. Checked on the size in the file's header, before
        anything is decoded; Pillow's own decompression-bomb guard is set to the same limit while
        this picture is decoded (and given back as it was after).
    svg_dpi : float
        Resolution (dots per inch) an SVG is rasterised at when ``dpi`` is not given; default 1200.

    Raises
    ------
    PictureError
        Missing or unreadable file, a picture over the pixel limit or under 16 × 16 pixels, a bad DPI.
    """
    path = Path(path)
    limit = _limit(max_pixels)
    _check_input(path)
    if path.suffix.lower() in (".svg", ".svgz"):
        from izdat.optical._svg import rasterise_svg
        svg_dpi = _check_dpi(dpi if dpi is not None else svg_dpi)
        return Scan(rasterise_svg(path, svg_dpi, max_pixels=limit), svg_dpi, path)
    dpi = _check_dpi(dpi)
    with open(path, "rb") as f, pillow_guard() as guard:      # a file object: Pillow maps no file over our buffer
        im = _open(path, f)
        _check_size(path.name, im.size, limit)
        if dpi is None:
            dpi = _check_dpi(_file_dpi(im), source=path.name)
        guard.set(limit)                                      # Pillow's guard is izdat's limit while decoding
        try:
            pixels = _grey(im)
        except MemoryError:
            w, h = im.size
            raise PictureError(f"not enough memory to decode {path.name} ({w} × {h} pixels)") from None
        except Exception as exc:  # noqa: BLE001 - Pillow's decoders raise many kinds for a damaged file
            raise PictureError(f"cannot decode {path.name} as a picture ({first_line(exc)})") from None
    return Scan(pixels, dpi, path)


def picture_size(path: str | Path, *, max_pixels: int | None = MAX_PIXELS, svg_dpi: float = 1200.0) -> tuple[int, int]:
    """(width, height) in pixels of the picture at ``path``, read from its header (an SVG's at
    ``svg_dpi``) and checked against ``max_pixels`` as :func:`load_picture` does; decodes nothing.

    Raises
    ------
    PictureError
        Missing or unreadable file, not a picture izdat reads, over the pixel limit or under 16 × 16 pixels.
    """
    path = Path(path)
    limit = _limit(max_pixels)
    _check_input(path)
    if path.suffix.lower() in (".svg", ".svgz"):
        from izdat.optical._svg import svg_canvas
        return svg_canvas(path, _check_dpi(svg_dpi), max_pixels=limit)
    with open(path, "rb") as f, pillow_guard():
        size = _open(path, f).size
    _check_size(path.name, size, limit)
    return size


#: Picture formats Pillow may read for izdat (not every format Pillow knows: EPS runs Ghostscript,
#: and exotic decoders are more attack surface than a scan needs).
FORMATS = ("PNG", "TIFF", "JPEG", "BMP", "WEBP", "PPM")
#: The smallest picture izdat reads (pixels each way), as :func:`scan_of` asks.
MIN_SIDE = 16


def _limit(max_pixels) -> int | None:
    if max_pixels is None or (not isinstance(max_pixels, bool) and isinstance(max_pixels, numbers.Integral)
                              and int(max_pixels) == 0):
        return None
    return check_int("max_pixels", max_pixels, 1, 2**62, "pixels (0 or None: no limit)", error=PictureError)


def _check_input(path: Path) -> None:
    """One sentence for an input that is not a readable regular file (a FIFO would block the reader)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise PictureError(f"cannot read {path}: no such file") from None
    except OSError as exc:
        raise PictureError(f"cannot read {path} ({first_line(exc)})") from None
    if stat.S_ISDIR(st.st_mode):
        raise PictureError(f"cannot read {path}: it is a folder, not a picture")
    if not stat.S_ISREG(st.st_mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise PictureError(f"cannot read {path}: it is {kind}, not a picture file")
    if not os.access(path, os.R_OK):
        raise PictureError(f"cannot read {path}: permission denied")


def _open(path: Path, f) -> Image.Image:
    """Pillow's view of the picture's header (nothing decoded), its bomb guard off: the size is
    izdat's to check."""
    try:
        im = Image.open(f, formats=FORMATS)
        im.size                                               # noqa: B018 - a header that parsed gives its size
    except Image.UnidentifiedImageError:
        raise PictureError(f"cannot read {path} as a picture: it is not a PNG, TIFF, JPEG, BMP, WebP, PPM or "
                           f"SVG file") from None
    except MemoryError:
        raise PictureError(f"cannot read {path} as a picture: its header asks for more memory than there is") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's header parsers raise many kinds for a damaged file
        raise PictureError(f"cannot read {path} as a picture ({first_line(exc)})") from None
    return im


def _check_size(name: str, size, limit: int | None) -> None:
    w, h = size
    if limit is not None and w * h > limit:
        raise PictureError(
            f"{name} has {w} × {h} = {w * h / 1e6:.0f} million pixels, more than the limit of "
            f"{limit / 1e6:.0f} million (a 300 mm record at 2400 DPI is 900 million); allow it with --max-pixels "
            f"{w * h} (or max_pixels=None), memory permitting ({w * h / 2**30:.1f} GiB)")
    if min(w, h) < MIN_SIDE:
        raise PictureError(f"{name} is {w} × {h} pixels, too small to hold a record (at least "
                           f"{MIN_SIDE} × {MIN_SIDE} pixels)")


class _Guard:
    """One caller's wish for Pillow's ``Image.MAX_IMAGE_PIXELS`` (None: off)."""

    def __init__(self):
        self.limit = None

    def set(self, limit: int | None) -> None:
        with _GUARD_LOCK:
            self.limit = limit
            _apply_guard()


_GUARD_LOCK = threading.Lock()
_GUARDS: list[_Guard] = []
_SAVED = [None]


def _apply_guard() -> None:
    limits = [g.limit for g in _GUARDS]
    Image.MAX_IMAGE_PIXELS = None if any(v is None for v in limits) else max(limits)


@contextmanager
def pillow_guard(limit: int | None = None):
    """Pillow's decompression-bomb guard (``PIL.Image.MAX_IMAGE_PIXELS``) set to ``limit`` (None:
    off) inside the block, then given back as the caller's process had it.

    Pillow's guard is one module-wide number, so while several threads are inside, it is the loosest
    of their limits (each has checked its own picture against its own limit first) and the
    process's value comes back when the last one leaves. Yields an object whose ``set(limit)``
    changes this block's limit (off to read a header, izdat's limit to decode).
    """
    guard = _Guard()
    guard.limit = limit
    with _GUARD_LOCK:
        if not _GUARDS:
            _SAVED[0] = Image.MAX_IMAGE_PIXELS
        _GUARDS.append(guard)
        _apply_guard()
    try:
        yield guard
    finally:
        with _GUARD_LOCK:
            _GUARDS.remove(guard)
            if _GUARDS:
                _apply_guard()
            else:
                Image.MAX_IMAGE_PIXELS = _SAVED[0]


#: Pillow modes decoded straight into a NumPy buffer, and the buffer's type.
_DIRECT = {"L": np.dtype(np.uint8), "I;16": np.dtype("<u2"), "I;16L": np.dtype("<u2"), "I;16B": np.dtype(">u2")}


def _grey(im: Image.Image) -> np.ndarray:
    """Grey pixels of ``im`` (uint16 for 16-bit grey, else uint8), decoded into one buffer where the
    format allows.

    The decoder is pointed at a NumPy buffer (Pillow's ``map_buffer``); the picture was opened from
    a file object, so Pillow does not swap in a map of the file instead (it did for one-strip
    uncompressed TIFFs: the buffer stayed zeros). Afterwards the buffer is checked to be the image
    Pillow decoded into; where it is not (a TIFF turned by its orientation tag, say), the decoded
    image is copied out band by band.
    """
    w, h = im.size
    if im.format == "JPEG" and im.mode != "L":
        im.draft("L", im.size)          # the JPEG decoder gives luminance directly
    dtype = _DIRECT.get(im.mode)
    tiles = getattr(im, "tile", None) or []
    inside = all(t[1][2] <= w and t[1][3] <= h for t in tiles)      # not so where an orientation tag turns it
    if dtype is not None and tiles and inside:
        buf = np.empty((h, w), dtype)
        core = Image.core.map_buffer(buf, (w, h), "raw", 0, (im.mode, 0, 1))
        im.im = core
        im.load()
        if im.im is core and im.size == (w, h) and _DIRECT.get(im.mode) == dtype:
            if not buf.dtype.isnative:
                buf.byteswap(inplace=True)                  # the other byte order's samples turned round where they lie
                buf = buf.view(buf.dtype.newbyteorder())
            return buf
        del buf, core                   # Pillow decoded elsewhere: copy from its image below
    im.load()
    w, h = im.size
    if im.mode.startswith("I;16") or (im.mode == "I" and im.getextrema()[1] > 255):
        out = np.empty((h, w), np.uint16)
        for y in range(0, h, BAND_ROWS):
            band = np.asarray(im.crop((0, y, w, min(h, y + BAND_ROWS))))
            out[y:y + band.shape[0]] = np.clip(band, 0, 65535)
        return out
    out = np.empty((h, w), np.uint8)
    if im.mode in ("I", "F"):
        top = max(1.0, float(np.asarray(im.getextrema()[1])))
        scale = 255.0 / (65535.0 if top > 255 else 255.0)
        for y in range(0, h, BAND_ROWS):
            band = np.asarray(im.crop((0, y, w, min(h, y + BAND_ROWS))))
            out[y:y + band.shape[0]] = np.clip(band.astype(np.float32) * scale + 0.5, 0, 255).astype(np.uint8)
        return out
    for y in range(0, h, BAND_ROWS):
        band = im.crop((0, y, w, min(h, y + BAND_ROWS)))
        if band.mode in ("RGBA", "LA", "PA") or (band.mode == "P" and "transparency" in band.info):
            band = band.convert("RGBA")
            white = Image.new("RGBA", band.size, (255, 255, 255, 255))
            band = Image.alpha_composite(white, band)
        out[y:y + band.size[1]] = np.asarray(band if band.mode == "L" else band.convert("L"))
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


def _check_dpi(dpi, source: str | None = None):
    """``dpi`` as a float if it is 50–20000 dots per inch; ``source``: the file that says it."""
    if dpi is None:
        return None
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not math.isfinite(dpi) or not 50 <= dpi <= 20_000:
        if source is not None:
            raise PictureError(f"{source} says it is {dpi!r} DPI, outside 50–20000 dots per inch; give its "
                               f"resolution with --dpi")
        raise PictureError(f"dpi must be between 50 and 20000 dots per inch, not {dpi!r}")
    return float(dpi)
