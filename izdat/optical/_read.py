"""The optical reader: a picture of a record in, the groove it holds out, then audio."""

from __future__ import annotations

import ctypes
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr
from scipy import signal

from izdat.audio import Audio
from izdat.errors import AudioError, PictureError
from izdat.groove import Equalisation, equalisation
from izdat.optical import _fine
from izdat.optical._coarse import CoarseTrack
from izdat.optical._load import RowRelease, Scan, load_picture

__all__ = ["Groove", "OpticalReader", "RecordMeta", "read_meta", "play_picture"]

#: Groove samples per revolution when the picture comes without record.json (about 44.1 kHz at the
#: given speed), and the output rate.
CUT_RATE_HZ = 44_100.0
#: Outer turns of the coarse track that pin the spiral's centre before the fine fit.
CENTRE_TURNS = 24
#: Passes of the fine fit a reader may make (two is the default; more than four gains nothing).
PASSES = (2, 3, 4)
#: Output sample rates (Hz) the playback writes: telephone to studio.
OUTPUT_RATES = (8_000.0, 384_000.0)


def output_rate(rate, name: str = "the output rate") -> float:
    """``rate`` (Hz) if the playback can write it, else :class:`AudioError` naming it as ``name``."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not OUTPUT_RATES[0] <= rate <= OUTPUT_RATES[1]:
        raise AudioError(f"{name} must be between {OUTPUT_RATES[0]:g} and {OUTPUT_RATES[1]:g} Hz, not {rate:g}"
                         if isinstance(rate, (int, float)) else f"{name} must be a number of Hz, not {rate!r}")
    return float(rate)
#: Least share of the programme that must be measured, not coasted over, for the groove to be played:
#: below it the audio would be mostly the coasting, noise rather than the groove (the bench's
#: degraded pictures read 97–100 %, a 300 DPI render of a 120 µm groove 14 %).
MIN_CONFIDENCE = 0.5
#: Fewest pixels across the groove, and between its turns, for the turns and their modulation to be
#: read (a 1 kHz tone at −6 dB, 120 µm groove, turns 185 µm apart: 5.8 px apart at 800 DPI reads
#: 35 dB, 4.4 px at 600 DPI 17 dB, 3.6 px at 500 DPI 2 dB and 2.9 px at 400 DPI −6 dB — noise,
#: though 84 % of it was "followed"; a 45 µm groove at 1200 DPI, 2.1 px wide and 6.5 px apart, 22 dB).
MIN_WIDTH_PX, MIN_PITCH_PX = 2.0, 4.0


@dataclass(frozen=True)
class RecordMeta:
    """What izdat's ``record.json`` tells a reader (all optional but the speed)."""

    rpm: float = 78.0
    samples_per_rev: int | None = None
    eq: Equalisation | None = None
    gain_m: float | None = None           # groove velocity (m/s) per unit audio at 1 kHz
    centre_px: tuple | None = None
    start_angle_deg: float | None = None
    direction: str | None = None
    start_radius_mm: float | None = None
    end_radius_mm: float | None = None
    program_start: int | None = None
    program_end: int | None = None
    locked_start: int | None = None
    groove_width_um: float | None = None
    land_um: float | None = None
    dpi: float | None = None
    picture_size: tuple | None = None
    picture_file: str | None = None


