"""Rasterise an SVG from a laser-record generator to 8-bit grey at a chosen DPI.

The strokes of the SVG are where the laser engraves the groove; on film an engraved groove shows
lighter than the film round it, so the raster is turned over (strokes light on dark), as the reader
expects of a groove lit from the front. Uses resvg (``resvg-py``, a self-contained wheel).

The size is read from the root element's own attributes by an XML parser (the standard library's
expat) that refuses entity declarations and external entities, and the whole document is read
through once before resvg sees it: well-formed, no deeper than :data:`MAX_DEPTH` elements, at most
:data:`MAX_SVG_BYTES` of text (an .svgz's unpacked). resvg is then given the checked canvas as a
box to fit into (width *and* height), so what it draws is never larger than what was checked,
whatever it makes of the attributes itself; it draws in a child process, so a crash of its native
code (it has segfaulted on deep nesting) is one sentence here.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path
from xml.parsers import expat

import numpy as np
from PIL import Image

from izdat.errors import PictureError, first_line

#: Inches per unit of an SVG length (CSS: 96 px to the inch; a bare number is px).
UNITS = {"mm": 1 / 25.4, "cm": 1 / 2.54, "in": 1.0, "pt": 1 / 72, "pc": 1 / 6, "px": 1 / 96, "": 1 / 96}
#: Most text of an SVG (an .svgz's once unpacked) izdat reads: 512 MiB.
MAX_SVG_BYTES = 512 << 20
#: Deepest nesting of elements izdat gives resvg (it crashed at 300 nested groups; drawings nest a few deep).
MAX_DEPTH = 128
#: Bytes of memory per pixel drawn: resvg's RGBA canvas, its PNG, Pillow's RGBA and the grey result.
BYTES_PER_PIXEL = 10

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_LENGTH = re.compile(rf"\s*({_NUM})\s*(mm|cm|in|pt|pc|px|%|)\s*")
_BOX = re.compile(rf"\s*({_NUM})(?:\s*,\s*|\s+)({_NUM})(?:\s*,\s*|\s+)({_NUM})(?:\s*,\s*|\s+)({_NUM})\s*")
_CHUNK = 1 << 16


def rasterise_svg(path: Path, dpi: float, *, max_pixels: int | None) -> np.ndarray:
    """The SVG at ``path`` as uint8 grey at ``dpi`` dots per inch, strokes light on a dark ground.

    Raises :class:`PictureError` for an SVG that says no size, one over ``max_pixels`` (None: no
    limit) or the memory there is, one with entities, deeper than :data:`MAX_DEPTH` or not
    well-formed, and one resvg cannot draw.
    """
    path = Path(path)
    w, h = svg_canvas(path, dpi, max_pixels=max_pixels)
    _scan_whole(path)
    _check_memory(path.name, w, h)
    png = _draw(path, w, h)
    from izdat.optical._load import pillow_guard
    with pillow_guard(max_pixels):                            # resvg's picture fits the box checked above
        try:
            with Image.open(io.BytesIO(png), formats=("PNG",)) as im:
                if max_pixels and im.width * im.height > max_pixels:
                    raise PictureError(f"resvg draws {path.name} at {dpi:g} DPI at {im.width} × {im.height} pixels, "
                                       f"more than the limit of {max_pixels / 1e6:.0f} million; rasterise it at a "
                                       f"lower DPI or allow it with --max-pixels")
                grey = np.asarray(im.convert("L"))
        except PictureError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever resvg's output does to Pillow, one sentence
            raise PictureError(f"cannot rasterise {path.name} as an SVG ({first_line(exc)})") from None
    return np.subtract(255, grey, dtype=np.uint8)


def svg_canvas(path: Path, dpi: float, *, max_pixels: int | None) -> tuple[int, int]:
    """(width, height) in pixels the SVG at ``path`` is drawn at ``dpi``, checked against ``max_pixels``
    (None: no limit); reads the file only up to its root element's start tag."""
    size = svg_size_px(path, dpi, strict=True)
    if size is None:
        raise PictureError(f"{path.name} does not say its size (no width and height in mm, cm, in, pt, pc or px, "
                           f"nor a viewBox): export it with its size, or as a PNG at a known DPI")
    w, h = size
    if max_pixels and w * h > max_pixels:
        raise PictureError(f"{path.name} at {dpi:g} DPI would be {_count(w)} × {_count(h)} pixels, more than the "
                           f"limit of {max_pixels / 1e6:.0f} million; rasterise it at a lower DPI or allow it with "
                           f"--max-pixels")
    return w, h


def svg_size_px(path: Path, dpi: float, *, strict: bool = False) -> tuple[int, int] | None:
    """(width, height) in pixels at ``dpi`` from the root element's width and height (mm, cm, in, pt,
    pc or px; a percentage of the viewBox) or, where they are missing or relative, its viewBox (CSS
    pixels); None if it says neither. Reads the file only up to its root's start tag (gunzipped for
    .svgz). ``strict``: an unreadable or hostile file raises :class:`PictureError` instead of None."""
    try:
        attrs = svg_root(path)
    except PictureError:
        if strict:
            raise
        return None
    box = None
    m = _BOX.fullmatch(attrs.get("viewBox", ""))
    if m:
        bw, bh = float(m.group(3)), float(m.group(4))
        if math.isfinite(bw) and math.isfinite(bh) and bw > 0 and bh > 0:
            box = (bw, bh)
    out = []
    for k, name in enumerate(("width", "height")):
        m = _LENGTH.fullmatch(attrs.get(name, ""))
        if m and m.group(2) != "%":
            inches = float(m.group(1)) * UNITS[m.group(2)]
        elif box:
            share = float(m.group(1)) / 100 if m else 1.0
            inches = share * box[k] * UNITS["px"]
        else:
            return None
        if math.isnan(inches) or inches <= 0:
            return None
        px = inches * dpi
        out.append(max(1, math.ceil(px - 1e-6)) if px < 2.0**62 else 2**62)   # past 2**62: too large, whatever
    return out[0], out[1]


