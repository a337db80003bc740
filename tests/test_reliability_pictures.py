"""Issue 15, pictures and ``izdat play``: every TIFF reads as its pixels, the pixel limit is izdat's
(checked on the header before Pillow's guard or resvg), SVG sizes come from a real XML parser, and
``play``/``age`` refuse in one sentence before any work and write all or nothing.

The property suite at the end feeds the loader headers and SVG roots made by hypothesis: each call
returns a picture or raises izdat's own error in one sentence, within a deadline, writing nothing,
and a header that declares 10⁹ pixels is refused with under 32 MiB allocated (tracemalloc).
"""

from __future__ import annotations

import gzip
import io
import itertools
import struct
import sys
import threading
import tracemalloc
import zlib

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from izdat.cli import main
from izdat.errors import IzdatError, OutputError, PictureError
from izdat.optical import load_picture
from izdat.optical._load import MAX_PIXELS, picture_size, pillow_guard
from izdat.optical._svg import MAX_DEPTH, svg_size_px

PROPS = settings(max_examples=40, deadline=4000, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# --- a small TIFF writer (the variants Pillow cannot write: tiles, big-endian 8-bit, LZW by hand) ---

def _lzw(data: bytes) -> bytes:
    """TIFF LZW: codes MSB first, 9 to 12 bits wide (widened as libtiff's reader expects), a Clear at 4094."""
    out, acc, nacc, width = bytearray(), 0, 0, 9

    def emit(code):
        nonlocal acc, nacc
        acc, nacc = (acc << width) | code, nacc + width
        while nacc >= 8:
            nacc -= 8
            out.append((acc >> nacc) & 0xFF)
        acc &= (1 << nacc) - 1

    table, free, w = {bytes([i]): i for i in range(256)}, 258, b""
    emit(256)
    for byte in data:
        wc = w + bytes([byte])
        if wc in table:
            w = wc
            continue
        emit(table[w])
        table[wc], free = free, free + 1
        if free == 4094:
            emit(256)
            table, free, width = {bytes([i]): i for i in range(256)}, 258, 9
        elif free == 1 << width:
            width += 1
        w = bytes([byte])
    if w:
        emit(table[w])
        free += 1
        if free == 1 << width and width < 12:
            width += 1
    emit(257)
    if nacc:
        out.append((acc << (8 - nacc)) & 0xFF)
    return bytes(out)


def _packbits(data: bytes) -> bytes:
    out, i, n = bytearray(), 0, len(data)
    while i < n:
        j = i + 1
        while j < n and j - i < 128 and data[j] == data[i]:
            j += 1
        if j - i >= 2:
            out += bytes([257 - (j - i), data[i]])
            i = j
            continue
        j = i + 1
        while j < n and j - i < 128 and not (j + 1 < n and data[j] == data[j + 1]):
            j += 1
        out += bytes([j - i - 1]) + data[i:j]
        i = j
    return bytes(out)


COMPRESSION = {"none": 1, "lzw": 5, "adobe_deflate": 8, "packbits": 32773}


def tiff_bytes(pixels, *, order="<", compression="none", tile=None, rows_per_strip=None, dpi=600,
               width_tag=None, height_tag=None, bits_tag=None) -> bytes:
    """A grey TIFF of ``pixels`` (uint8/uint16): byte order '<' (II) or '>' (MM), tiles (w, h) or strips."""
    a = np.asarray(pixels)
    h, w = a.shape
    code = COMPRESSION[compression]
    a = a.astype(a.dtype.newbyteorder(order))

    def pack(block):
        raw = block.tobytes()
        if code == 5:
            return _lzw(raw)
        if code == 8:
            return zlib.compress(raw)
        if code == 32773:
            row = block.shape[1] * a.dtype.itemsize
            return b"".join(_packbits(raw[k:k + row]) for k in range(0, len(raw), row))
        return raw

    if tile:
        tw, th = tile
        blocks = []
        for y, x in itertools.product(range(0, h, th), range(0, w, tw)):
            b = np.zeros((th, tw), a.dtype)
            part = a[y:y + th, x:x + tw]
            b[:part.shape[0], :part.shape[1]] = part
            blocks.append(pack(b))
    else:
        rps = rows_per_strip or h
        blocks = [pack(np.ascontiguousarray(a[y:y + rps])) for y in range(0, h, rps)]
    body, offsets = bytearray(), []
    for b in blocks:
        offsets.append(8 + len(body))
        body += b + b"\0" * (len(b) % 2)
    tags = {256: (4, [width_tag or w]), 257: (4, [height_tag or h]), 258: (3, [bits_tag or a.dtype.itemsize * 8]),
            259: (3, [code]), 262: (3, [1]), 277: (3, [1]), 282: (5, [dpi, 1]), 283: (5, [dpi, 1]),
            284: (3, [1]), 296: (3, [2])}
    counts = [len(b) for b in blocks]
    tags.update({322: (3, [tile[0]]), 323: (3, [tile[1]]), 324: (4, offsets), 325: (4, counts)} if tile else
                {273: (4, offsets), 278: (4, [rows_per_strip or h]), 279: (4, counts)})
    ifd_at = 8 + len(body)
    extra_at = ifd_at + 2 + 12 * len(tags) + 4
    ifd, extra = bytearray(struct.pack(order + "H", len(tags))), bytearray()
    for tag in sorted(tags):
        kind, values = tags[tag]
        data = struct.pack(order + {3: "H", 4: "I", 5: "I"}[kind] * len(values), *values)
        field = data.ljust(4, b"\0") if len(data) <= 4 else struct.pack(order + "I", extra_at + len(extra))
        if len(data) > 4:
            extra += data
        ifd += struct.pack(order + "HHI", tag, kind, len(values) // 2 if kind == 5 else len(values)) + field
    ifd += struct.pack(order + "I", 0)
    return (b"II" if order == "<" else b"MM") + struct.pack(order + "HI", 42, ifd_at) + bytes(body + ifd + extra)


def _record_like(bits: int) -> np.ndarray:
    """300 × 257 px (odd width: rows not a multiple of anything): rings, flat runs and noise."""
    rng = np.random.default_rng(bits)
    y, x = np.mgrid[:300, :257]
    rings = (np.sin(np.hypot(x - 128, y - 150) * 1.3) * 0.5 + 0.5)
    a8 = (rings * 200).astype(np.uint8)
    a8[:40] = 17                                            # a long run (PackBits, LZW)
    a8[200:] = rng.integers(0, 256, (100, 257), dtype=np.uint8)
    if bits == 8:
        return a8
    return (a8.astype(np.uint16) * 256 + rng.integers(0, 256, a8.shape)).astype(np.uint16)


@pytest.fixture(scope="module")
def pngs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("png")
    out = {}
    for bits in (8, 16):
        Image.fromarray(_record_like(bits)).save(folder / f"record{bits}.png", dpi=(600, 600))
        out[bits] = load_picture(folder / f"record{bits}.png").pixels
        assert np.array_equal(out[bits], _record_like(bits))
    return out


# --- item 1: every TIFF variant reads pixel-identical to the PNG ----------------------------------

@pytest.mark.parametrize("layout", ["one strip", "strips of 7 rows", "tiles 64 × 32"])
@pytest.mark.parametrize("compression", list(COMPRESSION))
@pytest.mark.parametrize("order", ["<", ">"], ids=["little-endian", "big-endian"])
@pytest.mark.parametrize("bits", [8, 16])
def test_every_tiff_variant_reads_as_the_png(tmp_path, pngs, bits, order, compression, layout):
    """Issue 15 item 1: a one-strip uncompressed TIFF (what Pillow and flatbed scanners write) read
    as zeros; now every variant gives the PNG's pixels, dtype and DPI."""
    kw = {"one strip": {}, "strips of 7 rows": {"rows_per_strip": 7}, "tiles 64 × 32": {"tile": (64, 32)}}[layout]
    path = tmp_path / "r.tif"
    path.write_bytes(tiff_bytes(_record_like(bits), order=order, compression=compression, **kw))
    scan = load_picture(path)
    assert scan.pixels.dtype == pngs[bits].dtype and scan.pixels.dtype.isnative
    assert np.array_equal(scan.pixels, pngs[bits])
    assert scan.dpi == 600


@pytest.mark.parametrize("mode, kw", [("L", {}), ("L", {"compression": "tiff_lzw"}),
                                      ("L", {"compression": "tiff_adobe_deflate"}), ("L", {"compression": "packbits"}),
                                      ("I;16", {}), ("I;16B", {}), ("I;16", {"compression": "tiff_lzw"})])
def test_tiffs_saved_by_pillow_read_as_the_png(tmp_path, pngs, mode, kw):
    """The issue's own recipe: ``Image.open('record.png').save('r.tif')`` (and its compressed kin)."""
    bits = 8 if mode == "L" else 16
    a = pngs[bits]
    im = Image.fromarray(a) if mode != "I;16B" else Image.frombytes("I;16B", a.shape[::-1], a.astype(">u2").tobytes())
    im.save(tmp_path / "r.tif", dpi=(600, 600), **kw)
    assert np.array_equal(load_picture(tmp_path / "r.tif").pixels, a)


def test_a_tiff_turned_by_its_orientation_tag_reads_as_pillow_turns_it(tmp_path, pngs):
    """Pillow turns a TIFF by its orientation tag after decoding (into another image): the loader
    copies the turned pixels instead of returning its own, unturned buffer."""
    exif = Image.Exif()
    exif[0x0112] = 6                                         # rotate 90° clockwise to view
    Image.fromarray(pngs[8]).save(tmp_path / "o.tif", exif=exif)
    got = load_picture(tmp_path / "o.tif").pixels
    assert got.shape == (257, 300) and np.array_equal(got, np.rot90(pngs[8], -1))


# --- item 12: izdat's pixel limit comes before Pillow's bomb guard, which is given back -----------

def _png_header(w: int, h: int, bits: int = 8, colour: int = 0) -> bytes:
    """A PNG that declares w × h pixels and holds one empty IDAT: the header alone, a few dozen bytes."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def test_a_550_million_pixel_scan_is_izdats_to_refuse_not_pillows(tmp_path):
    """A 250 mm record at 2400 DPI (23,622² ≈ 558 Mpx) is over Pillow's own default guard (179 Mpx
    raises) but under izdat's documented 900 Mpx: the header is read with Pillow's guard off and the
    size is checked by izdat; under a limit of 100 Mpx the sentence is izdat's."""
    path = tmp_path / "big.png"
    path.write_bytes(_png_header(23_622, 23_622))
    assert picture_size(path) == (23_622, 23_622)          # Pillow's guard would have raised here
    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(PictureError, match=r"^big.png has 23622 × 23622 = 558 million pixels, more than the limit "
                                           r"of 100 million .*--max-pixels 557998884"):
        load_picture(path, max_pixels=100_000_000)
    assert Image.MAX_IMAGE_PIXELS == before                 # given back as it was


def test_pillows_guard_is_set_to_izdats_limit_while_decoding_and_restored(tmp_path, monkeypatch, pngs):
    """While the picture is decoded Pillow's guard is izdat's limit; afterwards it is the user's own
    value again, also when the decode fails."""
    seen = []
    from izdat.optical import _load
    real = _load._grey

    def spy(im):
        seen.append(Image.MAX_IMAGE_PIXELS)
        return real(im)

    monkeypatch.setattr(_load, "_grey", spy)
    Image.fromarray(pngs[8]).save(tmp_path / "p.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 12345)
    load_picture(tmp_path / "p.png", max_pixels=5_000_000)
    load_picture(tmp_path / "p.png", max_pixels=None)
    assert seen == [5_000_000, None] and Image.MAX_IMAGE_PIXELS == 12345
    (tmp_path / "cut.png").write_bytes((tmp_path / "p.png").read_bytes()[:400])
    with pytest.raises(PictureError, match=r"^cannot decode cut.png as a picture \("):
        load_picture(tmp_path / "cut.png")
    assert Image.MAX_IMAGE_PIXELS == 12345


def test_the_guard_is_given_back_when_threads_overlap():
    """Pillow's guard is one number for the process: overlapping loads in threads leave it as it was."""
    before = Image.MAX_IMAGE_PIXELS
    start, stop = threading.Barrier(8), threading.Event()

    def work(k):
        start.wait()
        for i in range(200):
            with pillow_guard(1000 + k) as g:
                g.set(None if i % 3 == 0 else 2000 + k)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    assert Image.MAX_IMAGE_PIXELS == before


def test_a_declared_billion_pixel_header_is_refused_before_allocating(tmp_path):
    """Memory bound: a 40-byte PNG (or TIFF) that declares 31,623² ≈ 10⁹ pixels is refused by the
    header check with under 32 MiB allocated (tracemalloc), under the default limit."""
    png, tif = tmp_path / "g.png", tmp_path / "g.tif"
    png.write_bytes(_png_header(31_623, 31_623))
    tif.write_bytes(tiff_bytes(np.zeros((16, 16), np.uint8), width_tag=31_623, height_tag=31_623))
    for path in (png, tif):
        tracemalloc.start()
        try:
            with pytest.raises(PictureError, match="million pixels, more than the limit of 900 million"):
                load_picture(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 32 << 20, (path.name, peak)


# --- inputs that are not pictures, tiny pictures ---------------------------------------------------

@pytest.mark.parametrize("size", [(1, 1), (100_000, 1), (1, 100_000), (15, 300)])
def test_a_picture_too_small_to_hold_a_record_is_one_sentence(izdat, tmp_path, size):
    """``izdat play 1x1.png`` and a 100000 × 1 picture gave an IndexError: now exit 2 and one sentence."""
    Image.new("L", size, 128).save(tmp_path / "p.png", dpi=(1200, 1200))
    code, out, err = izdat("play", tmp_path / "p.png", "-o", tmp_path / "x.wav")
    assert code == 2 and err.startswith("izdat: p.png is") and "too small to hold a record" in err
    assert err.count("\n") == 1 and not (tmp_path / "x.wav").exists()


def test_a_folder_or_a_fifo_as_the_picture_says_what_it_is(tmp_path):
    (tmp_path / "d.png").mkdir()
    with pytest.raises(PictureError, match="it is a folder, not a picture"):
        load_picture(tmp_path / "d.png")
    if hasattr(__import__("os"), "mkfifo"):
        __import__("os").mkfifo(tmp_path / "f.png")
        with pytest.raises(PictureError, match=r"it is a named pipe \(FIFO\), not a picture file"):
            load_picture(tmp_path / "f.png")        # and does not block reading it
    with pytest.raises(PictureError, match="no such file"):
        load_picture(tmp_path / "none.png")


def test_formats_izdat_does_not_read_are_not_given_to_pillow(tmp_path):
    """An EPS would run Ghostscript through Pillow: only PNG, TIFF, JPEG, BMP, WebP, PPM reach Pillow."""
    (tmp_path / "x.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n")
    with pytest.raises(PictureError, match="it is not a PNG, TIFF, JPEG, BMP, WebP, PPM or SVG file"):
        load_picture(tmp_path / "x.png")


def test_a_dpi_the_file_gives_outside_the_range_names_the_file(tmp_path):
    Image.new("L", (32, 32)).save(tmp_path / "p.png", dpi=(30000, 30000))
    with pytest.raises(PictureError, match=r"^p.png says it is 30000.0 DPI, outside 50–20000"):
        load_picture(tmp_path / "p.png")
    assert load_picture(tmp_path / "p.png", dpi=1200).dpi == 1200


# --- item 11: the SVG size comes from the root's own attributes -----------------------------------

SVG = "<svg xmlns='http://www.w3.org/2000/svg' {}><rect width='10' height='10'/></svg>"


def test_the_issues_svg_can_no_longer_pass_the_pixel_limit(tmp_path):
    """Issue 15 item 11: width=/height= inside a style attribute fooled the regular expression (10 ×
    10 mm checked, 10 × 3000 mm drawn: 67 Mpx under a 1 Mpx limit)."""
    path = tmp_path / "sly.svg"
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg" style="a;width=\'10mm\';height=\'10mm\'" width="10mm" '
                    'height="3000mm" viewBox="0 0 10 3000"><rect width="10" height="3000"/></svg>')
    assert svg_size_px(path, 1200) == (473, 141733)
    with pytest.raises(PictureError, match=r"at 1200 DPI would be 473 × 141733 pixels, more than the limit of 1 "):
        load_picture(path, max_pixels=1_000_000)
    gz = tmp_path / "sly.svgz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(PictureError, match=r"would be 473 × 141733 pixels"):
        load_picture(gz, max_pixels=1_000_000)


@pytest.mark.parametrize("attrs, size", [
    ("width='1in' height='0.5in'", (600, 300)),
    ("height='0.5in' width='1in' data-width='9in'", (600, 300)),          # another attribute's name
    ("xlink:width='9in' xmlns:xlink='http://www.w3.org/1999/xlink' width='25.4mm' height='12.7mm'", (600, 300)),
    ("width='50%' height='100%' viewBox='0 0 192 48'", (600, 300)),     # a share of the viewBox
    ("width='2em' viewBox='0,0,96,48'", (600, 300)),                      # relative: the viewBox
    ("width='96' height='48px'", (600, 300)),
])
def test_svg_sizes_are_read_from_the_root_attributes(tmp_path, attrs, size):
    (tmp_path / "a.svg").write_text(SVG.format(attrs))
    assert svg_size_px(tmp_path / "a.svg", 600) == size
    h, w = load_picture(tmp_path / "a.svg", dpi=600).pixels.shape
    if "xlink:width" in attrs:      # resvg takes xlink:width for width (600 × 34 drawn): within the box all the same
        assert w <= size[0] and h <= size[1]
    else:
        assert (w, h) == size


@pytest.mark.parametrize("text, match", [
    ("<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
     "<svg xmlns='http://www.w3.org/2000/svg' width='1in' height='1in'><text>&b;</text></svg>", "declares XML entities"),
    ("<!DOCTYPE svg [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><svg xmlns='http://www.w3.org/2000/svg' "
     "width='1in' height='1in'><text>&x;</text></svg>", "declares XML entities"),
    ("<svg xmlns='http://www.w3.org/2000/svg' width='&w;' height='1in'/>", "undefined entity"),
    ("<svg xmlns='http://www.w3.org/2000/svg' width='1in' width='900in' height='1in'/>", "duplicate attribute"),
    ("<html width='1in' height='1in'/>", "root element is <html>"),
    ("<svg xmlns='http://www.w3.org/2000/svg' width='1in' height='1in'>" + "<g>" * (MAX_DEPTH + 1) + "</g>" *
     (MAX_DEPTH + 1) + "</svg>", f"nests its elements more than {MAX_DEPTH} deep"),
    ("<svg xmlns='http://www.w3.org/2000/svg' width='-1in' height='1in'/>", "does not say its size"),
    ("<svg xmlns='http://www.w3.org/2000/svg' width='1e999in' height='1in'/>", "more than the limit"),
    ("", "no root element|no element found"),
])
def test_hostile_svgs_are_one_sentence(tmp_path, text, match):
    """Entities (billion laughs, an external file), undefined entities, duplicate attributes, nesting
    past resvg's stack (it segfaulted at 300 groups), absurd sizes: refused before resvg runs."""
    (tmp_path / "h.svg").write_text(text)
    with pytest.raises(PictureError, match=match) as caught:
        load_picture(tmp_path / "h.svg", dpi=600)
    assert "\n" not in str(caught.value)


def test_an_svgz_that_unpacks_past_the_cap_is_refused(tmp_path, monkeypatch):
    from izdat.optical import _svg
    monkeypatch.setattr(_svg, "MAX_SVG_BYTES", 1 << 20)
    body = SVG.format("width='1in' height='1in'").replace("</svg>", "<!--" + "x" * (2 << 20) + "--></svg>")
    (tmp_path / "bomb.svgz").write_bytes(gzip.compress(body.encode()))
    with pytest.raises(PictureError, match="more than 1 MiB of SVG text once unpacked"):
        load_picture(tmp_path / "bomb.svgz", dpi=600)


# --- play and age: checked before the work, all or nothing ----------------------------------------

@pytest.fixture(scope="module")
def record(tmp_path_factory):
    """A one-second 440 Hz record cut and pictured at 600 DPI (small, and plays in seconds)."""
    from izdat.lathe import Lathe
    from izdat.audio import Audio
    from izdat.outputs import write_record
    folder = tmp_path_factory.mktemp("rec")
    t = np.arange(44_100) / 44_100
    record = Lathe(diameter_mm=100, inner_radius_mm=25, level_db=-6).cut(Audio(0.4 * np.sin(2 * np.pi * 440 * t),
                                                                               44_100.0))
    write_record(record, folder, formats=("png", "json"), dpi=600, seed=1)
    return folder / "record.png"


@pytest.mark.parametrize("out", ["x.xyz", "x.png", "x"])
def test_play_refuses_an_output_it_cannot_write_before_reading(izdat, tmp_path, out, monkeypatch):
    """``-o x.xyz`` gave a KeyError after the whole read; now refused before the picture is opened."""
    from izdat.cli import play
    monkeypatch.setattr(play, "load_picture", lambda *a, **k: pytest.fail("the picture was read"))
    Image.new("L", (64, 64)).save(tmp_path / "p.png")
    code, _, err = izdat("play", tmp_path / "p.png", "-o", tmp_path / out)
    assert code == 2 and err.startswith("izdat: -o must end in .wav, .flac or .aiff") and err.count("\n") == 1


def test_play_refuses_a_report_it_cannot_write_or_the_picture_itself(izdat, tmp_path, monkeypatch):
    from izdat.cli import play
    monkeypatch.setattr(play, "load_picture", lambda *a, **k: pytest.fail("the picture was read"))
    pic = tmp_path / "p.png"
    Image.new("L", (64, 64)).save(pic)
    before = pic.read_bytes()
    (tmp_path / "taken.png").mkdir()
    (tmp_path / "file").write_text("x")
    for report, match in [(pic, "is the picture being read"), (tmp_path / "taken.png", "directory|folder"),
                          (tmp_path / "file" / "r.png", "cannot|not a folder|file"),
                          (tmp_path / "x.wav", "--report must end in .png"),
                          (tmp_path / "same.png", "same file")]:
        out = tmp_path / ("same.png" if report.name == "same.png" else "x.wav")
        code, _, err = izdat("play", pic, "-o", out.with_suffix(".wav") if out.suffix != ".wav" else out,
                             "--report", report) if report.name != "same.png" else \
            izdat("play", pic, "-o", tmp_path / "s.wav", "--report", tmp_path / "s.wav")
        assert code == 2 and err.startswith("izdat:") and err.count("\n") == 1, (report, err)
        assert not list(tmp_path.glob("*.wav"))
    assert pic.read_bytes() == before


def test_play_writes_the_audio_and_the_report_together_or_neither(izdat, record, tmp_path, monkeypatch):
    """A report that cannot be written (the disk full as the report is saved) leaves no played WAV
    and no temporary file; a report that can is written with its WAV."""
    import errno
    out, rep = tmp_path / "o" / "x.wav", tmp_path / "o" / "r.png"
    real_save = Image.Image.save

    def full(self, fp, *a, **k):
        if str(fp).endswith(".png"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, fp, *a, **k)

    monkeypatch.setattr(Image.Image, "save", full)
    code, _, err = izdat("play", record, "-o", out, "--report", rep)
    last = err.strip().splitlines()[-1]
    assert code == 2 and last.startswith("izdat: cannot write") and last.endswith("No space left on device")
    assert not out.exists() and not rep.exists() and not [p for p in tmp_path.rglob("*") if p.is_file()]
    monkeypatch.setattr(Image.Image, "save", real_save)
    code, _, err = izdat("play", record, "-o", out, "--report", rep)
    assert code == 0, err
    assert soundfile.info(out).frames > 40_000 and Image.open(rep).format == "PNG"
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.png", "x.wav"]


def test_age_refuses_a_bad_output_before_reading_and_never_its_input(izdat, tmp_path, monkeypatch):
    from izdat.cli import play
    Image.new("L", (64, 64)).save(tmp_path / "p.png", dpi=(600, 600))
    before = (tmp_path / "p.png").read_bytes()
    monkeypatch.setattr(play, "load_picture", lambda *a, **k: pytest.fail("the picture was read"))
    for out, match in [("a.xyz", "-o must end in .png, .tif, .tiff, .jpg or .jpeg"),
                       ("p.png", "is the picture being read")]:
        code, _, err = izdat("age", tmp_path / "p.png", "-o", tmp_path / out)
        assert code == 2 and match in err and err.count("\n") == 1, err
    assert (tmp_path / "p.png").read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]


def test_age_checks_its_settings():
    from izdat.age import Ageing, age
    for kw in [{"blur_px": float("nan")}, {"jpeg_quality": 0}, {"dust": -1}, {"light": 2.0}]:
        with pytest.raises(PictureError, match=f"^{next(iter(kw))} must be"):
            Ageing(**kw)
    with pytest.raises(PictureError, match="^dpi must be between 50 and 20000"):
        age(np.zeros((32, 32), np.uint8), dpi=float("inf"))


def test_the_png_writer_refuses_in_one_sentence(tmp_path):
    from izdat.png import write_grey_png
    for pixels, dpi, match in [(np.zeros((4, 4), np.float32), 300, "uint8 or uint16"),
                               (np.zeros((4, 4), np.uint8), float("nan"), "^dpi must be"),
                               (np.zeros((0, 4), np.uint8), 300, "non-empty 2-D")]:
        with pytest.raises(PictureError, match=match):
            write_grey_png(tmp_path / "p.png", pixels, dpi=dpi)
    assert not list(tmp_path.iterdir())


# --- keep them out: properties over picture headers and SVG roots ---------------------------------

def _one_sentence(exc: BaseException) -> None:
    assert isinstance(exc, IzdatError), f"{type(exc).__name__}: {exc}"
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text


def _only(folder, names):
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


def _header_png(draw):
    w = draw(st.sampled_from([0, 1, 15, 16, 17, 255, 2**16, 31_623, 2**31 - 1, 2**32 - 1]))
    h = draw(st.sampled_from([0, 1, 16, 300, 2**16, 31_623, 2**31 - 1]))
    bits, colour = draw(st.sampled_from([(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2), (16, 2), (8, 3), (8, 4),
                                         (8, 6), (16, 6), (3, 0), (8, 7), (32, 0)]))
    return _png_header(w, h, bits, colour)


@st.composite
def picture_bytes(draw):
    kind = draw(st.sampled_from(["png header", "real", "tiff header", "random", "truncated"]))
    if kind == "png header":
        return "h.png", _header_png(draw)
    if kind == "tiff header":
        w = draw(st.sampled_from([1, 16, 40, 2**16, 31_623, 2**32 - 1]))
        h = draw(st.sampled_from([1, 16, 40, 31_623, 2**32 - 1]))
        bits = draw(st.sampled_from([None, 1, 4, 8, 12, 16, 32]))
        return "h.tif", tiff_bytes(np.zeros((16, 16), np.uint8), width_tag=w, height_tag=h, bits_tag=bits,
                                   order=draw(st.sampled_from("<>")))
    w, h = draw(st.integers(1, 70)), draw(st.integers(1, 70))
    mode = draw(st.sampled_from(["L", "RGB", "RGBA", "LA", "P", "1", "I;16", "I", "F"]))
    fmt = draw(st.sampled_from(["PNG", "TIFF", "JPEG", "BMP"]))
    im = Image.new(mode, (w, h))
    buf = io.BytesIO()
    try:
        im.save(buf, format=fmt)
    except (OSError, ValueError, KeyError):
        im.convert("L").save(buf, format=fmt)
    data = buf.getvalue()
    if kind == "truncated":
        data = data[:draw(st.integers(0, len(data)))]
    elif kind == "random":
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        data = bytes(data)
    return f"r.{fmt.lower()}", data


@PROPS
@given(picture_bytes(), st.sampled_from([None, 10_000, MAX_PIXELS]))
def test_any_picture_header_gives_a_picture_or_one_sentence(tmp_path_factory, item, limit):
    """PNG/TIFF/JPEG/BMP of odd sizes, modes and bit depths, declared sizes up to 2³²−1 a side,
    truncated or with bytes changed: a grey picture of the declared size, or izdat's sentence; never
    more than 64 MiB allocated (tracemalloc: what Python's allocator and NumPy hand out)."""
    folder = tmp_path_factory.mktemp("p")
    name, data = item
    (folder / name).write_bytes(data)
    tracemalloc.start()
    try:
        scan = load_picture(folder / name, max_pixels=limit if limit else MAX_PIXELS, dpi=600)
    except Exception as exc:  # noqa: BLE001 - the property: izdat's own error, one sentence
        _one_sentence(exc)
    else:
        assert scan.pixels.ndim == 2 and scan.pixels.dtype in (np.uint8, np.uint16) and min(scan.pixels.shape) >= 16
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 64 << 20
    _only(folder, [name])


@st.composite
def svg_roots(draw):
    length = st.one_of(
        st.builds(lambda n, u: f"{n}{u}", st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=True),
                                                     st.sampled_from(["1e308", "1e-300", ".5", "+3", "0"])),
                  st.sampled_from(["", "mm", "cm", "in", "pt", "pc", "px", "%", "em", "IN", " mm", "kg"])),
        st.text(alphabet="0123456789.e-+ ,;:'\"wh=", max_size=12))
    attrs = {}
    for name in draw(st.lists(st.sampled_from(["width", "height", "viewBox", "style", "data-width"]), max_size=5,
                              unique=True)):
        if name == "viewBox":
            attrs[name] = " ".join(draw(st.lists(st.sampled_from(["0", "-1", "10", "3000", "1e9", "x", ","]),
                                                 min_size=0, max_size=5)))
        elif name in ("style", "data-width"):
            attrs[name] = f"width:{draw(length)};height={draw(length)}"
        else:
            attrs[name] = draw(length)
    quote = lambda v: '"' + v.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;") + '"'  # noqa: E731
    root = " ".join(f"{k}={quote(v)}" for k, v in attrs.items())
    depth = draw(st.sampled_from([0, 1, 5, MAX_DEPTH - 1, MAX_DEPTH + 5, 2000]))
    prolog = draw(st.sampled_from([
        "", "<?xml version='1.0' encoding='UTF-8'?>",
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
        "<!DOCTYPE svg [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>]>",
        "<!DOCTYPE svg [<!ENTITY ext SYSTEM 'file:///dev/zero'>]>", "<!DOCTYPE svg SYSTEM 'file:///dev/zero'>",
        "<!-- " + "a" * 70_000 + " -->"]))
    body = "<g>" * depth + "<rect width='4' height='4'/>" + "</g>" * depth
    if "ENTITY" in prolog:
        body += "<text>&" + ("lol2" if "lol" in prolog else "ext") + ";</text>"
    text = f"{prolog}<svg xmlns='http://www.w3.org/2000/svg' {root}>{body}</svg>"
    cut = draw(st.sampled_from([None, None, None, 10, len(text) // 2]))
    return text if cut is None else text[:cut]


@PROPS
@given(svg_roots(), st.booleans(), st.sampled_from([10_000, 1_000_000]))
def test_any_svg_root_gives_a_picture_within_the_limit_or_one_sentence(tmp_path_factory, text, gz, limit):
    """SVG roots with any attributes, units and nesting, entities (billion laughs, external ones, a
    DTD pointing at /dev/zero), cut short, gzipped or not: a picture no larger than the limit, or
    izdat's sentence; nothing is written beside it."""
    folder = tmp_path_factory.mktemp("s")
    path = folder / ("a.svgz" if gz else "a.svg")
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    try:
        scan = load_picture(path, dpi=300, max_pixels=limit)
    except Exception as exc:  # noqa: BLE001 - the property: izdat's own error, one sentence
        _one_sentence(exc)
    else:
        assert scan.pixels.size <= limit and scan.pixels.dtype == np.uint8
    _only(folder, [path.name])


@pytest.mark.parametrize("kw", [{}, {"compression": "tiff_lzw"}])
def test_the_issues_tiff_of_record_png_plays_as_the_png_itself(izdat, record, tmp_path, kw):
    """The issue's whole recipe: ``Image.open('record.png').save('r.tif')``; ``izdat play r.tif --meta
    record.json``. Its pixels are record.png's, so it plays to the same samples (it was read as zeros;
    then, named other than record.png, its groove was searched for afresh and a 1 s side's spiral
    was found three turns apart)."""
    with Image.open(record) as im:
        im.save(tmp_path / "r.tif", **kw)          # no DPI in the file: record.json gives it
    meta = record.parent / "record.json"
    assert izdat("play", record, "-o", tmp_path / "png.wav")[0] == 0
    code, out, err = izdat("play", tmp_path / "r.tif", "-o", tmp_path / "tif.wav", "--meta", meta)
    assert code == 0, err
    png, tif = soundfile.read(tmp_path / "png.wav")[0], soundfile.read(tmp_path / "tif.wav")[0]
    assert np.array_equal(png, tif)


def test_a_photo_of_the_record_the_same_size_is_not_read_at_record_json_s_centre(record, tmp_path):
    """izdat age keeps the picture's size but turns and shifts it: record.json's centre is tried
    there and let go (the groove is not where it says), so the reader finds the spiral itself."""
    from izdat.age import PRESETS, age
    from izdat.optical._read import OpticalReader, read_meta
    scan = load_picture(record)
    aged = age(scan.pixels, dpi=scan.dpi, ageing=PRESETS["scanned"], seed=3)
    Image.fromarray(aged).save(tmp_path / "photo.png", dpi=(scan.dpi, scan.dpi))
    meta = read_meta(record.parent / "record.json")
    photo = load_picture(tmp_path / "photo.png")
    assert photo.pixels.shape == scan.pixels.shape
    reader = OpticalReader(rpm=meta.rpm)
    tried = []
    real = OpticalReader._read_known
    reader._read_known = lambda *a: tried.append(1) or real(reader, *a)
    reader._read_found = lambda *a: "found"
    assert reader.read(photo, meta) == "found" and tried == [1]
