"""The record's surface: its material, roughness, dust, scratches, and the wear of every play.

Everything here changes the *walls* of the groove, in metres, before the stylus meets them; the
tip's own shape (:mod:`izdat.gramophone.stylus`) then decides what of it the pickup hears. So the
hiss is filtered by the tip as it would be, a click is as sharp as the tip lets it be, and the
noise rides on the music (modulation noise) without being told to.

Models
------
Roughness
    Each wall wanders laterally by a stationary random process along the groove: an
    Ornstein–Uhlenbeck process in s (groove length), RMS σ, correlation length L, i.e. the
    spatial spectrum S(k) ∝ 1/(1 + (kL)²). Its velocity spectrum is flat above v/(2πL): hiss.
    Drawn exactly for the varying sample spacing (a_i = e^(−Δs_i/L)), the two walls independently.
Dust
    Particles stuck to a wall, Poisson along the groove; diameter log-normal, each a Gaussian bump
    of half its diameter pushing the wall into the groove.
Scratches
    Straight cuts across the disc. Each crosses every turn it reaches at the same place, so it
    ticks once a revolution; it crosses the outer and the inner wall Δs = w·b/|t| apart (w: groove
    width, b: the scratch's distance from the centre, t: along the scratch), so the tick is a
    push one way and then the other.
Wear (Archard)
    Worn volume ∝ load × sliding distance / hardness (Archard 1953). The stylus presses hardest
    where the groove bends most (lateral force = m·v²·curvature), so each play removes material
    in proportion to the curvature y'' of the wall: ∂y/∂N = D·y''. That is the heat equation in
    s: after N plays the groove is the new one smoothed by a Gaussian of σ_s = √(2DN) (we state
    σ₁ = √(2D), per play). High frequencies go first (a gain e^(−(kσ_s)²/2)) and faster at small
    radius (k = 2πf/v). The walls also recede evenly (a level loss per play), and the surface
    roughens and collects dust: σ and the dust density grow as √(1 + N/N_r) and (1 + N/N_r).

References
----------
- J. F. Archard, "Contact and rubbing of flat surfaces", J. Appl. Phys. 24, 981–988 (1953).
- G. E. Uhlenbeck and L. S. Ornstein, "On the theory of the Brownian motion", Phys. Rev. 36,
  823 (1930).
- Material figures are izdat's assumptions, set so that a new record's signal-to-noise ratio
  matches what collectors report (vinyl LP ~60 dB, shellac 78 ~35 dB, a bone record "music through
  sand", ~20 dB) and a bone record is nearly unlistenable after a few dozen plays (the seeds);
  see docs/gramophone.md for the measured figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numba
import numpy as np
from scipy import ndimage

from izdat.errors import GrooveError

__all__ = ["Material", "MATERIALS", "material", "worn", "roughness", "dust", "scratches"]


@dataclass(frozen=True)
class Material:
    """What a record is made of, as the stylus and the wear see it.

    Parameters
    ----------
    name : str
        Short name.
    roughness_um : float
        RMS lateral roughness of each groove wall when new (µm).
    correlation_um : float
        Correlation length of the roughness along the groove (µm).
    dust_per_m : float
        Dust particles per metre of groove when new (1/m).
    dust_um : float
        Median particle diameter (µm).
    wear_um : float
        Wear smoothing per play σ₁ (µm): after N plays the groove is smoothed by a Gaussian of
        σ₁·√N along the groove.
    level_loss_db : float
        Even loss of modulation per play (dB, ≥ 0), from the walls receding.
    roughening_plays : float
        N_r: plays that double the roughness power and the dust (plays); ``inf`` for none.
    """

    name: str
    roughness_um: float
    correlation_um: float
    dust_per_m: float
    dust_um: float
    wear_um: float
    level_loss_db: float
    roughening_plays: float
    note: str = ""

    def noise_scale(self, plays: int) -> float:
        """Growth of the roughness RMS after ``plays`` plays (×)."""
        return math.sqrt(1.0 + plays / self.roughening_plays)

    def dust_scale(self, plays: int) -> float:
        """Growth of the dust density after ``plays`` plays (×)."""
        return 1.0 + plays / self.roughening_plays

    def as_dict(self) -> dict:
        d = asdict(self)
        d["roughening_plays"] = None if math.isinf(self.roughening_plays) else self.roughening_plays
        return d


MATERIALS: dict[str, Material] = {m.name: m for m in [
    Material("xray", roughness_um=0.35, correlation_um=25.0, dust_per_m=4.0, dust_um=6.0, wear_um=9.0,
             level_loss_db=0.1, roughening_plays=3.0,
             note="X-ray film (cellulose acetate or polyester base, gelatine emulsion): soft, grainy, "
                  "cut shallow; a few dozen plays at most (seeds)."),
    Material("shellac", roughness_um=0.12, correlation_um=25.0, dust_per_m=1.5, dust_um=6.0, wear_um=1.5,
             level_loss_db=0.01, roughening_plays=100.0,
             note="Shellac 78 compound: hard and abrasive (it wore steel needles down in one side)."),
    Material("vinyl", roughness_um=0.006, correlation_um=25.0, dust_per_m=0.3, dust_um=4.0, wear_um=0.3,
             level_loss_db=0.001, roughening_plays=1000.0,
             note="PVC/PVA copolymer: smooth and tough."),
    Material("ideal", roughness_um=0.0, correlation_um=25.0, dust_per_m=0.0, dust_um=1.0, wear_um=0.0,
             level_loss_db=0.0, roughening_plays=math.inf,
             note="A perfectly smooth groove that never wears: for measuring the stylus and the turntable."),
]}


def material(name: str | Material) -> Material:
    """The material named ``name`` (one of :data:`MATERIALS`), or ``name`` itself if a Material."""
    if isinstance(name, Material):
        return name
    key = str(name).strip().lower()
    if key not in MATERIALS:
        raise GrooveError(f"unknown record material {name!r}; choose one of {', '.join(MATERIALS)}")
    return MATERIALS[key]


def worn(x_m: np.ndarray, step_m: np.ndarray, samples_per_rev: int, mat: Material, plays: int) -> np.ndarray:
    """The modulation ``x_m`` (m) after ``plays`` plays of ``mat``: smoothed along the groove by a
    Gaussian of σ₁·√plays (m of groove) and turned down by the even wall loss."""
    if plays == 0 or (mat.wear_um == 0 and mat.level_loss_db == 0):
        return x_m
    level = 10 ** (-mat.level_loss_db * plays / 20)
    sigma_m = mat.wear_um * 1e-6 * math.sqrt(plays)
    if sigma_m == 0:
        return x_m * level
    out = np.empty_like(x_m)
    n = len(x_m)
    for a in range(0, n, samples_per_rev):          # one kernel per turn: the groove speed is ~constant
        b = min(n, a + samples_per_rev)
        sig = sigma_m / float(step_m[(a + b) // 2])
        pad = int(math.ceil(4 * sig)) + 1
        lo, hi = max(0, a - pad), min(n, b + pad)
        out[a:b] = ndimage.gaussian_filter1d(x_m[lo:hi], sig, mode="nearest", truncate=4.0)[a - lo:a - lo + b - a]
    return out * level


def roughness(step_m: np.ndarray, mat: Material, plays: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lateral roughness (m) of the outer and the inner wall at each groove sample."""
    n = len(step_m)
    sigma = mat.roughness_um * 1e-6 * mat.noise_scale(plays)
    if sigma == 0:
        return np.zeros(n), np.zeros(n)
    corr = mat.correlation_um * 1e-6
    white = rng.standard_normal((2, n), dtype=np.float32)
    return _ou(white, np.ascontiguousarray(step_m, dtype=np.float64), corr, sigma)