def svg_root(path: Path) -> dict[str, str]:
    """The root ``<svg>`` element's own attributes (no namespace), read by expat up to its start tag;
    a document type with entity declarations or external entities is refused."""
    parser = _parser(path.name)
    root = {}

    def start(name, attrs):
        local = name.rsplit(" ", 1)[-1]
        if local != "svg":
            raise PictureError(f"{path.name} is not an SVG: its root element is <{local}>")
        root.update({k: v for k, v in attrs.items() if " " not in k})
        raise _Done

    parser.StartElementHandler = start
    chunks = _chunks(path, MAX_SVG_BYTES)
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Done:
        return root
    except expat.ExpatError as exc:
        raise PictureError(f"cannot read {path.name} as an SVG ({first_line(exc)})") from None
    finally:
        chunks.close()                                        # the file closed, read no further
    raise PictureError(f"cannot read {path.name} as an SVG: it has no root element")


class _Done(Exception):
    """The root's start tag has been read."""


def _parser(name: str):
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def entity(*_):
        raise PictureError(f"{name} declares XML entities; izdat reads SVGs without them (an entity can "
                           f"expand to gigabytes or read other files)")

    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.ExternalEntityRefHandler = entity
    return parser


def _scan_whole(path: Path) -> None:
    """Read the whole document once: well-formed, no entities, nesting at most :data:`MAX_DEPTH`."""
    parser = _parser(path.name)
    depth = [0]

    def start(name, attrs):
        depth[0] += 1
        if depth[0] > MAX_DEPTH:
            raise PictureError(f"{path.name} nests its elements more than {MAX_DEPTH} deep; izdat does not give "
                               f"resvg so deep a drawing (flatten its groups)")

    def end(name):
        depth[0] -= 1

    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        for chunk in _chunks(path, MAX_SVG_BYTES):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise PictureError(f"cannot rasterise {path.name} as an SVG ({first_line(exc)})") from None


def _chunks(path: Path, cap: int):
    """The file's bytes (gunzipped if it is gzipped) in chunks, refusing more than ``cap`` of them."""
    try:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
            f.seek(0)
            stream = gzip.GzipFile(fileobj=f, mode="rb") if gz else f
            total = 0
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    return
                total += len(chunk)
                if total > cap:
                    raise PictureError(f"{path.name} holds more than {cap >> 20} MiB of SVG text"
                                       f"{' once unpacked' if gz else ''}; izdat reads no larger SVG")
                yield chunk
    except (OSError, EOFError, zlib.error) as exc:
        raise PictureError(f"cannot read {path.name} as an SVG ({first_line(exc)})") from None


def _check_memory(name: str, w: int, h: int) -> None:
    need = w * h * BYTES_PER_PIXEL
    free = _available_memory()
    if free is not None and need > free:
        raise PictureError(f"{name} drawn at {_count(w)} × {_count(h)} pixels needs about {need / 2**30:.1f} GiB "
                           f"of memory and {free / 2**30:.1f} GiB is free; rasterise it at a lower DPI")


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


_DRAW = """
import sys, resvg_py
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[4]), int(sys.argv[4])))
except (ImportError, ValueError, OSError):
    pass
try:
    png = resvg_py.svg_to_bytes(svg_path=sys.argv[1], background="#ffffff", dpi=96.0, width=int(sys.argv[2]),
                                height=int(sys.argv[3]), skip_system_fonts=True)
except Exception as exc:
    sys.stderr.write(str(exc))
    sys.exit(3)
sys.stdout.buffer.write(bytes(png))
"""


def _draw(path: Path, w: int, h: int) -> bytes:
    """resvg's PNG of the SVG fitted into w × h pixels, drawn in a child process (``-I``: nothing from
    the current folder is imported) whose address space is bounded (1 GiB beyond three RGBA canvases
    and 16 bytes per byte of SVG): resvg's fit can overshoot the box by its rounding, or by more where
    it reads a length otherwise than izdat does."""
    try:
        text = path.stat().st_size
    except OSError:
        text = 0
    room = (1 << 30) + 3 * 4 * w * h + 16 * min(text, MAX_SVG_BYTES)   # its address space: a bound on what it can take
    try:
        done = subprocess.run([sys.executable, "-I", "-c", _DRAW, str(path), str(w), str(h), str(room)],
                              stdin=subprocess.DEVNULL, capture_output=True)
    except OSError as exc:
        raise PictureError(f"cannot rasterise {path.name}: resvg did not start ({first_line(exc)})") from None
    if done.returncode == 0:
        return done.stdout
    cause = done.stderr.decode("utf-8", "replace").strip().splitlines()
    if done.returncode == 3 and cause:
        raise PictureError(f"cannot rasterise {path.name} as an SVG ({cause[-1].rstrip('.')})")
    how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
    raise PictureError(f"cannot rasterise {path.name}: resvg failed drawing it ({how}"
                       f"{': ' + cause[-1][:200] if cause else ''})")


def _count(n: int) -> str:
    return f"{n}" if n < 10**12 else f"{n:.3g}"
