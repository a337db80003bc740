"""Read a record from its vectors: an SVG whose groove is a path is followed point by point.

A laser-record generator's SVG (sndcut's, izdat's own ``record.svg``, another's) holds the groove as
the polyline the cutter follows. Rasterising it throws away what the vertices say exactly; here the
vertices are read instead:

1. The document is read once by expat (the same safe reader as :mod:`izdat.optical._svg`: no
   entities, at most :data:`MAX_VECTOR_BYTES` of text, at most :data:`~izdat.optical._svg.MAX_DEPTH`
   deep, at most :data:`MAX_VERTICES` points), every ``path`` (M/L/H/V/C/S/Q/T/Z, absolute and
   relative; curves flattened), ``polyline``, ``polygon`` and ``line`` taken through the transforms
   of its groups and itself and the root's viewBox into metres. Paths that follow on from one
   another (the next starts where the last stopped) are one groove; the longest such chain is it.
2. The spiral's centre is fitted: the radius about a centre ``e`` off carries ``−e·u(θ)`` every turn,
   so a smooth spiral (a cubic spline in the angle, knots two turns apart) plus ``a·cos θ + b·sin θ``
   is fitted by least squares and the centre moved by (a, b) until it moves less than a nanometre.
3. The polyline is sampled uniformly in angle, ``samples_per_rev = rate × 60 / rpm`` a turn, each
   sample where the ray from the centre crosses the vertices' segment (exact for a polyline: the
   vertices and the straight lines between them are what the file holds).
4. The programme is where the turns lie the programme's pitch apart (the lead-in's and lead-out's
   turns lie otherwise, the locked groove not at all), its ends refined by a two-slope fit; with
   izdat's record.json it is the one stated. The smooth track (a local straight line over a turn
   either side, inside the programme) is subtracted; what is left is the modulation.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import numpy as np
import soxr
from scipy import interpolate, ndimage, sparse
from scipy.sparse import linalg as sparse_linalg

from izdat.audio import Audio
from izdat.errors import PictureError, first_line
from izdat.groove import Equalisation, equalisation
from izdat.optical._read import Groove, RecordMeta, output_rate
from izdat.optical._svg import MAX_DEPTH, UNITS, _BOX, _LENGTH, _chunks, _parser

__all__ = ["VectorGroove", "NoVectorGroove", "read_vectors", "is_svg", "draw_vector_report", "MAX_VECTOR_BYTES",
           "MAX_VERTICES"]

#: Most text of an SVG (an .svgz's once unpacked) the vector reader reads: 256 MiB (about 18 million
#: points as generators write them; a 30-minute side at 44.1 kHz is 10 million at 78 rpm).
MAX_VECTOR_BYTES = 256 << 20
#: Most points of the groove read (each costs about 100 bytes while it is read): 20 million, a
#: 45-minute side at 44.1 kHz and 33⅓ rpm with a third of its points dropped.
MAX_VERTICES = 20_000_000
#: Fewest points, and turns, a path must have to be read as a groove.
MIN_VERTICES, MIN_TURNS = 200, 1.5
#: Segments a cubic or quadratic Bézier is flattened into.
CURVE_STEPS = 16
#: Elements whose content is not drawn where it stands.
_UNDRAWN = {"defs", "clipPath", "mask", "symbol", "pattern", "marker", "metadata", "title", "desc", "style",
            "script", "linearGradient", "radialGradient", "filter"}
_CMD = re.compile(r"([MmLlHhVvCcSsQqTtAaZz])")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PLAIN = re.compile(r"[ \t\r\n,0-9.eE+-]*")
_TRANSFORM = re.compile(r"\s*(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)\s*,?")


# ----------------------------------------------------------------------------------------- the file

@dataclass
class _Drawing:
    """What the SVG holds: the root's size, its polylines (user units after their transforms), pictures."""

    root: dict = field(default_factory=dict)
    lines: list = field(default_factory=list)
    images: int = 0
    sndcut: bool = False
    vertices: int = 0


def _affine(text: str, name: str) -> np.ndarray:
    """The 3 × 3 matrix of an SVG ``transform`` attribute."""
    m = np.eye(3)
    pos = 0
    text = text.strip()
    while pos < len(text):
        t = _TRANSFORM.match(text, pos)
        if not t:
            raise PictureError(f"{name} has a transform izdat cannot read ({_short(text)})")
        pos = t.end()
        v = [float(x) for x in _NUMBER.findall(t.group(2))]
        kind = t.group(1)
        if not all(math.isfinite(x) for x in v):
            raise PictureError(f"{name} has a transform that is not finite ({_short(text)})")
        if kind == "matrix" and len(v) == 6:
            a = np.array([[v[0], v[2], v[4]], [v[1], v[3], v[5]], [0, 0, 1]])
        elif kind == "translate" and len(v) in (1, 2):
            a = np.array([[1, 0, v[0]], [0, 1, v[1] if len(v) == 2 else 0.0], [0, 0, 1]])
        elif kind == "scale" and len(v) in (1, 2):
            a = np.diag([v[0], v[1] if len(v) == 2 else v[0], 1.0])
        elif kind == "rotate" and len(v) in (1, 3):
            c, s = math.cos(math.radians(v[0])), math.sin(math.radians(v[0]))
            a = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
            if len(v) == 3:
                a = (np.array([[1, 0, v[1]], [0, 1, v[2]], [0, 0, 1]]) @ a
                     @ np.array([[1, 0, -v[1]], [0, 1, -v[2]], [0, 0, 1]]))
        elif kind in ("skewX", "skewY") and len(v) == 1:
            k = math.tan(math.radians(v[0]))
            a = np.array([[1, k, 0], [0, 1, 0], [0, 0, 1]]) if kind == "skewX" else np.array([[1, 0, 0], [k, 1, 0], [0, 0, 1]])
        else:
            raise PictureError(f"{name} has a transform izdat cannot read ({_short(text)})")
        m = m @ a
    return m


