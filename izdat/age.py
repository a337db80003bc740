"""Make a record's picture look scanned or photographed: the degradations an optical reader meets.

:func:`age` applies, in the order a real picture gathers them: a rotation and a shift on the
scanner bed, uneven light, dust specks and scratches on the film, lens/scanner blur, sensor noise,
and JPEG compression. Every step is deterministic from ``seed``. Works in horizontal bands, so a
large picture costs little more than its own bytes plus one output copy.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from izdat._check import check_int, check_number
from izdat.errors import PictureError

__all__ = ["Ageing", "age", "PRESETS"]


@dataclass(frozen=True)
class Ageing:
    """How much a picture is aged.

    Parameters
    ----------
    rotate_deg : float
        Rotation about the image centre (degrees, counter-clockwise).
    shift_mm : float
        How far the record moves off the image centre (mm), in a direction chosen by the seed.
    light : float
        Lighting gradient: the brightest corner is (1 + light) times the darkest (0–1).
    dust : int
        Dust specks (dark, 2–12 px across at 1200 DPI, scaled with DPI).
    scratches : int
        Straight scratches across the grooves (bright, 1–2 px wide).
    blur_px : float
        Gaussian blur (standard deviation, px).
    noise : float
        Sensor noise (standard deviation, grey levels of 255).
    jpeg_quality : int or None
        JPEG quality (1–95) the picture passes through, or None.
    """

    rotate_deg: float = 0.0
    shift_mm: float = 0.0
    light: float = 0.0
    dust: int = 0
    scratches: int = 0
    blur_px: float = 0.0
    noise: float = 0.0
    jpeg_quality: int | None = None

    #: Each setting's range (lo, hi, unit), checked when an Ageing is made.
    LIMITS = {"rotate_deg": (-360.0, 360.0, "degrees"), "shift_mm": (0.0, 1000.0, "mm"), "light": (0.0, 1.0, ""),
              "dust": (0, 100_000, "specks"), "scratches": (0, 10_000, "scratches"), "blur_px": (0.0, 100.0, "px"),
              "noise": (0.0, 255.0, "grey levels"), "jpeg_quality": (1, 95, "")}

    def __post_init__(self):
        for name, (lo, hi, unit) in self.LIMITS.items():
            value = getattr(self, name)
            if name == "jpeg_quality" and value is None:
                continue
            check = check_int if isinstance(lo, int) else check_number
            object.__setattr__(self, name, check(name, value, lo, hi, unit, error=PictureError))


#: Named looks for ``izdat age --look``.
PRESETS = {
    "scanned": Ageing(rotate_deg=7.0, shift_mm=3.0, light=0.08, dust=30, scratches=2, blur_px=0.7, noise=2.0,
                      jpeg_quality=None),
    "photographed": Ageing(rotate_deg=23.0, shift_mm=10.0, light=0.3, dust=60, scratches=3, blur_px=1.5, noise=3.0,
                           jpeg_quality=85),
    "dusty": Ageing(dust=400, scratches=8, noise=1.0),
}


def age(pixels: np.ndarray, *, dpi: float, ageing: Ageing = PRESETS["photographed"], seed: int = 0) -> np.ndarray:
    """An aged copy of ``pixels`` (uint8 or uint16 grey, rows × columns) at ``dpi`` dots per inch;
    8-bit, as a photo or a scanner's JPEG is."""
    if not isinstance(ageing, Ageing):
        raise TypeError(f"ageing must be an Ageing, not {type(ageing).__name__}")
    dpi = check_number("dpi", dpi, 50, 20_000, "dots per inch", error=PictureError)
    seed = check_int("seed", seed, 0, 2**63 - 1, error=PictureError)
    img = np.asarray(pixels)
    if img.ndim == 2 and img.dtype == np.uint16:
        img = (np.right_shift(img, 8) + (np.bitwise_and(img, 255) >= 128)).clip(0, 255).astype(np.uint8)
    if img.ndim != 2 or img.dtype != np.uint8:
        raise PictureError(f"age needs an 8-bit grey picture (rows × columns), not {img.dtype} of shape {img.shape}")
    if min(img.shape) < 1:
        raise PictureError(f"age needs a picture of at least 1 × 1 pixels, not shape {img.shape}")
    rng = np.random.default_rng([seed, 0xA6E])
    px_per_mm = dpi / 25.4
    h, w = img.shape
    out = img
    if ageing.rotate_deg or ageing.shift_mm:
        phi = rng.uniform(0, 2 * math.pi)
        dx = ageing.shift_mm * px_per_mm * math.cos(phi)
        dy = -ageing.shift_mm * px_per_mm * math.sin(phi)
        out = _rotate_shift(out, ageing.rotate_deg, dx, dy)
    else:
        out = out.copy()
    if ageing.light:
        a = rng.uniform(0, 2 * math.pi)
        for y0 in range(0, h, 1024):
            yy = np.arange(y0, min(h, y0 + 1024))[:, None] / max(h, w)
            xx = np.arange(w)[None, :] / max(h, w)
            g = 1 + ageing.light * (0.5 + 0.5 * ((xx - 0.5) * math.cos(a) - (yy - 0.5) * math.sin(a)) * 1.4)
            band = out[y0:y0 + len(yy)].astype(np.float32) * g.astype(np.float32)
            out[y0:y0 + len(yy)] = np.clip(band + 0.5, 0, 255).astype(np.uint8)
    for _ in range(ageing.dust):
        r = rng.uniform(1, 6) * px_per_mm / 47.2
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        _disc(out, x, y, r, rng.uniform(0.15, 0.6))
    for _ in range(ageing.scratches):
        _scratch(out, rng, px_per_mm)
    if ageing.blur_px > 0:
        out = _blur(out, ageing.blur_px)
    if ageing.noise > 0:
        for y0 in range(0, h, 1024):
            band = out[y0:y0 + 1024].astype(np.float32)
            band += rng.normal(0, ageing.noise, band.shape).astype(np.float32)
            out[y0:y0 + 1024] = np.clip(band + 0.5, 0, 255).astype(np.uint8)
    if ageing.jpeg_quality:
        buf = io.BytesIO()
        Image.fromarray(out).save(buf, format="JPEG", quality=int(ageing.jpeg_quality))
        from izdat.optical._load import pillow_guard
        with pillow_guard(None), Image.open(io.BytesIO(buf.getvalue())) as im:   # our own bytes
            out = np.asarray(im.convert("L")).copy()
    return out