def read_meta(path: str | Path) -> RecordMeta:
    """Read izdat's ``record.json`` (raises :class:`PictureError` if it is not one)."""
    path = Path(path)
    try:
        meta = json.loads(path.read_text())
        pic = meta.get("picture", {})
        eq = meta["equalisation"]
        return RecordMeta(
            rpm=float(meta["rpm"]), samples_per_rev=int(meta["samples_per_revolution"]),
            eq=Equalisation(eq["name"], eq.get("turnover_hz"), eq.get("rolloff_10khz_db", 0.0),
                            bool(eq.get("riaa")), bool(eq.get("displacement")), eq.get("note", "")),
            gain_m=float(meta["level"]["velocity_m_s_per_unit_at_1khz"]),
            centre_px=tuple(pic["spiral_centre_px"]) if "spiral_centre_px" in pic else None,
            start_angle_deg=pic.get("groove_start_angle_deg"), direction=meta.get("direction"),
            start_radius_mm=float(meta["groove_start_radius_mm"]),
            end_radius_mm=float(meta["program_end_radius_mm"]) if "program_end_radius_mm" in meta else None,
            program_start=int(meta["program_start_sample"]), program_end=int(meta["program_end_sample"]),
            locked_start=int(meta["locked_groove_start_sample"]), groove_width_um=float(meta["groove_width_um"]),
            land_um=float(meta.get("min_land_um", 20.0)), dpi=pic.get("dpi"),
            picture_size=(pic["width_px"], pic["height_px"]) if "width_px" in pic else None,
            picture_file=pic.get("file"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PictureError(f"{path} is not an izdat record.json ({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True, eq=False)
class Groove:
    """A groove read from a picture: the centre radius at every sample along the spiral.

    Attributes
    ----------
    radius_m : ndarray of float32
        Groove centre radius (m) at each sample, from the first sample read to the last (float32, as
        the fit works: a step of 7 nm at these radii, below what a picture shows).
    samples_per_rev : int
        Samples per revolution (sample i lies 2π·i/samples_per_rev from the start).
    rpm : float
        Turntable speed (rev/min) the groove was cut at.
    program_start, program_end : int
        The part of ``radius_m`` that holds the programme (the whole groove when unknown).
    untrusted : ndarray of int, shape (k, 2)
        The (start, stop) sample intervals coasted over a blemish rather than measured
        (:attr:`trusted` gives a flag per sample).
    centre_px, start_angle_deg, direction, dpi :
        Where the spiral lies in the picture.
    """

    radius_m: np.ndarray
    samples_per_rev: int
    rpm: float
    program_start: int
    program_end: int
    untrusted: np.ndarray
    centre_px: tuple
    start_angle_deg: float
    direction: str
    dpi: float
    width_m: float
    notes: dict = field(default_factory=dict)

    @property
    def sample_rate(self) -> float:
        """Groove samples per second (Hz)."""
        return self.samples_per_rev * self.rpm / 60

    @property
    def turns(self) -> float:
        return len(self.radius_m) / self.samples_per_rev

    @property
    def duration_s(self) -> float:
        return (self.program_end - self.program_start) / self.sample_rate

    @property
    def trusted(self) -> np.ndarray:
        """Whether each sample was measured (True) or coasted over a blemish (False)."""
        flag = np.ones(len(self.radius_m), bool)
        for a, b in self.untrusted:
            flag[a:b] = False
        return flag

    @property
    def confidence(self) -> float:
        """Fraction of programme samples measured rather than coasted over (0–1)."""
        a, b = self.program_start, self.program_end
        if b <= a:
            return 0.0
        gaps = np.clip(self.untrusted, a, b)
        return 1.0 - float((gaps[:, 1] - gaps[:, 0]).sum()) / (b - a)

    def displacement_m(self) -> np.ndarray:
        """The lateral modulation (m) of the programme: the radius less the straight line that best
        fits the programme's inward run (what is left of the spiral is far below the audio band's
        velocities and goes in the playback curve's subsonic filter)."""
        slope, offset = self._run()
        a, b = self.program_start, self.program_end
        return self.radius_m[a:b] - (offset + slope * np.arange(b - a))

    def _run(self, chunk=1 << 20):
        """The least-squares line ``offset + slope·i`` (m) through the programme's radius, i counted
        from the programme's start; in closed form about the run's middle, chunk by chunk (no copy
        of the side)."""
        r = self.radius_m[self.program_start:self.program_end]
        n = len(r)
        if n < 2:
            return 0.0, float(r.mean()) if n else 0.0
        xm = 0.5 * (n - 1)
        ym = float(r.sum()) / n
        sxy = sum(float(np.dot(np.arange(c, min(n, c + chunk)) - xm, r[c:c + chunk] - ym)) for c in range(0, n, chunk))
        slope = sxy / (n * (n * n - 1) / 12.0)
        return slope, ym - slope * xm

    def pitch_um(self) -> np.ndarray:
        """Pitch (µm per turn) along the programme, one value per whole turn."""
        n = self.samples_per_rev
        r = self.radius_m[self.program_start:self.program_end]
        turns = len(r) // n
        if turns < 2:
            return np.array([])
        return -np.diff(r[: turns * n].reshape(turns, n).mean(axis=1)) * 1e6

    def _pixel_limited(self, x, radius_m):
        """``x`` low-passed at 0.45 × the rate pixels pass under the reader at each radius (Hz): above
        it the picture holds no groove, only the jumps of whole pixels entering and leaving the
        window. Zero phase, in blocks of a few turns with their own cut-off."""
        fs = self.sample_rate
        px_per_m = self.dpi / 0.0254
        block = 4 * self.samples_per_rev
        pad = self.samples_per_rev // 8
        out = np.empty_like(x)
        for a in range(0, len(x), block):
            b = min(len(x), a + block)
            lo, hi = max(0, a - pad), min(len(x), b + pad)
            r = float(np.min(radius_m[a:b]))
            cut = 0.45 * 2 * math.pi * r * px_per_m * self.rpm / 60
            if cut >= 0.45 * fs or hi - lo < 64:
                out[a:b] = x[a:b]
                continue
            sos = signal.butter(8, cut, fs=fs, output="sos")
            out[a:b] = signal.sosfiltfilt(sos, x[lo:hi])[a - lo:a - lo + b - a]
        return out

    def playback(self, *, eq: str | Equalisation = "none", gain_m: float | None = None,
                 sample_rate: float = 44_100.0) -> Audio:
        """The programme as a velocity pickup with the playback curve ``eq`` hears it.

        ``gain_m`` (groove velocity in m/s per unit audio at 1 kHz, from record.json) restores the
        source's level; without it the audio is normalised to a −1 dBFS peak. ``sample_rate``: the
        output's, 8–384 kHz (resampled by soxr as the blocks come).
        """
        sample_rate = output_rate(sample_rate)
        eq = eq if isinstance(eq, Equalisation) else equalisation(eq)
        fs = self.sample_rate
        a, b = self.program_start, self.program_end
        slope, offset = self._run()
        # the playback curve applied exactly (in the frequency domain), as Record.playback does; in
        # ten-second blocks with margins longer than the curve's memory, so no copy of the side is made
        block, margin = int(10 * fs), int(2 * fs)
        n = b - a
        # resampled as it comes (soxr's stream gives the one-shot's samples): the audio at the
        # groove's rate is never held whole beside the output
        stream = None if sample_rate == fs else soxr.ResampleStream(fs, sample_rate, 1, dtype="float32", quality="VHQ")
        audio = np.empty(int(math.ceil(n * sample_rate / fs)) + 64, np.float32)
        k, peak = 0, 0.0
        for a0 in range(0, n, block):
            lo, hi = max(0, a0 - margin), min(n, a0 + block + margin)
            b0 = min(n, a0 + block)
            r = self.radius_m[a + lo:a + hi]
            x = self._pixel_limited(r - (offset + slope * np.arange(lo, hi)), r)
            y = (eq.to_audio(x, fs)[a0 - lo:b0 - lo] / (gain_m or 1.0)).astype(np.float32)
            peak = max(peak, float(np.max(np.abs(y))) if y.size else 0.0)
            if stream is not None:
                y = stream.resample_chunk(y, last=b0 == n)
            audio[k:k + len(y)] = y
            k += len(y)
        audio.resize(k, refcheck=False)
        if not gain_m:
            audio *= 10 ** (-1 / 20) / peak if peak > 0 else 0.0
        return Audio(audio, sample_rate)


class OpticalReader:
    """The optical needle: finds the spiral in a picture and follows its groove.

    Parameters
    ----------
    rpm : float
        Turntable speed (rev/min) the record was cut at; default 78 (overridden by record.json).
    dpi : float, optional
        Picture resolution (dots per inch); default from the picture or record.json.
    eq : str or Equalisation, optional
        Playback curve: ``none``, ``riaa``, ``blumlein``, ``columbia``, ``aes``, ``nab``; default
        that of record.json, else ``none``.
    light_groove : bool
        Whether grooves show lighter than the film (a scan lit from the front); default True.
    passes : int
        Passes of the fine fit over the groove's pixels, 2–4; default 2. On a sharp picture the
        film under each pixel is read from the previous pass's groove, so a third pass lets the fit
        settle: a third slower, and finer where the picture holds more (measured on izdat's renders:
        tone +1.4 dB, music +1.9 dB at 1200 DPI and +4 dB at 2400 DPI; blurred pictures gain nothing).
    """

    def __init__(self, *, rpm: float = 78.0, dpi: float | None = None, eq: str | Equalisation | None = None,
                 light_groove: bool = True, passes: int = 2):
        if passes not in PASSES:
            raise PictureError(f"passes must be one of {', '.join(map(str, PASSES))}, not {passes!r}")
        self.rpm = float(rpm)
        self.dpi = dpi
        self.eq = None if eq is None else (eq if isinstance(eq, Equalisation) else equalisation(eq))
        self.light_groove = bool(light_groove)
        self.passes = int(passes)

    def __repr__(self):
        return (f"OpticalReader(rpm={self.rpm:.4g}, dpi={self.dpi}, eq={self.eq and self.eq.name!r}, "
                f"passes={self.passes})")

    def read(self, scan: Scan, meta: RecordMeta | None = None, *, release: bool = False) -> Groove:
        """Find and follow the groove in ``scan``; ``meta`` (record.json) pins the geometry.

        ``release``: hand the memory of the picture's rows back as the groove is followed in past
        them (they read as zeros afterwards), so the peak memory falls below the picture's grey
        bytes plus the reader's; only for a picture nobody looks at again (``play_picture`` and
        ``izdat play`` load their own).
        """
        dpi = self.dpi or scan.dpi or (meta.dpi if meta else None)
        if dpi is None:
            raise PictureError("the picture does not say its resolution and no record.json gives it; "
                               "give it with --dpi")
        px_per_m = dpi / 0.0254
        img = scan.pixels
        same_picture = meta is not None and (scan.path is None or meta.picture_file is None
                                             or scan.path.name == meta.picture_file)
        if same_picture and meta.centre_px is not None and meta.picture_size == (img.shape[1], img.shape[0]):
            return self._read_known(img, px_per_m, dpi, meta, release)
        return self._read_found(scan, px_per_m, dpi, meta, release)

    def _read_found(self, scan, px_per_m, dpi, meta: RecordMeta | None, release: bool) -> Groove:
        from izdat.optical._centre import find_spiral
        img = scan.pixels
        release = release and scan.path is not None        # a second follow would load the picture again
        guess = find_spiral(img, px_per_m, light=self.light_groove)
        _trim_heap()
        rpm = meta.rpm if meta else self.rpm
        n_rev = meta.samples_per_rev if meta and meta.samples_per_rev else int(round(CUT_RATE_HZ * 60 / rpm))
        width_px = guess.width_px
        if meta is not None and meta.groove_width_um:
            width_px = meta.groove_width_um * 1e-6 * px_per_m
        land_px = max(0.5, min(guess.pitch_px - width_px, (meta.land_um if meta and meta.land_um else 20.0) * 1e-6 * px_per_m))
        n = None
        if meta is not None and meta.locked_start is not None and meta.program_end is not None:
            n = min(meta.locked_start, meta.program_end + n_rev)
        centre = tuple(guess.centre_px)
        r_end = max(2e-3 * px_per_m, guess.inner_radius_px - 2 * guess.pitch_px)
        # the groove itself pins the centre better than the spiral finder: seen from a centre e off,
        # every turn's radius carries −e·u(θ); a tenth of a pixel already costs the audio (timing).
        # The coarse track's outer turns tell it first (thousands of rays a turn average its noise
        # down), so the fine fit, which costs ten times more, usually runs once
        r_outer = max(r_end, guess.start_radius_px - 2 * CENTRE_TURNS * guess.pitch_px)   # room for a lead-in
        for _ in range(3):
            c = CoarseTrack(img, centre[0], centre[1], guess.start_angle, float(guess.direction), n_rev,
                            guess.start_radius_px, width_px, land_px, r_end=r_outer, light=self.light_groove)
            c.advance(CENTRE_TURNS * c.B)
            shift = _centre_error(c.R[:c.linked], c.B, guess.start_angle, guess.direction)
            if shift is None:
                break
            centre = (centre[0] + shift[0], centre[1] + shift[1])
            if math.hypot(*shift) < 0.02:
                break
        del c
        track = _fine.follow(img, centre[0], centre[1], guess.start_angle, float(guess.direction), n_rev,
                             guess.start_radius_px, width_px, land_px, n_samples=n, r_end=r_end,
                             light=self.light_groove, passes=self.passes,
                             release=RowRelease(img, centre[1]) if release else None)
        shift = _centre_error(track.radius, n_rev, guess.start_angle, guess.direction)
        if shift is not None and math.hypot(*shift) > 0.02:
            centre = (centre[0] + shift[0], centre[1] + shift[1])
            n = len(track.radius) if n is None else n
            del track                                   # one groove held at a time
            if release:                                 # its rows were handed back as the groove went in
                img = load_picture(scan.path, dpi=dpi, max_pixels=None).pixels
            track = _fine.follow(img, centre[0], centre[1], guess.start_angle, float(guess.direction), n_rev,
                                 guess.start_radius_px, width_px, land_px, n_samples=n, r_end=r_end,
                                 light=self.light_groove, passes=self.passes)
        radius, gaps = track.radius, track.untrusted
        if len(radius) < n_rev // 2 or (gaps[:, 1] - gaps[:, 0]).sum() > 0.5 * len(radius):
            raise PictureError("the picture holds no readable groove: the spiral could not be followed")
        start, end = 0, len(radius)
        if meta is not None and meta.program_start is not None:
            start, end = meta.program_start, min(meta.program_end, len(radius))
        groove = Groove(_metres(radius, px_per_m), n_rev, rpm, start, end, gaps, centre,
                        math.degrees(guess.start_angle) % 360,
                        "counterclockwise" if guess.direction > 0 else "clockwise", float(dpi), width_px / px_per_m,
                        notes={"pitch_px": guess.pitch_px, "turns_read": track.turns, "blur_px": track.blur_px,
                               "rays_found": track.rays_found})
        return _playable(groove)

    def _read_known(self, img, px_per_m, dpi, meta: RecordMeta, release: bool) -> Groove:
        n_rev = meta.samples_per_rev
        sign = 1.0 if (meta.direction or "counterclockwise") == "counterclockwise" else -1.0
        width_px = meta.groove_width_um * 1e-6 * px_per_m
        land_px = (meta.land_um or 20.0) * 1e-6 * px_per_m
        n = min(meta.locked_start, meta.program_end + n_rev)
        r_end = (meta.end_radius_mm - 4.0) * 1e-3 * px_per_m if meta.end_radius_mm else None
        track = _fine.follow(img, meta.centre_px[0], meta.centre_px[1], math.radians(meta.start_angle_deg), sign,
                             n_rev, meta.start_radius_mm * 1e-3 * px_per_m, width_px, land_px, n_samples=n,
                             r_end=r_end, light=self.light_groove, passes=self.passes,
                             release=RowRelease(img, meta.centre_px[1]) if release else None)
        if len(track.radius) < n:
            raise PictureError("the picture holds no readable groove where its record.json says the groove is")
        groove = Groove(_metres(track.radius, px_per_m), n_rev, meta.rpm, meta.program_start, meta.program_end,
                        track.untrusted, tuple(meta.centre_px), float(meta.start_angle_deg),
                        meta.direction or "counterclockwise", float(dpi), width_px / px_per_m,
                        notes={"turns_read": track.turns, "blur_px": track.blur_px, "rays_found": track.rays_found})
        return _playable(groove)


def _playable(groove: Groove) -> Groove:
    """``groove``, if enough of its programme was measured to be played; else one sentence saying why
    (a picture too coarse for the groove, or no groove in it): never the coasting played as audio."""
    pitch = groove.pitch_um()              # the closest turns (a tenth of them closer): without record.json
    close = float(np.percentile(pitch, 10)) * 1e-6 if pitch.size else None   # the lead-in's and lead-out's are read too
    if close is not None and close <= 0:
        raise PictureError("the picture holds no readable groove: the track read does not move inward turn by turn")
    _too_coarse(groove.dpi, groove.width_m, close, groove.confidence)
    if groove.confidence >= MIN_CONFIDENCE:
        return groove
    raise PictureError(f"the picture holds no readable groove where one was expected: only "
                       f"{groove.confidence:.0%} of the programme could be followed, the rest is not a groove")


def _too_coarse(dpi, width_m, pitch_m=None, confidence=None):
    """Raise if a groove ``width_m`` wide with turns ``pitch_m`` apart (m) is too few pixels across at
    ``dpi`` to be read."""
    px = dpi / 0.0254
    if width_m * px >= MIN_WIDTH_PX and (pitch_m is None or pitch_m * px >= MIN_PITCH_PX):
        return
    need = max(MIN_WIDTH_PX / width_m, MIN_PITCH_PX / pitch_m if pitch_m else 0.0) * 0.0254
    apart = "" if pitch_m is None else f"its turns are {pitch_m * px:.1f} px apart and "
    read = "" if confidence is None else f"{confidence:.0%} of it followed; "
    raise PictureError(f"the picture is too coarse to read the groove: at {dpi:g} DPI {apart}its "
                       f"{width_m * 1e6:.0f} µm {width_m * px:.1f} px across, too few to tell the turns and their "
                       f"modulation apart ({read}scan it at {math.ceil(need / 100) * 100:.0f} DPI or more)")


def _trim_heap():
    """Hand the pages the C allocator keeps after a burst of large temporary arrays (the spiral
    finder's profiles: 82 MiB on a 250 mm record at 1200 DPI) back to the system, before the groove
    is followed; glibc's ``malloc_trim``, a no-op where there is none."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _metres(radius_px, px_per_m):
    """The fit's radius (px) turned into metres in place: no second copy of the side."""
    return np.divide(radius_px, px_per_m, out=radius_px)


def _centre_error(radius, n_rev, start_angle, direction):
    """(dx, dy) in picture pixels (y down) to add to the centre a groove was read about, from the
    first harmonic of every whole turn's radius (each turn's own level and slope taken out); the
    median over turns. None if fewer than two turns were read."""
    turns = len(radius) // n_rev
    if turns < 2:
        return None
    th = start_angle + direction * 2 * math.pi * np.arange(n_rev) / n_rev
    t = np.linspace(-1, 1, n_rev)
    basis = np.stack([np.ones(n_rev), t, np.cos(th), np.sin(th)], 1)
    fit = np.linalg.pinv(basis)[2:]       # the harmonic's least-squares coefficients, a turn at a time
    turn = radius[: turns * n_rev].reshape(turns, n_rev)
    coef = np.concatenate([turn[k:k + 16] @ fit.T for k in range(0, turns, 16)]).T   # no float64 copy of the side
    a, b = float(np.median(coef[0])), float(np.median(coef[1]))
    return a, -b          # r ≈ R − e·u: the true centre is the guess + (a, b) (x right, y up)


def play_picture(path: str | Path, *, meta: str | Path | None = None, rpm: float = 78.0, dpi: float | None = None,
                 eq: str | None = None, sample_rate: float = 44_100.0, max_pixels=None,
                 passes: int = 2) -> tuple[Audio, Groove]:
    """Read the picture at ``path`` and return its audio and the groove (see :class:`OpticalReader`)."""
    path = Path(path)
    kwargs = {} if max_pixels is None else {"max_pixels": max_pixels}
    scan = load_picture(path, dpi=dpi, **kwargs)
    if meta is None and (path.parent / "record.json").is_file():
        meta = path.parent / "record.json"
    m = read_meta(meta) if meta is not None else None
    reader = OpticalReader(rpm=m.rpm if m else rpm, dpi=dpi, eq=eq, passes=passes)
    groove = reader.read(scan, m, release=True)     # the picture's rows go as the groove passes them
    del scan                     # the rest is not needed to play the groove: its memory goes first
    curve = reader.eq or (m.eq if m else equalisation("none"))
    return groove.playback(eq=curve, gain_m=m.gain_m if m else None, sample_rate=sample_rate), groove