def _numbers(text: str, name: str) -> np.ndarray:
    """The numbers of a run of path data or a points list, fast where it is plainly written."""
    text = text.strip()
    if not text:
        return np.empty(0)
    if _PLAIN.fullmatch(text):
        # parsed in C, no list of strings (a path's text can be hundreds of MB): the numbers read must
        # be as many as the runs of characters between separators, else the slow exact way below
        flat = text.replace(",", " ")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                values = np.fromstring(flat, dtype=np.float64, sep=" ")
            except ValueError:                   # NumPy 2 refuses what it cannot read to the end
                values = np.empty(0)
        chars = np.frombuffer(flat.encode("ascii"), np.uint8)
        word = (chars != 32) & (chars != 9) & (chars != 10) & (chars != 13)
        runs = int(word[0]) + int(np.count_nonzero(word[1:] & ~word[:-1])) if chars.size else 0
        del flat, chars, word
        if values.size == runs:
            return values
    found = _NUMBER.findall(text)
    rest = _NUMBER.sub(" ", text).replace(",", " ").strip()
    if rest:
        raise PictureError(f"{name} has path data that is not numbers ({_short(rest)})")
    return np.array(found, dtype=np.float64)


def _path_points(d: str, name: str) -> list[np.ndarray]:
    """The subpaths of a path's ``d`` as polylines (user units); curves flattened."""
    parts = _CMD.split(d)
    if parts[0].strip():
        raise PictureError(f"{name} has path data that does not start with a command ({_short(parts[0])})")
    out, cur = [], []
    x = y = 0.0
    start = (0.0, 0.0)
    last_ctrl, last_cmd = None, ""
    steps = np.linspace(0, 1, CURVE_STEPS + 1)[1:, None]

    def finish():
        if len(cur) > 1:
            out.append(np.concatenate(cur))
        cur.clear()

    for k in range(1, len(parts), 2):
        cmd, v = parts[k], _numbers(parts[k + 1], name)
        rel = cmd.islower()
        c = cmd.upper()
        if c == "Z":
            if v.size:
                raise PictureError(f"{name} has numbers after a Z in its path data")
            if cur:
                cur.append(np.array([start]))
            x, y = start
            finish()
            last_ctrl, last_cmd = None, c
            continue
        need = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "A": 7}[c]
        if c == "A":
            raise PictureError(f"{name} draws with elliptical arcs (A), which the vector reader does not follow; "
                               f"read it as a picture with --raster DPI")
        if v.size == 0 or v.size % need:
            raise PictureError(f"{name} has a {cmd} command with {v.size} numbers in its path data "
                               f"(a multiple of {need} is needed)")
        if c in ("M", "L", "T"):
            p = v.reshape(-1, 2)
            if rel:
                p = np.cumsum(p, axis=0) + (x, y)
            if c == "M":
                finish()
                start = (p[0, 0], p[0, 1])
            if c == "T":                                    # smooth quadratics: their control points reflected
                pts = []
                q = (x, y)
                for px, py in p:
                    ctrl = (2 * q[0] - last_ctrl[0], 2 * q[1] - last_ctrl[1]) if last_ctrl is not None and last_cmd in "QT" else q
                    pts.append(_quad(np.array(q), np.array(ctrl), np.array((px, py)), steps))
                    last_ctrl, last_cmd, q = ctrl, "T", (px, py)
                p = np.concatenate(pts)
            if not cur:
                cur.append(np.array([[x, y]]) if c != "M" else p[:1])
                p = p if c != "M" else p[1:]
            if len(p):
                cur.append(p)
            x, y = cur[-1][-1]
            if c != "T":
                last_ctrl, last_cmd = None, c
            continue
        if c in ("H", "V"):
            vals = np.cumsum(v) + (x if c == "H" else y) if rel else v
            p = np.column_stack([vals, np.full(len(vals), y)]) if c == "H" else np.column_stack([np.full(len(vals), x), vals])
            if not cur:
                cur.append(np.array([[x, y]]))
            cur.append(p)
            x, y = p[-1]
            last_ctrl, last_cmd = None, c
            continue
        # curves: C (two controls), S (the first reflected), Q (one control)
        groups = v.reshape(-1, need)
        if not cur:
            cur.append(np.array([[x, y]]))
        for g in groups:
            o = np.array((x, y))
            g = g.reshape(-1, 2) + (o if rel else 0.0)
            if c == "C":
                c1, c2, e = g
            elif c == "S":
                c1 = 2 * o - last_ctrl if last_ctrl is not None and last_cmd in "CS" else o
                c2, e = g
            else:
                c1, e = g
                cur.append(_quad(o, c1, e, steps))
                x, y = e
                last_ctrl, last_cmd = c1, "Q"
                continue
            t = steps
            cur.append((1 - t) ** 3 * o + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t * t * c2 + t ** 3 * e)
            x, y = e
            last_ctrl, last_cmd = c2, c
    finish()
    return out


