"""Render a Record as a scan would show it: the groove, anti-aliased at true size, on X-ray film.

The picture is 8-bit grey (16-bit on request), the record lying on a light scanner lid. Every groove is drawn as the
band the cutting stylus swept at each angle — radially ``[R − w/2, R + w/2]`` around its centre
radius ``R`` — with exact area coverage across the band's edges, so an optical reader can find
both walls with sub-pixel precision. Pixel centres sit at integer coordinates, x right, y down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from izdat._check import check_int, check_number
from izdat.errors import GrooveError
from izdat.lathe import Record
from izdat.spiral import turn_outside

__all__ = ["Picture", "render", "start_angle_deg", "picture_size_px", "check_memory", "PICTURE_MARGIN_MM"]

#: Space around the disc in the picture (mm), as on a scanner bed.
PICTURE_MARGIN_MM = 6.0
#: Grey levels (0–1): scanner lid, darkest and lightest film, and how much a cut lightens the film
#: (the cut walls scatter the light back: grooves show as fine light lines on the dark film).
LID, FILM_DARK, FILM_LIGHT, GROOVE_LIGHTEN = 0.94, 0.10, 0.62, 0.45
#: The burnt spindle hole: radius (mm) and width of the charred ring (mm) a cigarette leaves.
HOLE_RADIUS_MM, CHAR_MM = 3.7, 1.6
#: Angular resolution of the outline tables (entries per turn).
TABLE = 4096
MAX_DPI = 4800
#: Range of the burnt hole's miss of the spiral centre (mm).
HOLE_OFFSET_MM = (0.0, 20.0)
#: Peak memory of drawing a picture and writing it as PNG, in bytes per byte of the picture, beyond
#: what the run held before (8-bit, 16-bit). Measured as the peak RSS (ru_maxrss) of
#: ``izdat cut --trim 0.5 --format png`` less that of the same cut with ``--format json`` (no
#: picture) on a 250 mm disc: 1200 DPI 8-bit, 153 MB of pixels, +374 MB (2.44x); 1200 DPI 16-bit,
#: 306 MB, +1278 MB (4.17x); 600 DPI 16-bit, 77 MB, +331 MB (4.31x). The PNG writer holds the
#: pixels, the filtered rows and the compressed stream (and for 16 bits a big-endian copy) at once.
#: Rounded up by a few percent.
PEAK_PER_PICTURE_BYTE = {8: 2.6, 16: 4.5}
#: Largest seed (NumPy's generators take any non-negative integer; 64 bits is plenty).
MAX_SEED = 2**64 - 1


@dataclass(frozen=True, eq=False)
class Picture:
    """A rendered record: grey pixels (uint8 or uint16, rows × columns) and where things lie in them."""

    pixels: np.ndarray
    dpi: float
    centre_px: tuple          # spiral centre (x, y)
    hole_centre_px: tuple
    hole_offset_mm: float
    start_angle_deg: float    # angle of the groove's first sample, counter-clockwise from +x (y up)

    def info(self) -> dict:
        h, w = self.pixels.shape
        return {"dpi": self.dpi, "width_px": w, "height_px": h, "bits": 16 if self.pixels.dtype == np.uint16 else 8,
                "pixel_convention": "pixel centres at integer coordinates, x to the right, y down",
                "spiral_centre_px": list(self.centre_px), "hole_centre_px": list(self.hole_centre_px),
                "hole_offset_mm": self.hole_offset_mm, "groove_start_angle_deg": self.start_angle_deg,
                "angle_convention": "degrees counter-clockwise from +x as seen in the picture (y up)"}


#: The picture is drawn in this many bands of rows, so a progress bar can follow it.
PROGRESS_BANDS = 32


def start_angle_deg(seed: int) -> float:
    """Where the groove starts (degrees counter-clockwise from +x), as the film happened to lie."""
    return float(np.random.default_rng([seed, 0x57A7]).uniform(0, 360))


def picture_size_px(diameter_m: float, dpi: float) -> int:
    """Side of the square picture of a disc ``diameter_m`` across at ``dpi`` (px): the disc and its margin."""
    px_per_m = dpi / 0.0254
    return int(math.ceil(diameter_m * px_per_m + 2 * PICTURE_MARGIN_MM * 1e-3 * px_per_m)) | 1


def check_memory(diameter_m: float, dpi: float, bits: int = 8, *, available: int | None = None) -> int:
    """The bytes drawing and writing the picture will need at its peak; raises :class:`GrooveError`
    (one sentence with the estimate and the highest DPI that would fit) when that is more memory
    than the machine has available (``/proc/meminfo`` MemAvailable and any cgroup limit).

    ``available`` overrides the measured available memory (bytes). Where it cannot be measured
    (no /proc), nothing is refused.
    """
    size = picture_size_px(diameter_m, dpi)
    picture = size * size * (bits // 8)
    need = int(picture * PEAK_PER_PICTURE_BYTE[bits])
    if available is None:
        available = available_memory()
    if available is None or need <= available:
        return need
    fit = int(dpi * math.sqrt(available / need))
    while fit >= 50 and _need(diameter_m, fit, bits) > available:
        fit -= 1
    while _need(diameter_m, fit + 1, bits) <= available:
        fit += 1
    if fit >= 50:
        advice = f"{fit} DPI would fit" + (" (or 8 bits at a higher DPI)" if bits == 16 else "")
    else:
        advice = "no DPI from 50 up would fit; cut a smaller disc or free memory"
    raise GrooveError(f"the picture at {dpi:g} DPI ({size} x {size} px, {bits}-bit, {picture / 2**30:.1f} GiB) "
                      f"needs about {need / 2**30:.1f} GiB of memory to draw and write, but only "
                      f"{available / 2**30:.1f} GiB is available; {advice}")


def _need(diameter_m, dpi, bits):
    size = picture_size_px(diameter_m, dpi)
    return size * size * (bits // 8) * PEAK_PER_PICTURE_BYTE[bits]


def available_memory() -> int | None:
    """Bytes of memory this process can still take: MemAvailable, or less under a cgroup limit; None if unknown."""
    found = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    except (OSError, ValueError, IndexError):
        pass
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit) as f:
                text = f.read().strip()
            if text == "max":
                continue
            with open(usage) as f:
                used = int(f.read().strip())
            cap = int(text)
            if cap < 2**60:
                found.append(max(0, cap - used))
        except (OSError, ValueError):
            continue
    return min(found) if found else None


def render(record: Record, *, dpi: float = 1200, xray: np.ndarray | None = None, seed: int = 0,
           hole_offset_mm: float | None = None, bits: int = 8, on_progress=None) -> Picture:
    """Draw ``record`` at ``dpi`` dots per inch over the radiograph ``xray``.

    Parameters
    ----------
    record : Record
        The cut record.
    dpi : float
        Resolution (dots per inch), 50–4800; default 1200.
    xray : ndarray, optional
        Radiograph, float in [0, 1] (1 = bone), square, any size; stretched over the disc.
        Default: plain film.
    seed : int
        Seeds the scissor-cut outline, the burnt hole and its place, and where the groove starts.
    hole_offset_mm : float, optional
        How far the burnt hole misses the spiral centre (mm, 0–20); default random in 1–4 mm.
    bits : int
        Grey levels of the picture: 8 (uint8, default) or 16 (uint16, as an archival scan keeps
        them; a groove's wall then sits 256 times finer).
    on_progress : callable, optional
        Called with the fraction of the picture drawn (0–1) after each band of rows.

    Raises
    ------
    GrooveError
        For a setting out of range, or a picture that needs more memory than is available
        (:func:`check_memory`, before anything is drawn).
    """
    if bits not in (8, 16):
        raise GrooveError(f"bits must be 8 or 16, not {bits!r}")
    if not isinstance(dpi, (int, float)) or not math.isfinite(dpi) or not 50 <= dpi <= MAX_DPI:
        raise GrooveError(f"dpi must be between 50 and {MAX_DPI} dots per inch, not {dpi!r}")
    check_int("seed", seed, 0, MAX_SEED, error=GrooveError)
    rng = np.random.default_rng([seed, 0x1A7E])
    if hole_offset_mm is None:
        hole_offset_mm = float(rng.uniform(1.0, 4.0))
    hole_offset_mm = check_number("hole_offset_mm", hole_offset_mm, *HOLE_OFFSET_MM, "mm", error=GrooveError)
    check_memory(record.diameter_m, dpi, bits)
    px_per_m = dpi / 0.0254
    disc_r_px = record.diameter_m / 2 * px_per_m
    size = picture_size_px(record.diameter_m, dpi)
    cx = cy = (size - 1) / 2
    start_angle = math.radians(start_angle_deg(seed))

    edge = _scissor_outline(rng, disc_r_px, px_per_m)
    hole_angle = rng.uniform(0, 2 * math.pi)
    hx = cx + hole_offset_mm * 1e-3 * px_per_m * math.cos(hole_angle)
    hy = cy - hole_offset_mm * 1e-3 * px_per_m * math.sin(hole_angle)
    hole = _burnt_hole(rng, HOLE_RADIUS_MM * 1e-3 * px_per_m)
    char_px = CHAR_MM * 1e-3 * px_per_m
    char_noise = rng.random((64, 64)).astype(np.float32)

    backdrop = np.full((2, 2), 0.2, np.float32) if xray is None else np.asarray(xray, np.float32)
    film = (FILM_DARK + (FILM_LIGHT - FILM_DARK) * np.clip(backdrop, 0, 1)).astype(np.float32)
    film_scale = (film.shape[0] - 1) / (2 * disc_r_px)

    radii_px = np.empty(len(record.radius_m) + 1, np.float32)
    radii_px[:-1] = record.radius_m * px_per_m
    radii_px[-1] = radii_px[-2]
    out = np.empty((size, size), np.uint16 if bits == 16 else np.uint8)
    bands = np.linspace(0, size, min(size, PROGRESS_BANDS) + 1).astype(int)
    for a, b in zip(bands[:-1], bands[1:]):          # bands of rows, each drawn as if it were the whole picture
        _draw(out[a:b], float(2 ** bits - 1), radii_px, record.samples_per_rev, cx, cy - a, start_angle,
              record.groove_width_m / 2 * px_per_m, edge, cx - disc_r_px, cy - disc_r_px - a, film, film_scale, hx, hy - a,
              hole, char_px, char_noise)
        if on_progress is not None:
            on_progress(b / size)
    return Picture(out, float(dpi), (cx, cy), (hx, hy), float(hole_offset_mm),
                   math.degrees(start_angle) % 360)


def _scissor_outline(rng, radius_px, px_per_m):
    """Rim radius (px) per angle: a polygon of straight scissor strokes, wandering ±1.5 mm."""
    n = int(rng.integers(22, 34))
    normals = np.sort(rng.uniform(0, 2 * np.pi, n)) + rng.uniform(0, 2 * np.pi)
    dist = radius_px + rng.normal(0, 0.8e-3 * px_per_m, n)
    theta = np.arange(TABLE) * 2 * np.pi / TABLE
    cos = np.cos(theta[:, None] - normals[None, :])
    with np.errstate(divide="ignore"):
        r = np.where(cos > 0.05, dist[None, :] / cos, np.inf).min(axis=1)
    jag = np.convolve(rng.normal(0, 0.05e-3 * px_per_m, TABLE), np.ones(5) / 5, "same")  # small nicks
    return (np.minimum(r, radius_px + 2e-3 * px_per_m) + jag).astype(np.float32)


def _burnt_hole(rng, radius_px):
    """Hole radius (px) per angle: a ragged circle, as a cigarette end melts it."""
    theta = np.arange(TABLE) * 2 * np.pi / TABLE
    r = np.full(TABLE, radius_px)
    for k in range(2, 12):
        r += radius_px * 0.06 / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return r.astype(np.float32)


@numba.njit(cache=True, fastmath=True)
def _table(table, ang):
    """Linear interpolation in a table over one turn, at ``ang`` in [−π, π] (rad)."""
    n = table.shape[0]
    f = ang * (n / (2 * math.pi))
    if f < 0:
        f += n
    i = int(f)
    a = f - i
    i = i % n
    return table[i] * (1 - a) + table[(i + 1) % n] * a


@numba.njit(cache=True, fastmath=True)
def _noise(field, u, v):
    """Smooth noise: the periodic field bilinearly interpolated at (u, v) cells."""
    n = field.shape[0]
    u = u % n
    v = v % n
    i = int(u)
    j = int(v)
    a = u - i
    b = v - j
    i1 = (i + 1) % n
    j1 = (j + 1) % n
    return (field[j, i] * (1 - a) * (1 - b) + field[j, i1] * a * (1 - b)
            + field[j1, i] * (1 - a) * b + field[j1, i1] * a * b)


@numba.njit(cache=True, fastmath=True)
def _band(r, centre, hw):
    """Coverage of a one-pixel cell at radius r by the band [centre − hw, centre + hw]."""
    c = min(r + 0.5, centre + hw) - max(r - 0.5, centre - hw)
    return 0.0 if c < 0.0 else (1.0 if c > 1.0 else c)


@numba.njit(parallel=True, cache=True, fastmath=True)
def _draw(out, full, radii, n_rev, cx, cy, start, hw, edge, x0, y0, film, film_scale, hx, hy, hole, char_px, char_noise):
    h, w = out.shape
    turns = (radii.shape[0] - 1) // n_rev
    r_max = radii[0] + hw + 1
    r_min = radii[radii.shape[0] - 2] - hw - 1
    rim_min = edge.min() - 1
    rim_max = edge.max() + 1
    hole_reach = hole.max() + char_px + 2
    fs = film.shape[0]
    two_pi = 2 * math.pi
    lid = int(LID * full + 0.5)
    for y in numba.prange(h):
        guess = 0
        dy = cy - y
        for x in range(w):
            dx = x - cx
            r = math.sqrt(dx * dx + dy * dy)
            if r >= rim_max:
                out[y, x] = lid
                continue
            in_band = r_min < r < r_max
            ang = math.atan2(dy, dx) if (in_band or r > rim_min) else 0.0
            # the disc and its scissor-cut rim
            inside = 1.0
            if r > rim_min:
                inside = min(1.0, max(0.0, _table(edge, ang) - r + 0.5))
                if inside <= 0.0:
                    out[y, x] = lid
                    continue
            # film with the radiograph, bilinear
            fx = min(max((x - x0) * film_scale, 0.0), fs - 1.001)
            fy = min(max((y - y0) * film_scale, 0.0), fs - 1.001)
            ix = int(fx)
            iy = int(fy)
            ax = fx - ix
            ay = fy - iy
            v = (film[iy, ix] * (1 - ax) * (1 - ay) + film[iy, ix + 1] * ax * (1 - ay)
                 + film[iy + 1, ix] * (1 - ax) * ay + film[iy + 1, ix + 1] * ax * ay)
            # the groove
            if in_band:
                phase = ang - start
                while phase < 0:
                    phase += two_pi
                while phase >= two_pi:
                    phase -= two_pi
                jf = phase * (n_rev / two_pi)
                j0 = min(int(jf), n_rev - 1)
                a = jf - j0
                lo = turn_outside(radii, n_rev, turns, j0, r, guess)
                guess = lo
                cover = 0.0
                for k in range(max(0, lo - 1), min(turns, lo + 2)):
                    i = k * n_rev + j0
                    cover += _band(r, radii[i] * (1 - a) + radii[i + 1] * a, hw)
                v = v + GROOVE_LIGHTEN * (1 - v) * min(cover, 1.0)
            # the burnt hole: see-through inside, charred around
            hdx = x - hx
            hdy = hy - y
            if abs(hdx) < hole_reach and abs(hdy) < hole_reach:
                hr = math.sqrt(hdx * hdx + hdy * hdy)
                hang = math.atan2(hdy, hdx)
                hrad = _table(hole, hang)
                if hr < hrad + char_px:
                    d = (hr - hrad) / char_px
                    n = _noise(char_noise, hdx * 12 / char_px, hdy * 12 / char_px)
                    burn = min(1.0, (1 - d) ** 1.5 * (0.45 + 0.75 * n))
                    v = v * (1 - 0.85 * burn)
                cut = min(1.0, max(0.0, hrad - hr + 0.5))
                v = v * (1 - cut) + LID * cut
            v = v * inside + LID * (1 - inside)
            out[y, x] = int(min(full, max(0.0, v * full + 0.5)))