@numba.njit(cache=True, fastmath=True)
def _ou(white, step, corr, sigma):
    """Both walls' Ornstein–Uhlenbeck paths; a = e^(−Δs/L) is recomputed only as the step drifts."""
    n = white.shape[1]
    outer = np.empty(n)
    inner = np.empty(n)
    vo = sigma * white[0, 0]
    vi = sigma * white[1, 0]
    outer[0] = vo
    inner[0] = vi
    h_cached = -1.0
    a = 0.0
    b = 0.0
    for i in range(1, n):
        h = step[i - 1]
        if abs(h - h_cached) > 1e-6 * h:
            h_cached = h
            a = math.exp(-h / corr)
            b = sigma * math.sqrt(1.0 - a * a)
        vo = a * vo + b * white[0, i]
        vi = a * vi + b * white[1, i]
        outer[i] = vo
        inner[i] = vi
    return outer, inner


def dust(outer: np.ndarray, inner: np.ndarray, step_m: np.ndarray, mat: Material, plays: int,
         rng: np.random.Generator) -> int:
    """Stick dust to the walls in place (m); returns the number of particles."""
    length = float(step_m.sum())
    count = int(rng.poisson(mat.dust_per_m * mat.dust_scale(plays) * length))
    if count == 0:
        return 0
    s = np.cumsum(step_m)
    where = np.minimum(np.searchsorted(s, rng.uniform(0, length, count)), len(s) - 1)
    diameter = mat.dust_um * 1e-6 * np.exp(0.8 * rng.standard_normal(count))   # log-normal, σ_ln = 0.8
    side = rng.random(count) < 0.5
    _bumps(outer, inner, where, step_m, diameter / 2, diameter / 2, side)
    return count