def _quad(o, c, e, t):
    return (1 - t) ** 2 * o + 2 * (1 - t) * t * c + t * t * e


def _read_drawing(path: Path) -> _Drawing:
    """Every polyline of the SVG at ``path`` in user units of the root (transforms applied)."""
    name = path.name
    parser = _parser(name)
    drawing = _Drawing()
    stack = [np.eye(3)]
    hidden = [0]
    counted = []

    def add(points: np.ndarray):
        if len(points) < 2:
            return
        drawing.vertices += len(points)
        if drawing.vertices > MAX_VERTICES:
            raise PictureError(f"{name} holds more than {MAX_VERTICES:,} points; izdat's vector reader reads no "
                               f"larger groove (read it as a picture with --raster DPI)")
        m = stack[-1]
        if not np.array_equal(m, np.eye(3)):
            points = points @ m[:2, :2].T + m[:2, 2]
        drawing.lines.append(points)

    def start(tag, attrs):
        local = tag.rsplit(" ", 1)[-1]
        if len(stack) > MAX_DEPTH:
            raise PictureError(f"{name} nests its elements more than {MAX_DEPTH} deep; flatten its groups")
        if len(stack) == 1 and not drawing.root:
            if local != "svg":
                raise PictureError(f"{name} is not an SVG: its root element is <{local}>")
            drawing.root = {k: v for k, v in attrs.items() if " " not in k}
        m = stack[-1]
        if "transform" in attrs:
            m = m @ _affine(attrs["transform"], name)
        stack.append(m)
        hide = local in _UNDRAWN or attrs.get("display", "").strip() == "none"
        counted.append(hide)
        hidden[0] += hide
        if hidden[0]:
            return
        if local == "path":
            for line in _path_points(attrs.get("d", ""), name):
                add(line)
        elif local in ("polyline", "polygon"):
            v = _numbers(attrs.get("points", ""), name)
            if v.size % 2:
                raise PictureError(f"{name} has a <{local}> with an odd count of coordinates")
            p = v.reshape(-1, 2)
            if local == "polygon" and len(p) > 1:
                p = np.vstack([p, p[:1]])
            add(p)
        elif local == "line":
            v = [_numbers(attrs.get(k, "0"), name) for k in ("x1", "y1", "x2", "y2")]
            if all(a.size == 1 for a in v):
                add(np.array([[v[0][0], v[1][0]], [v[2][0], v[3][0]]]))
        elif local == "image":
            drawing.images += 1

    def end(tag):
        stack.pop()
        hidden[0] -= counted.pop()

    def comment(text):
        if "sndcut" in text.lower():
            drawing.sndcut = True

    parser.StartElementHandler, parser.EndElementHandler, parser.CommentHandler = start, end, comment
    try:
        for chunk in _chunks(path, MAX_VECTOR_BYTES):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise PictureError(f"cannot read {name} as an SVG ({first_line(exc)})") from None
    except MemoryError:
        raise PictureError(f"{name} is too large to read into the memory there is") from None
    if not drawing.root:
        raise PictureError(f"cannot read {name} as an SVG: it has no root element")
    return drawing


def _metres_per_unit(root: dict, sndcut: bool, name: str) -> tuple[np.ndarray, str]:
    """The affine map from the root's user units to metres (x right, y down), and how it was known."""
    box = None
    m = _BOX.fullmatch(root.get("viewBox", ""))
    if m:
        b = [float(g) for g in m.groups()]
        if all(math.isfinite(v) for v in b) and b[2] > 0 and b[3] > 0:
            box = b
    sizes = []
    for key in ("width", "height"):
        m = _LENGTH.fullmatch(root.get(key, ""))
        if m and m.group(2) != "%" and math.isfinite(float(m.group(1))) and float(m.group(1)) > 0:
            unit = m.group(2)
            if unit == "" and sndcut:
                unit = "pt"                 # sndcut writes points and says no unit (SVG reads a bare number as px)
            sizes.append((float(m.group(1)) * UNITS[unit] * 0.0254, unit or "px"))
        else:
            sizes.append(None)
    if box is None:
        # no viewBox: a user unit is what the width says, else a CSS pixel
        unit = next((s[1] for s in sizes if s is not None), "pt" if sndcut else "px")
        k = UNITS[unit] * 0.0254
        return np.array([[k, 0, 0], [0, k, 0], [0, 0, 1]]), unit
    scale = [s[0] / box[2 + i] if s is not None else None for i, s in enumerate(sizes)]
    if scale[0] is None and scale[1] is None:
        k = UNITS["pt" if sndcut else "px"] * 0.0254
        how = "pt" if sndcut else "px"
    else:
        k = min(s for s in scale if s is not None)      # preserveAspectRatio's "meet": the smaller scale
        how = next(s[1] for s in sizes if s is not None)
    return np.array([[k, 0, -k * box[0]], [0, k, -k * box[1]], [0, 0, 1]]), how