def _rotate_shift(img, deg, dx, dy):
    """Rotate about the image centre by ``deg`` (counter-clockwise as seen) and move by (dx, dy) px;
    cubic interpolation, new area filled with the edge's grey (the scanner lid)."""
    h, w = img.shape
    lid = int(np.median(np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])))
    out = np.empty_like(img)
    a = math.radians(deg)
    ca, sa = math.cos(a), math.sin(a)
    cxc, cyc = (w - 1) / 2, (h - 1) / 2
    for y0 in range(0, h, 512):
        yy, xx = np.mgrid[y0:min(h, y0 + 512), 0:w].astype(np.float64)
        u = xx - cxc - dx
        v = yy - cyc - dy
        # a point turned counter-clockwise as seen (y down): source = rotate back
        sx = cxc + ca * u - sa * v
        sy = cyc + sa * u + ca * v
        out[y0:y0 + yy.shape[0]] = ndimage.map_coordinates(img, [sy, sx], order=3, mode="constant",
                                                           cval=lid, prefilter=False)
    return out


def _disc(img, x, y, r, dark):
    h, w = img.shape
    x0, x1 = max(0, int(x - r - 2)), min(w, int(x + r + 3))
    y0, y1 = max(0, int(y - r - 2)), min(h, int(y + r + 3))
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    cover = np.clip(r + 0.5 - np.hypot(xx - x, yy - y), 0, 1)
    patch = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = np.clip(patch * (1 - dark * cover) + 0.5, 0, 255).astype(np.uint8)


def _scratch(img, rng, px_per_mm):
    h, w = img.shape
    x, y = rng.uniform(0.3 * w, 0.7 * w), rng.uniform(0.3 * h, 0.7 * h)
    a = rng.uniform(0, math.pi)
    length = rng.uniform(20, 60) * px_per_mm
    width = rng.uniform(1.0, 2.0)
    n = int(length)
    t = np.linspace(-0.5, 0.5, n) * length
    xs, ys = x + t * math.cos(a), y + t * math.sin(a)
    for px, py in zip(xs, ys):
        ix, iy = int(px), int(py)
        if 1 <= ix < w - 2 and 1 <= iy < h - 2:
            sl = img[iy - 1:iy + 2, ix - 1:ix + 2].astype(np.float32)
            img[iy - 1:iy + 2, ix - 1:ix + 2] = np.clip(sl + 0.35 * (255 - sl) * min(1.0, width / 2), 0, 255).astype(np.uint8)


def _blur(img, sigma):
    out = np.empty_like(img)
    pad = int(4 * sigma) + 2
    h = img.shape[0]
    for y0 in range(0, h, 1024):
        a, b = max(0, y0 - pad), min(h, y0 + 1024 + pad)
        band = ndimage.gaussian_filter(img[a:b].astype(np.float32), sigma)
        out[y0:min(h, y0 + 1024)] = np.clip(band[y0 - a:y0 - a + min(1024, h - y0)] + 0.5, 0, 255).astype(np.uint8)
    return out