def scratches(outer: np.ndarray, inner: np.ndarray, radius_m: np.ndarray, samples_per_rev: int, angle0_rad: float,
              groove_width_m: float, count: int, rng: np.random.Generator, *, depth_um: float = 4.0) -> int:
    """Cut ``count`` straight scratches across the walls in place; returns how many groove crossings."""
    if count == 0:
        return 0
    n = len(outer)
    n_rev = int(math.ceil(n / samples_per_rev))
    turn_r = radius_m[np.minimum(np.arange(n_rev) * samples_per_rev + samples_per_rev // 2, n - 1)]
    r_lo, r_hi = float(radius_m.min()), float(radius_m.max())
    step = 2 * math.pi * radius_m / samples_per_rev
    idx, shift, depth, width = [], [], [], []
    for _ in range(count):
        b = rng.uniform(0, 0.8 * r_lo)                   # distance of the scratch's line from the centre
        phi = rng.uniform(0, 2 * math.pi)                 # direction of its foot
        t0 = rng.uniform(-r_hi, r_hi)
        t1 = t0 + rng.choice([-1, 1]) * rng.uniform(0.02, 0.12)   # 20–120 mm long
        t_lo, t_hi = min(t0, t1), max(t0, t1)
        d = depth_um * 1e-6 * rng.uniform(0.5, 1.5)
        w = rng.uniform(10e-6, 30e-6)                     # half-width of the cut (m)
        for sign in (-1.0, 1.0):
            t = sign * np.sqrt(np.maximum(turn_r ** 2 - b ** 2, 0.0))
            ok = (t >= t_lo) & (t <= t_hi) & (turn_r > b)
            k = np.flatnonzero(ok)
            theta = phi + np.arctan2(t[k], b)
            frac = np.mod(theta - angle0_rad, 2 * math.pi) / (2 * math.pi)
            i = k * samples_per_rev + (frac * samples_per_rev).astype(np.int64)
            keep = i < n
            i, tk = i[keep], t[k][keep]
            ds = np.clip(groove_width_m * b / np.maximum(np.abs(tk), 1e-9), 0, 2e-3)  # outer/inner crossing apart (m)
            idx.append(i)
            shift.append(np.rint(ds / step[i] / 2).astype(np.int64))
            depth.append(np.full(len(i), d))
            width.append(np.full(len(i), w))
    i = np.concatenate(idx)
    s = np.concatenate(shift)
    d = np.concatenate(depth)
    w = np.concatenate(width)
    # A notch lets each wall recede: the outer wall outwards (+), the inner inwards (−), Δs apart.
    _bumps(outer, inner, np.clip(i + s, 0, n - 1), step, -d, w, np.ones(len(i), bool))
    _bumps(outer, inner, np.clip(i - s, 0, n - 1), step, -d, w, np.zeros(len(i), bool))
    return len(i)


def _bumps(outer, inner, where, step_m, height_m, sigma_m, on_outer):
    """Add Gaussian bumps (height into the groove, m; σ along it, m) to one wall each, in place."""
    if len(where) == 0:
        return
    half = int(math.ceil(4 * float(np.max(sigma_m / step_m[where]))))
    offsets = np.arange(-half, half + 1)
    at = np.clip(where[:, None] + offsets[None, :], 0, len(outer) - 1)
    u = offsets[None, :] * step_m[where][:, None]
    shape = height_m[:, None] * np.exp(-0.5 * (u / sigma_m[:, None]) ** 2)
    o = on_outer
    np.add.at(outer, at[o].ravel(), -shape[o].ravel())     # into the groove from the outer wall: −
    np.add.at(inner, at[~o].ravel(), shape[~o].ravel())    # from the inner wall: +