class NoVectorGroove(PictureError):
    """The SVG draws no line to follow; ``images`` says how many pictures (``<image>``) it holds instead."""

    def __init__(self, message: str, images: int = 0):
        super().__init__(message)
        self.images = images


def is_svg(path: str | Path) -> bool:
    """Whether ``path`` is named as an SVG (.svg, .svgz or .svg.gz)."""
    name = Path(path).name.lower()
    return name.endswith((".svg", ".svgz", ".svg.gz"))


# ------------------------------------------------------------------------------------- the groove

@dataclass(frozen=True, eq=False)
class VectorGroove(Groove):
    """A groove read from the vertices of a path (see :func:`read_vectors`); ``radius_m`` is the
    radius sampled uniformly in angle, ``track_m`` the smooth spiral under the programme and
    ``modulation_m`` the programme's radius less it (float64)."""

    track_m: np.ndarray = None
    modulation_m: np.ndarray = None
    centre_m: tuple = (0.0, 0.0)
    rate_hz: float = 0.0

    @property
    def sample_rate(self) -> float:
        """Groove samples per second (Hz): the vertices' own rate where they lie on a grid of angles."""
        return self.rate_hz or self.samples_per_rev * self.rpm / 60

    def displacement_m(self) -> np.ndarray:
        return self.modulation_m

    def _pixel_limited(self, x, radius_m):
        return x                                  # a path has no pixels: nothing above a pixel rate to cut

    def playback(self, *, eq: str | Equalisation = "none", gain_m: float | None = None,
                 sample_rate: float = 44_100.0) -> Audio:
        """The programme as a pickup with the playback curve ``eq`` hears it (``eq`` "none": the
        displacement itself, as constant-amplitude cutters write it); ``gain_m`` as
        :meth:`Groove.playback`; resampled to ``sample_rate`` by soxr."""
        sample_rate = output_rate(sample_rate)
        eq = eq if isinstance(eq, Equalisation) else equalisation(eq)
        if gain_m is not None:
            gain_m = RecordMeta(rpm=self.rpm, gain_m=gain_m).gain_m
        fs = self.sample_rate
        if eq.displacement:
            # the displacement is the audio: the track's removal (zero phase, below a turn's rate) is all
            # the subsonic filter there is, and a path has no noise above the audio band to cut
            y = self.modulation_m / (gain_m or 1.0)
        else:
            y = eq.to_audio(self.modulation_m, fs) / (gain_m or 1.0)
        if sample_rate != fs:
            y = soxr.resample(y, fs, sample_rate, quality="VHQ")
        y = y.astype(np.float32)
        if not gain_m:
            peak = float(np.max(np.abs(y))) if y.size else 0.0
            y *= 10 ** (-1 / 20) / peak if peak > 0 else 0.0
        return Audio(y, sample_rate)


def read_vectors(path: str | Path, *, rpm: float, meta: RecordMeta | None = None,
                 sample_rate: float = 44_100.0) -> VectorGroove:
    """The groove drawn as a path in the SVG at ``path``, sampled ``sample_rate × 60 / rpm`` times a
    turn (record.json's ``samples_per_revolution`` with ``meta``), its programme found (or
    record.json's). Raises :class:`PictureError` in one sentence for an SVG with no path, a path too
    short or not a spiral, coordinates that are not finite, or one too large to read."""
    path = Path(path)
    name = path.name
    if meta is not None:
        rpm = meta.rpm
    rpm = RecordMeta(rpm=rpm).rpm
    sample_rate = output_rate(sample_rate, "the groove's sample rate")
    drawing = _read_drawing(path)
    if not drawing.lines:
        what = "only pictures (<image>): read it with --raster DPI" if drawing.images else "nothing to follow"
        raise NoVectorGroove(f"{name} holds no groove to follow: no path, polyline or line, {what}", drawing.images)
    to_m, unit = _metres_per_unit(drawing.root, drawing.sndcut, name)
    xy = _groove_chain(drawing.lines, name)
    del drawing
    if not np.all(np.isfinite(xy)):
        raise PictureError(f"{name} has groove coordinates that are not finite numbers")
    xy = xy @ to_m[:2, :2].T + to_m[:2, 2]
    if not np.all(np.isfinite(xy)):
        raise PictureError(f"{name} has groove coordinates too large to be a record")
    keep = np.ones(len(xy), bool)
    keep[1:] = np.any(np.diff(xy, axis=0) != 0, axis=1)      # repeated points say nothing
    xy = xy[keep]
    if len(xy) < MIN_VERTICES:
        raise PictureError(f"{name}'s longest path has {len(xy)} points; a groove to play has at least "
                           f"{MIN_VERTICES} round a spiral")
    spr = meta.samples_per_rev if meta is not None and meta.samples_per_rev else int(round(sample_rate * 60 / rpm))
    return _follow(xy, name, rpm, spr, meta, unit)


def _groove_chain(lines: list, name: str) -> np.ndarray:
    """The longest run of polylines each starting where the one before stopped (within four times the
    runs' typical segment), joined into one (user units)."""
    seg = np.concatenate([np.hypot(*np.diff(p[: min(len(p), 4096)], axis=0).T) for p in lines])
    seg = seg[seg > 0]
    tol = 4 * float(np.median(seg)) if seg.size else 0.0
    best, best_n, run, run_n = [], 0, [], 0
    for p in lines:
        if run and np.hypot(*(p[0] - run[-1][-1])) <= tol:
            run.append(p[1:] if np.array_equal(p[0], run[-1][-1]) else p)
        else:
            run = [p]
            run_n = 0
        run_n += len(run[-1])
        if run_n > best_n:
            best, best_n = run, run_n
    return np.concatenate(best) if best else np.empty((0, 2))


