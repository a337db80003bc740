"""Picture makers that are not izdat's renderer (issue 14): a record's groove drawn from audio by
evaluating, at every pixel, its distance to the groove's centre line and a look's cross-section.

They share no code with izdat.render / izdat.xray / izdat.png / izdat.spiral: the spiral, the
profiles, the optics and the writers are written here from the physics. Each look
(:mod:`.transmission`, :mod:`.flatbed`, :mod:`.hairline`) has its own cross-section, blur, noise and
lighting; this module holds what they share: the groove's geometry (:class:`Cut`), the per-pixel
distance field (:func:`groove_field`), the optics (:func:`finish`) and the writers (:func:`save`).

Geometry conventions (the picture as shown: x to the right, y down): the groove starts at the
outer radius at angle ``start_deg`` (measured counterclockwise from +x as the picture is shown) and
runs ``direction`` ("counterclockwise" or "clockwise", as shown) turning inward at ``pitch_mm`` a
turn. Displacement is radial, outward positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage, signal

MM = 1e-3                       #: metres per millimetre
INCH = 25.4e-3                  #: metres per inch (exact)
DATA = Path(__file__).resolve().parent.parent / "data" / "peer-records"


@dataclass
class Cut:
    """A spiral groove cut from ``audio`` (float, −1…1, at ``sample_rate`` Hz).

    ``cut``: "amplitude" (displacement = audio × ``peak_um``, as laser generators cut) or "velocity"
    (groove velocity ∝ audio: displacement is the audio's integral, scaled so its peak is
    ``peak_um``). ``centre_mm``: the spiral's centre, from the picture's centre (mm, x right, y down).
    ``hole_mm``: the punched hole's centre from the spiral's centre and its radius (a hole burnt
    by hand is rarely centred, so a reader that takes the hole's centre is wrong)."""

    audio: np.ndarray
    sample_rate: float
    rpm: float = 78.0
    outer_mm: float = 30.0
    pitch_mm: float = 0.40
    peak_um: float = 100.0
    width_um: float = 120.0
    cut: str = "amplitude"
    direction: str = "counterclockwise"
    start_deg: float = 37.0
    centre_mm: tuple = (2.5, -1.5)
    disc_mm: float = 62.0
    picture_mm: float = 70.0
    hole_mm: tuple = (1.2, 0.8, 3.5)
    dpi: float = 1200.0
    displacement_m: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        a = np.asarray(self.audio, np.float64)
        if self.cut == "velocity":
            a = np.cumsum(a - a.mean()) / self.sample_rate
            a = signal.sosfiltfilt(signal.butter(1, 20.0, "highpass", fs=self.sample_rate, output="sos"), a)
        elif self.cut != "amplitude":
            raise ValueError(f"cut must be 'amplitude' or 'velocity', not {self.cut!r}")
        self.displacement_m = a / max(np.max(np.abs(a)), 1e-12) * self.peak_um * 1e-6

    @property
    def seconds(self) -> float:
        """The programme's length (s)."""
        return len(self.displacement_m) / self.sample_rate

    @property
    def turns(self) -> float:
        """Turns of the spiral."""
        return self.seconds * self.rpm / 60

    @property
    def px_per_m(self) -> float:
        return self.dpi / INCH

    @property
    def size_px(self) -> int:
        return int(round(self.picture_mm * MM * self.px_per_m))

    @property
    def centre_px(self) -> tuple:
        """The spiral's centre in pixels (x, y), pixel centres at integers."""
        c = (self.size_px - 1) / 2
        return (c + self.centre_mm[0] * MM * self.px_per_m, c + self.centre_mm[1] * MM * self.px_per_m)


def polar(cut: Cut, rows: slice):
    """(x, y, ρ in m; x right, y up) of every pixel in ``rows`` about the spiral's centre."""
    n = cut.size_px
    cx, cy = cut.centre_px
    y = np.arange(n)[rows, None].astype(np.float64)
    x = np.arange(n)[None, :].astype(np.float64)
    dx, dy = np.broadcast_arrays((x - cx) / cut.px_per_m, (cy - y) / cut.px_per_m)   # y up for the maths
    return dx, dy, np.hypot(dx, dy)


def groove_field(cut: Cut, rho: np.ndarray, phi: np.ndarray, displacement: np.ndarray | None = None):
    """The signed distance (m, outward positive) of each point to the nearest turn of the groove's
    centre line, measured across the groove (the radial offset times the cosine of the groove's
    slope), or +inf where no turn passes within a pitch.

    For a point at angle φ the groove passes at times t_k = (α + 2πk)/(2π·rev/s), α the angle from
    the start in the groove's direction; the turn nearest in radius and its two neighbours are tried."""
    s = 1.0 if cut.direction == "counterclockwise" else -1.0
    rev_s = cut.rpm / 60
    pitch = cut.pitch_mm * MM
    r_out = cut.outer_mm * MM
    d = cut.displacement_m if displacement is None else displacement
    fs = cut.sample_rate
    dd = np.gradient(d) * fs                                  # groove's radial speed (m/s)
    alpha = np.mod(s * (phi - math.radians(cut.start_deg)), 2 * np.pi)
    frac = alpha / (2 * np.pi)
    k0 = np.rint((r_out - rho) / pitch - frac)
    best = np.full(rho.shape, np.inf)
    n_samples = len(d)
    for dk in (-1.0, 0.0, 1.0):
        k = k0 + dk
        turn = k + frac
        t = turn / rev_s
        i = t * fs
        ok = (i >= 0) & (i <= n_samples - 1)
        base = r_out - pitch * turn
        disp = np.interp(i, np.arange(n_samples), d, left=0.0, right=0.0)
        slope = np.interp(i, np.arange(n_samples), dd, left=0.0, right=0.0) / (2 * np.pi * base * rev_s)
        u = (rho - base - disp) / np.sqrt(1 + slope ** 2)
        u = np.where(ok, u, np.inf)
        best = np.where(np.abs(u) < np.abs(best), u, best)
    return best


def pixel_profile(fn, half_px: float, blur_px: float, samples_per_px: int = 16):
    """A cross-section ``fn(u_px)`` as a pixel sees it: averaged over one pixel's width (a box of
    1 px) and blurred across the groove by the optics (Gaussian, σ ``blur_px`` px), on a fine grid:
    (grid in px, values), for :func:`numpy.interp` (beyond the grid the profile is fn's far value)."""
    reach = half_px + 1 + 4 * blur_px
    g = np.arange(-reach, reach + 1e-9, 1 / samples_per_px)
    v = fn(g)
    pad = int(samples_per_px * (1 + 4 * blur_px)) + 1
    v = np.pad(v, pad, mode="edge")
    v = ndimage.uniform_filter1d(v, samples_per_px, mode="nearest")
    if blur_px > 0:
        v = ndimage.gaussian_filter1d(v, blur_px * samples_per_px, mode="nearest")
    return g, v[pad:-pad]


def blurred_along(cut: Cut, blur_px: float) -> np.ndarray:
    """The displacement as the optics' blur along the groove leaves it: a Gaussian of σ ``blur_px``
    px along the track, i.e. σ = blur / (px_per_m · v) seconds at the groove's mid radius (v the
    groove speed). For a groove whose slope is small this is what a 2-D Gaussian blur does to the
    line's position; drawing it so (instead of blurring the raster) keeps sharp profiles from aliasing."""
    if blur_px <= 0:
        return cut.displacement_m
    mid = cut.outer_mm * MM - cut.turns * cut.pitch_mm * MM / 2
    v = 2 * np.pi * mid * cut.rpm / 60
    return ndimage.gaussian_filter1d(cut.displacement_m, blur_px / (cut.px_per_m * v) * cut.sample_rate, mode="nearest")


def draw(cut: Cut, shade, *, blur_px: float = 0.0, band_rows: int = 512) -> np.ndarray:
    """The picture (float32, 0…1 light) of ``cut``: ``shade(u_px, phi, rho_m)`` gives the groove's
    light at pixels within reach of it (u_px the signed distance across the groove in pixels, its
    profile already blurred across by the optics); ``blur_px`` (σ, px) blurs the groove's position
    along it (:func:`blurred_along`). The film is ``shade.background``; the disc's outside and its
    hole are the light box (1.0), their edges sharp."""
    disp = blurred_along(cut, blur_px)
    n = cut.size_px
    out = np.empty((n, n), np.float32)
    hx, hy, hr = cut.hole_mm
    reach = (cut.pitch_mm * MM, cut.outer_mm * MM - cut.turns * cut.pitch_mm * MM)
    for r0 in range(0, n, band_rows):
        rows = slice(r0, min(n, r0 + band_rows))
        x, y, rho = polar(cut, rows)
        img = np.full(rho.shape, shade.background, np.float64)
        near = (rho > reach[1] - 2 * reach[0]) & (rho < cut.outer_mm * MM + 2 * reach[0])
        if near.any():
            phi = np.arctan2(y[near], x[near])
            u = groove_field(cut, rho[near], phi, disp) * cut.px_per_m
            img[near] = shade(u, phi, rho[near])
        img[rho > cut.disc_mm * MM / 2] = 1.0                             # the light box past the film
        img[np.hypot(x - hx * MM, y + hy * MM) < hr * MM] = 1.0           # the hole (y up here)
        out[rows] = img
    return out


def finish(img: np.ndarray, *, noise: float, gradient, seed: int, blur_px: float = 0.0,
           grain_px: float = 0.0, row_noise: float = 0.0) -> np.ndarray:
    """The sensor (and, if ``blur_px`` σ px is given, a 2-D Gaussian blur of the raster as well):
    the lighting ``gradient`` (a callable of (y, x) in 0…1 units, multiplied in), white noise of
    σ ``noise`` (light units), grain (noise low-passed over ``grain_px``) and per-row offsets of σ
    ``row_noise`` (a flatbed's sensor banding). Returns float32 clipped to 0…1."""
    rng = np.random.default_rng(seed)
    out = ndimage.gaussian_filter(img, blur_px) if blur_px > 0 else img.copy()
    n, m = out.shape
    yy, xx = np.mgrid[0:n, 0:m].astype(np.float32)
    out *= gradient(yy / n, xx / m).astype(np.float32)
    del yy, xx
    if grain_px > 0:
        g = ndimage.gaussian_filter(rng.standard_normal(out.shape).astype(np.float32), grain_px)
        out += g * (noise / max(float(g.std()), 1e-9))
    else:
        out += rng.standard_normal(out.shape).astype(np.float32) * noise
    if row_noise:
        out += rng.standard_normal((n, 1)).astype(np.float32) * row_noise
    return np.clip(out, 0.0, 1.0, out=out)


FORMATS = ("png8", "png16", "tif8", "tif16", "tif16-deflate", "tif8-lzw", "jpeg")


def save(img: np.ndarray, path: Path, fmt: str, *, dpi: float, quality: int = 92) -> Path:
    """Write ``img`` (float 0…1) as ``fmt``: png8/png16 (PNG), tif8/tif16 (uncompressed TIFF),
    tif16-deflate / tif8-lzw (compressed TIFF), jpeg (8-bit, ``quality``); the DPI is written in."""
    from PIL import Image
    path = Path(path)
    bits16 = "16" in fmt
    a = np.rint(img * (65535 if bits16 else 255)).astype(np.uint16 if bits16 else np.uint8)
    im = Image.fromarray(a)                 # uint16 → "I;16", uint8 → "L"
    kw = {"dpi": (dpi, dpi)}
    if fmt.startswith("png"):
        im.save(path, format="PNG", **kw)
    elif fmt.startswith("tif"):
        comp = "tiff_adobe_deflate" if fmt.endswith("deflate") else "tiff_lzw" if fmt.endswith("lzw") else None
        im.save(path, format="TIFF", compression=comp, **kw)
    elif fmt == "jpeg":
        im.save(path, format="JPEG", quality=quality, **kw)
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return path


# ---- test audio -------------------------------------------------------------------------------

def speech(seconds: float | None = None, sample_rate: int = 22050) -> tuple[np.ndarray, int]:
    """Russian speech (espeak-ng, 5.4 s, from the peer records' data), resampled, −1…1."""
    import soundfile as sf
    x, fs = sf.read(DATA / "speech_ru.wav", dtype="float64")
    x = signal.resample_poly(x, sample_rate, fs) if fs != sample_rate else x
    if seconds is not None:
        x = x[:int(seconds * sample_rate)]
    return x / np.max(np.abs(x)), sample_rate


def tone(freq_hz: float = 1000.0, seconds: float = 3.0, sample_rate: int = 22050) -> tuple[np.ndarray, int]:
    """A sine (peak 1), with 10 ms fades."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return _faded(np.sin(2 * np.pi * freq_hz * t), sample_rate), sample_rate


def sweep(lo_hz: float = 100.0, hi_hz: float = 5000.0, seconds: float = 4.0, sample_rate: int = 22050):
    """A logarithmic sweep (peak 1)."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return _faded(signal.chirp(t, lo_hz, seconds, hi_hz, method="logarithmic"), sample_rate), sample_rate


def plucked(seconds: float = 4.0, sample_rate: int = 22050, seed: int = 1):
    """Plucked notes (Karplus–Strong strings, a note every 0.25 s, A minor pentatonic), peak 1."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * sample_rate))
    notes = [220.0, 261.6, 293.7, 329.6, 392.0, 440.0, 523.3, 587.3]
    step = int(0.25 * sample_rate)
    for start in range(0, len(out) - step, step):
        f = notes[rng.integers(len(notes))]
        period = int(round(sample_rate / f))
        buf = rng.uniform(-1, 1, period)
        n = min(len(out) - start, int(1.0 * sample_rate))
        y = np.empty(n)
        for i in range(0, n, period):           # one period at a time: the string's averaging loop
            y[i:i + period] = buf[:min(period, n - i)]
            buf = 0.996 * 0.5 * (buf + np.roll(buf, -1))
        out[start:start + n] += y
    return out / np.max(np.abs(out)), sample_rate


def _faded(x, sample_rate, fade_s=0.01):
    k = int(fade_s * sample_rate)
    w = np.ones(len(x))
    w[:k] = np.linspace(0, 1, k)
    w[-k:] = np.linspace(1, 0, k)
    return x * w