def _angles(xy: np.ndarray, centre) -> tuple[np.ndarray, np.ndarray]:
    """Radius and unwrapped angle (counter-clockwise as seen: y is down) of every point about ``centre``."""
    dx, dy = xy[:, 0] - centre[0], centre[1] - xy[:, 1]
    return np.hypot(dx, dy), np.unwrap(np.arctan2(dy, dx))


def _kasa(xy: np.ndarray) -> np.ndarray:
    """The least-squares circle's centre through the points (a start for the spiral's)."""
    p = xy[:: max(1, len(xy) // 200_000)]
    mean = p.mean(axis=0)
    q = p - mean
    a = np.column_stack([2 * q, np.ones(len(q))])
    sol, *_ = np.linalg.lstsq(a, (q ** 2).sum(axis=1), rcond=None)
    return mean + sol[:2]


def _fit_centre(xy: np.ndarray, centre: np.ndarray, sel: slice | None = None, rounds: int = 12) -> np.ndarray:
    """The centre about which the points' radius has no once-a-turn term beside a smooth spiral."""
    pts = xy if sel is None else xy[sel]
    pts = pts[:: max(1, len(pts) // 400_000)]
    for _ in range(rounds):
        r, th = _angles(pts, centre)
        psi = th if th[-1] >= th[0] else -th
        turns = (psi[-1] - psi[0]) / (2 * math.pi)
        n_int = max(1, int(turns / 2))
        knots = np.linspace(psi[0], psi[-1], n_int + 1)
        t = np.r_[[knots[0]] * 3, knots, [knots[-1]] * 3]
        b = interpolate.BSpline.design_matrix(np.clip(psi, knots[0], knots[-1]), t, 3)
        a = sparse.hstack([b, sparse.csr_matrix(np.column_stack([np.cos(th), np.sin(th)]))]).tocsr()
        ata = (a.T @ a).toarray()
        atb = a.T @ r
        try:
            sol = np.linalg.solve(ata, atb)
        except np.linalg.LinAlgError:
            sol = sparse_linalg.lsqr(a, r)[0]
        ca, sa = sol[-2], sol[-1]
        # r about (centre + e) ≈ r − e·u(θ): the fitted (a, b) is −e in the picture's axes (y up)
        step = np.array([ca, -sa])
        centre = centre + step
        if np.hypot(*step) < 1e-10:
            break
    return centre


def _sample(xy: np.ndarray, centre, psi_v: np.ndarray, sign: int, psi_grid: np.ndarray) -> np.ndarray:
    """The radius where each ray at ``psi_grid`` (signed angles) crosses the polyline's segment (exact)."""
    k = np.clip(np.searchsorted(psi_v, psi_grid, side="right") - 1, 0, len(psi_v) - 2)
    out = np.empty(len(psi_grid))
    step = 1 << 20
    for a in range(0, len(psi_grid), step):
        kk = k[a:a + step]
        th = sign * psi_grid[a:a + step]
        ux, uy = np.cos(th), np.sin(th)
        ax, ay = xy[kk, 0] - centre[0], centre[1] - xy[kk, 1]
        dx, dy = xy[kk + 1, 0] - xy[kk, 0], -(xy[kk + 1, 1] - xy[kk, 1])
        den = ux * dy - uy * dx
        t = np.where(den != 0, -(ux * ay - uy * ax) / np.where(den != 0, den, 1.0), 0.0)
        out[a:a + step] = ux * (ax + t * dx) + uy * (ay + t * dy)
    return out


def _vertex_step(psi: np.ndarray, rpm: float) -> float | None:
    """The angle (rad) between a generator's samples if nine in ten of the vertices lie on a grid of
    it (some samples dropped: steps of whole multiples), at a rate between 8 and 192 kHz; else None."""
    d = np.diff(psi)
    if d.size < 64:
        return None
    q = float(np.median(np.sort(d)[: max(1, d.size // 20)]))
    for k in (1, 2, 3, 4):
        base = q / k
        for tol in (0.2, 0.1, 0.05, 0.05, 0.05):           # refined: every step's count of samples again
            m = np.round(d / base)
            ok = (m >= 1) & (np.abs(d / base - m) < tol)
            if not ok.any():
                break
            base = float(d[ok].sum() / m[ok].sum())
        m = np.round(d / base)
        if ((m >= 1) & (np.abs(d / base - m) < 0.05)).mean() < 0.9:
            continue
        rate = 2 * math.pi / base * rpm / 60
        return base if 8_000 <= rate <= 192_000 else None
    return None


def _grid_centre(xy, centre, step, sign, rounds: int = 4):
    """The centre (and the grid's step) about which the vertices' angles fall on their generator's grid
    of samples: seen from a centre e off, a point's angle moves by (sin θ·e_x − cos θ·e_y)/r, whatever
    its radius's modulation (a radial displacement does not move its angle about the true centre).
    Each vertex's sample number is counted step by step (a step's count is whole however far off the
    centre is), in runs of steps that fall on the grid, each run with its own start."""
    centre = np.asarray(centre, np.float64)
    for _ in range(rounds):
        r, th = _angles(xy, centre)
        psi = sign * th
        d = np.diff(psi) / step
        k = np.round(d)
        good = (k >= 1) & (np.abs(d - k) < 0.2)
        # runs of on-grid steps: vertices i..j joined by good steps
        edges = np.flatnonzero(~good)
        starts = np.r_[0, edges + 1]
        stops = np.r_[edges, len(psi) - 1]
        runs = [(a, b) for a, b in zip(starts, stops) if b - a >= 2000]
        runs = sorted(runs, key=lambda ab: ab[0] - ab[1])[:50]
        if not runs:
            break
        rows, cols, m_all, res_all, idx_all = [], [], [], [], []
        for j, (a, b) in enumerate(runs):
            m = np.r_[0.0, np.cumsum(k[a:b])]
            res = (psi[a:b + 1] - psi[a]) - m * step
            m_all.append(m + 0.0)
            res_all.append(res)
            idx_all.append(np.arange(a, b + 1))
            cols.append(np.full(b + 1 - a, j))
        idx = np.concatenate(idx_all)
        run_of = np.concatenate(cols)
        m = np.concatenate(m_all)
        res = np.concatenate(res_all)
        sub = slice(None, None, max(1, len(idx) // 600_000))
        idx, run_of, m, res = idx[sub], run_of[sub], m[sub], res[sub]
        a_mat = np.zeros((len(idx), len(runs) + 3))
        a_mat[np.arange(len(idx)), run_of] = 1.0
        a_mat[:, -3] = m
        a_mat[:, -2] = sign * np.sin(th[idx]) / r[idx]
        a_mat[:, -1] = -sign * np.cos(th[idx]) / r[idx]
        sol, *_ = np.linalg.lstsq(a_mat, res, rcond=None)
        centre = centre + np.array([-sol[-2], sol[-1]])
        step = step + sol[-3]
        if math.hypot(sol[-2], sol[-1]) < 1e-12:
            break
    r, th = _angles(xy, centre)
    psi = sign * th
    ahead = np.r_[True, psi[1:] > np.maximum.accumulate(psi)[:-1]]
    return centre, step, xy[ahead], psi[ahead], r[ahead]


def _local_line(r: np.ndarray, half: int) -> np.ndarray:
    """The least-squares straight line through ``r`` over ``half`` samples either side of each sample
    (the window cut at the ends: still exact for a straight track)."""
    n = len(r)
    i = np.arange(n, dtype=np.float64)
    c = [np.r_[0.0, np.cumsum(v)] for v in (np.ones(n), i, i * i, r, i * r)]
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    s0, s1, s2, sy, sxy = (v[hi] - v[lo] for v in c)
    # centre the sums on each sample for precision: x' = x − i
    m1 = s1 - i * s0
    m2 = s2 - 2 * i * s1 + i * i * s0
    my = sxy - i * sy
    det = s0 * m2 - m1 * m1
    return np.where(det > 0, (sy * m2 - m1 * my) / np.where(det > 0, det, 1.0), sy / np.maximum(s0, 1))


def _programme(r: np.ndarray, spr: int) -> tuple[int, int, float]:
    """(start, end, pitch) of the programme: where the turns lie the groove's usual pitch apart."""
    n = len(r)
    if n <= 2 * spr:
        return 0, n, float(r[0] - r[-1]) * spr / max(1, n - 1)
    p = r[:-spr] - r[spr:]
    ps = ndimage.uniform_filter1d(p, max(1, spr // 8), mode="nearest")
    pitch = float(np.median(ps))
    if not pitch > 0:
        pitch = float(np.median(-ps))
    ok = np.abs(np.abs(ps) - abs(pitch)) <= 0.15 * abs(pitch)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return 0, n, pitch
    # the longest run of programme pitch
    breaks = np.flatnonzero(np.diff(idx) > spr // 4)
    starts = np.r_[idx[0], idx[breaks + 1]]
    ends = np.r_[idx[breaks], idx[-1]]
    j = int(np.argmax(ends - starts))
    a, b = int(starts[j]), int(ends[j]) + spr
    a = 0 if a <= spr // 8 else _hinge(r, a, spr)
    b = n if b >= n - spr // 8 else _hinge(r, b, spr)
    return a, min(n, b), pitch


def _dense_ends(psi, psi0, step, a, b, n, spr, sparse: float = 16.0) -> tuple[int, int]:
    """The programme's ends moved to where the vertices stop lying a few samples apart, if that is
    within a turn of the ends the pitch gave: a generator writes every sample it keeps of the
    programme, and its lead-in or lead-out sparsely (sndcut: 1200 points a turn)."""
    d = np.diff(psi) / step
    long_steps = np.flatnonzero(d > sparse)

    def vertices_near(k):
        return np.searchsorted(psi, psi0 + max(0, k - spr) * step), np.searchsorted(psi, psi0 + (k + spr) * step)

    if b < n:
        lo, hi = vertices_near(b)
        found = long_steps[(long_steps >= lo) & (long_steps < hi)]
        if found.size:                                   # the last vertex before the first long step
            b = int(np.round((psi[found[0]] - psi0) / step)) + 1
    if a > 0:
        lo, hi = vertices_near(a)
        found = long_steps[(long_steps >= lo) & (long_steps < hi)]
        if found.size:                                   # the first vertex after the last long step
            a = int(np.round((psi[found[-1] + 1] - psi0) / step))
    return a, min(b, n)


def _hinge(r: np.ndarray, guess: int, spr: int) -> int:
    """Where the track's slope changes, near ``guess``: the hinge of the best continuous two-slope line
    ``α + β·x + γ·max(x − h, 0)`` over a turn either side, tried at every sample (suffix sums)."""
    lo, hi = max(0, guess - spr), min(len(r), guess + spr)
    if hi - lo < 64:
        return guess
    x = (np.arange(lo, hi, dtype=np.float64) - 0.5 * (lo + hi)) / spr
    y = r[lo:hi].astype(np.float64)
    y = (y - y.mean()) / max(float(np.std(y)), 1e-300)
    n = len(x)

    def tail(v):
        return np.cumsum(v[::-1])[::-1]

    t0, t1, t2, ty, txy = (tail(v) for v in (np.ones(n), x, x * x, y, x * y))
    S0, S1, S2, Sy, Sxy, Syy = n, x.sum(), (x * x).sum(), y.sum(), (x * y).sum(), (y * y).sum()
    h = x[8:-8]
    k = slice(9, n - 7)                                   # the samples past each hinge
    g = t1[k] - h * t0[k]
    xg = t2[k] - h * t1[k]
    gg = t2[k] - 2 * h * t1[k] + h * h * t0[k]
    gy = txy[k] - h * ty[k]
    m = np.empty((len(h), 3, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 1] = S0, S1, S2
    m[:, 0, 2] = m[:, 2, 0] = g
    m[:, 1, 2] = m[:, 2, 1] = xg
    m[:, 1, 0] = S1
    m[:, 2, 2] = gg
    rhs = np.stack([np.full(len(h), Sy), np.full(len(h), Sxy), gy], axis=1)
    ok = np.abs(np.linalg.det(m)) > 1e-12
    sol = np.zeros_like(rhs)
    sol[ok] = np.linalg.solve(m[ok], rhs[ok][..., None])[..., 0]
    resid = np.where(ok, Syy - (sol * rhs).sum(axis=1), np.inf)
    return int(lo + 8 + int(np.argmin(resid)))


def _follow(xy: np.ndarray, name: str, rpm: float, spr: int, meta: RecordMeta | None, unit: str) -> VectorGroove:
    centre = _kasa(xy)
    centre = _fit_centre(xy, centre)
    r_v, th = _angles(xy, centre)
    sign = 1 if th[-1] >= th[0] else -1
    psi = sign * th
    turns = (psi[-1] - psi[0]) / (2 * math.pi)
    if not turns >= MIN_TURNS:
        raise PictureError(f"{name}'s longest path turns {max(turns, 0):.2f} times round its centre; a groove to "
                           f"play is a spiral of at least {MIN_TURNS:g} turns")
    ahead = np.r_[True, psi[1:] > np.maximum.accumulate(psi)[:-1]]
    if ahead.mean() < 0.99:
        raise PictureError(f"{name}'s longest path turns back on itself ({100 * (1 - ahead.mean()):.0f} % of its "
                           f"points); it is not a spiral groove")
    xy, psi, r_v = xy[ahead], psi[ahead], r_v[ahead]
    # the vertices' own grid of angles, if they lie on one (a generator's samples, some dropped)
    step = 2 * math.pi / spr if meta is not None and meta.samples_per_rev else _vertex_step(psi, rpm)
    on_grid = step is not None
    if step is None:
        step = 2 * math.pi / spr
    gridded = on_grid or (meta is not None and meta.samples_per_rev is not None)
    if gridded:
        centre, step, xy, psi, r_v = _grid_centre(xy, centre, step, sign)
    spr_f = 2 * math.pi / step
    spr = int(round(spr_f))
    n = int(math.floor((psi[-1] - psi[0]) / step)) + 1
    grid = psi[0] + step * np.arange(n)
    r = _sample(xy, centre, psi, sign, grid)
    # the programme: record.json's, else where the turns lie the usual pitch apart
    if meta is not None and meta.program_start is not None and meta.program_end is not None:
        a, b = min(meta.program_start, n), min(meta.program_end, n)
        pitch = float(np.median(r[a:max(a + 1, b - spr)] - r[a + spr:max(a + spr + 1, b)])) if b - a > spr else 0.0
    else:
        a, b, pitch = _programme(r, spr)
        if on_grid:
            a, b = _dense_ends(psi, grid[0], step, a, b, n, spr)
    if b - a < spr // 4:
        raise PictureError(f"{name}'s path holds no programme: its turns do not lie a steady pitch apart")
    # refit the centre on the programme alone (the lead-in's and lead-out's bends bias the spline)
    sel = slice(int(np.searchsorted(psi, grid[a])), int(np.searchsorted(psi, grid[b - 1])) + 1)
    if not gridded and sel.stop - sel.start > MIN_VERTICES and (grid[b - 1] - grid[a]) > 2 * 2 * math.pi:
        centre2 = _fit_centre(xy, centre, sel)
        if np.hypot(*(centre2 - centre)) > 0:
            centre = centre2
            r_v, th = _angles(xy, centre)
            psi2 = sign * th
            # the same points; their angles move by the centre's step only
            order = np.r_[True, psi2[1:] > np.maximum.accumulate(psi2)[:-1]]
            xy, psi, r_v = xy[order], psi2[order], r_v[order]
            grid = psi[0] + step * np.arange(n)
            grid = grid[grid <= psi[-1]]
            n = len(grid)
            a, b = min(a, n), min(b, n)
            r = _sample(xy, centre, psi, sign, grid)
    prog = r[a:b]
    track = _local_line(prog, spr)
    x = prog - track
    spread = float(np.sqrt(np.mean(x ** 2))) if x.size else 0.0
    if not pitch > 0 or not (turns_prog := (b - a) / spr) > 0 or spread > 0.5 * abs(pitch):
        raise PictureError(f"{name}'s path is not a spiral groove: its radius wanders {spread * 1e6:.0f} µm rms "
                           f"about the track against turns {abs(pitch) * 1e6:.0f} µm apart")
    vert_snr, held = _vertex_snr(psi, r_v, grid, r, track, a, b, on_grid)
    start_deg = float(round(float(np.degrees(sign * grid[a])), 1) % 360)
    return VectorGroove(
        radius_m=r.astype(np.float32), samples_per_rev=spr, rpm=rpm, program_start=a, program_end=b,
        untrusted=np.empty((0, 2), np.int64), centre_px=(float(centre[0] * 1e3), float(centre[1] * 1e3)),
        start_angle_deg=float(np.degrees(sign * grid[0]) % 360), direction="counterclockwise" if sign > 0 else "clockwise",
        dpi=25.4 * 1000.0, width_m=0.0,
        rate_hz=spr_f * rpm / 60,
        notes={"on_vertex_grid": on_grid, "vertices": int(len(xy)), "vertices_in_programme": held, "vertex_snr_db": vert_snr, "unit": unit,
               "programme_start_angle_deg": start_deg, "pitch_m": float(pitch), "turns_programme": turns_prog},
        track_m=track, modulation_m=x, centre_m=(float(centre[0]), float(centre[1])))


def _vertex_snr(psi, r_v, grid, r, track, a, b, on_grid) -> tuple[float, int]:
    """SNR (dB) of the uniformly sampled programme against the vertices' own radius: each programme
    vertex's modulation (its radius less the track) against the samples' cubic interpolation there."""
    lo, hi = grid[a], grid[b - 1]
    sel = (psi >= lo) & (psi <= hi)
    if sel.sum() < 16:
        return float("nan"), int(sel.sum())
    pos = (psi[sel] - grid[0]) / (grid[1] - grid[0]) - a
    i = np.clip(np.floor(pos).astype(np.int64), 1, b - a - 3)
    f = pos - i
    seg = r[a:b]
    if on_grid:                           # a generator's sample: its radius, at the grid's angle it was cut at
        near = np.clip(np.round(pos).astype(np.int64), 0, b - a - 1)
        i, f = near, np.zeros(len(near))
    # four-point cubic (Lagrange) interpolation of the samples at each vertex
    ii = np.clip(i, 1, b - a - 3)
    f = f + (i - ii)
    w = [-f * (f - 1) * (f - 2) / 6, (f + 1) * (f - 1) * (f - 2) / 2, -(f + 1) * f * (f - 2) / 2, (f + 1) * f * (f - 1) / 6]
    est = w[0] * seg[ii - 1] + w[1] * seg[ii] + w[2] * seg[ii + 1] + w[3] * seg[ii + 2]
    tr = np.interp(pos, np.arange(b - a), track)
    sig = r_v[sel] - tr
    err = r_v[sel] - est
    return float(10 * np.log10(max(float(sig @ sig), 1e-300) / max(float(err @ err), 1e-300))), int(sel.sum())


def draw_vector_report(groove: VectorGroove, path, size: int = 2000) -> None:
    """A PNG of the groove as read (``size`` pixels across): the programme green, the rest red, the
    centre a cross; for a person to check where the programme was found."""
    from PIL import Image, ImageDraw
    r = groove.radius_m.astype(np.float64)
    n = len(r)
    sign = 1 if groove.direction == "counterclockwise" else -1
    th = math.radians(groove.start_angle_deg) + sign * 2 * math.pi * np.arange(n) / (groove.sample_rate * 60 / groove.rpm)
    reach = float(r.max()) * 1.05
    k = size / (2 * reach)
    x = size / 2 + r * np.cos(th) * k
    y = size / 2 - r * np.sin(th) * k
    im = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(im)
    step = max(1, n // 400_000)
    a, b = groove.program_start, groove.program_end
    for lo, hi, colour in ((0, a, (220, 40, 40)), (a, b, (30, 160, 60)), (b, n, (220, 40, 40))):
        if hi - lo > 1:
            pts = np.column_stack([x[lo:hi:step], y[lo:hi:step]])
            draw.line([tuple(p) for p in pts], fill=colour, width=1)
    c = size / 2
    draw.line([(c - 8, c), (c + 8, c)], fill=(0, 0, 0))
    draw.line([(c, c - 8), (c, c + 8)], fill=(0, 0, 0))
    im.save(path, format="PNG")


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= 40 else text[:37] + "..."
