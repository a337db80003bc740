"""The optical reader: a picture of a record in, the groove it holds out, then audio."""

from __future__ import annotations

import ctypes
import json
import math
import numbers
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soxr
from scipy import signal

from izdat.audio import Audio
from izdat._check import _typed, check_int, check_number
from izdat.errors import AudioError, PictureError, first_line
from izdat.groove import EQUALISATIONS, Equalisation, equalisation
from izdat.optical import _fine
from izdat.optical._coarse import CoarseTrack
from izdat.optical._load import RowRelease, Scan, load_picture

__all__ = ["Groove", "OpticalReader", "RecordMeta", "read_meta", "play_picture"]

#: Groove samples per revolution when the picture comes without record.json (about 44.1 kHz at the
#: given speed), and the output rate.
CUT_RATE_HZ = 44_100.0
#: Outer turns of the coarse track that pin the spiral's centre before the fine fit.
CENTRE_TURNS = 24
#: The default trade of noise against bandwidth (0 raw … 1 strongest; see OpticalReader).
DENOISE = 0.5
#: Passes of the fine fit a reader may make (two is the default; more than four gains nothing).
PASSES = (2, 3, 4)
#: Output sample rates (Hz) the playback writes: telephone to studio.
OUTPUT_RATES = (8_000.0, 384_000.0)


#: Share of the groove a picture not named as record.json's must be followed at record.json's
#: centre to be taken as that very picture (izdat's own 600 DPI render of a 1 s side: 0.97; a scanned-look
#: photo of it, turned 7° and shifted 3 mm: 0.01).
SAME_PICTURE_CONFIDENCE = 0.9


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


#: Resolutions (dots per inch) a record.json may state for its picture: those the loader accepts.
META_DPI = (50.0, 20_000.0)
#: Rates (Hz) of the groove's samples (``samples_per_revolution`` × rpm / 60) a record.json may give:
#: izdat cuts at 44.1 kHz; from telephone to studio rates.
META_GROOVE_RATE_HZ = (8_000.0, 192_000.0)
#: Groove velocities (m/s at 1 kHz) per unit of audio a record.json may give: the lathe's run from
#: about 1e-6 (low bass at −40 dB into a 1 µm excursion) to 1e5 (a −80 dBFS song cut hot); beyond
#: these the audio would be divided into infinities or into nothing.
META_GAIN_M_S = (1e-12, 1e12)
#: Largest side of the picture (px) a record.json may state: a 420 mm disc at 20000 DPI is 330,709 px.
META_MAX_SIDE_PX = 1_000_000
#: Largest record.json read (bytes): izdat's are a few kB, a long, much-limited song's some hundred kB.
META_MAX_BYTES = 16 << 20
#: The closest turns (µm apart) a groove can lie when record.json does not say its width and land: the
#: lathe's narrowest groove (10 µm) with no land.
_CLOSEST_TURNS_UM = 10.0
#: Where each of :class:`RecordMeta`'s fields comes from in record.json (for the sentence naming it).
META_KEYS = {
    "rpm": "rpm", "samples_per_rev": "samples_per_revolution", "eq": "equalisation",
    "gain_m": "level.velocity_m_s_per_unit_at_1khz", "centre_px": "picture.spiral_centre_px",
    "start_angle_deg": "picture.groove_start_angle_deg", "direction": "direction",
    "start_radius_mm": "groove_start_radius_mm", "end_radius_mm": "program_end_radius_mm",
    "program_start": "program_start_sample", "program_end": "program_end_sample",
    "locked_start": "locked_groove_start_sample", "groove_width_um": "groove_width_um", "land_um": "min_land_um",
    "dpi": "picture.dpi", "picture_size": "picture.width_px and picture.height_px", "picture_file": "picture.file",
    "diameter_mm": "diameter_mm",
}
DIRECTIONS = ("counterclockwise", "clockwise")


@dataclass(frozen=True)
class RecordMeta:
    """What izdat's ``record.json`` tells a reader (all optional but the speed).

    Every field is checked when the meta is made (``read_meta`` or by hand): its kind, a finite value in
    its range, and its agreement with the others (the program's samples in order, the radii inside the
    disc, the spiral's centre in the picture); :class:`~izdat.errors.PictureError` names the one that
    is not.
    """

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
    diameter_mm: float | None = None

    def __post_init__(self):
        for name, value in _checked_meta(vars(self)).items():
            object.__setattr__(self, name, value)


def _checked_meta(fields: dict, where: str | None = None) -> dict:
    """``fields`` (RecordMeta's, by name) in their canonical types, or :class:`PictureError` naming
    the first that is wrong: by its name, or by its record.json key after ``where`` (the file)."""
    from izdat.lathe import Lathe
    limits = Lathe.LIMITS
    out = dict(fields)

    def key(name):
        return META_KEYS[name] if where is not None else name

    def label(name):
        return f"{where}: {key(name)}" if where is not None else name

    def number(name, lo, hi, unit, *, integer=False):
        value = fields.get(name)
        if value is None:
            return None
        out[name] = _in_range(label(name), value, lo, hi, unit, integer=integer)
        return out[name]

    def limited(name):
        lo, hi, unit = limits[name]
        return number(name, lo, hi, unit)

    rpm = fields.get("rpm")
    if rpm is None:
        raise PictureError(f"{label('rpm')} must be given: the speed the record was cut at (rev/min)")
    rpm = limited("rpm")
    lo_rate, hi_rate = META_GROOVE_RATE_HZ
    spr = number("samples_per_rev", math.ceil(lo_rate * 60 / rpm), math.floor(hi_rate * 60 / rpm),
                 f"at {rpm:g} rpm (a groove sampled at {lo_rate / 1e3:g}–{hi_rate / 1e3:g} kHz)", integer=True)
    if fields.get("eq") is not None and not isinstance(fields["eq"], Equalisation):
        raise _typed_picture_error(f"{label('eq')} must be an Equalisation, not {_shown(fields['eq'])}")
    if fields.get("gain_m") is not None:
        gain = fields["gain_m"]
        lo, hi = META_GAIN_M_S
        says = f"{label('gain_m')} must be a positive finite number (m/s per unit of audio, {lo:g} to {hi:g})"
        if isinstance(gain, bool) or not isinstance(gain, numbers.Real):
            raise _typed_picture_error(f"{says}, not {_shown(gain)}")
        if not (math.isfinite(_float(gain)) and lo <= gain <= hi):
            raise PictureError(f"{says}, not {_shown(gain)}")
        out["gain_m"] = float(gain)
    diameter = limited("diameter_mm")
    start = number("start_radius_mm", 0.0, (diameter or limits["diameter_mm"][1]) / 2, "mm (inside the disc)")
    if start is not None and start <= 0:
        raise PictureError(f"{label('start_radius_mm')} must be more than 0 mm, not {_shown(start)}")
    # the locked groove lies 4 mm inside the programme's end: the end must leave room for it
    end = number("end_radius_mm", 4.0, start if start is not None else limits["diameter_mm"][1] / 2,
                 "mm (inside the groove's start)" if start is not None else "mm")
    if end is not None and start is not None and end >= start:
        raise PictureError(f"{label('end_radius_mm')} must be less than {key('start_radius_mm')} "
                           f"({start:g} mm), not {_shown(end)}")
    width = limited("groove_width_um")
    land = limited("land_um")
    if fields.get("direction") is not None and fields["direction"] not in DIRECTIONS:
        raise PictureError(f"{label('direction')} must be {' or '.join(map(repr, DIRECTIONS))}, "
                           f"not {_shown(fields['direction'])}")
    # the groove's samples: in order, and no more than the turns that fit between its start and the centre
    n_rev = spr or int(round(CUT_RATE_HZ * 60 / rpm))
    closest_um = (width or 0.0) + (land or 0.0) or _CLOSEST_TURNS_UM
    turns = (start if start is not None else limits["diameter_mm"][1] / 2) * 1e3 / closest_um + 4
    most = int(turns * n_rev)
    low, after = 0, None
    for name in ("program_start", "program_end", "locked_start"):
        value = fields.get(name)
        if value is None:
            continue
        if after is not None and isinstance(value, numbers.Integral) and not isinstance(value, bool) and value < low:
            raise PictureError(f"{label(name)} must come after {key(after)} ({low - (after == 'program_start')}), "
                               f"not {_shown(value)}")
        low = number(name, low, most, f"samples (the turns that fit inside {_where_start(start)})", integer=True)
        low, after = low + (name == "program_start"), name
    if fields.get("picture_size") is not None:
        size = fields["picture_size"]
        if not isinstance(size, (tuple, list)) or len(size) != 2:
            raise _typed_picture_error(f"{label('picture_size')} must be two whole numbers of pixels, not {_shown(size)}")
        out["picture_size"] = tuple(_in_range(label("picture_size"), v, 1, META_MAX_SIDE_PX, "px", integer=True)
                                    for v in size)
    number("dpi", *META_DPI, "dots per inch")
    if fields.get("centre_px") is not None:
        centre = fields["centre_px"]
        if not isinstance(centre, (tuple, list)) or len(centre) != 2:
            raise _typed_picture_error(f"{label('centre_px')} must be two numbers of pixels (x, y), not {_shown(centre)}")
        w, h = out.get("picture_size") or (META_MAX_SIDE_PX, META_MAX_SIDE_PX)
        out["centre_px"] = tuple(_in_range(label("centre_px"), v, 0, side, "px (inside the picture)")
                                 for v, side in zip(centre, (w, h)))
        needed = [n for n in ("samples_per_rev", "start_angle_deg", "start_radius_mm", "program_start", "program_end",
                              "locked_start", "groove_width_um") if fields.get(n) is None]
        if needed:
            raise PictureError(f"{label('centre_px')} places the spiral but {key(needed[0])} is not given")
    number("start_angle_deg", -360.0, 360.0, "degrees")
    if fields.get("picture_file") is not None and not isinstance(fields["picture_file"], str):
        raise _typed_picture_error(f"{label('picture_file')} must be a file name, not {_shown(fields['picture_file'])}")
    return out


def read_meta(path: str | Path) -> RecordMeta:
    """Read izdat's ``record.json``, checking every field it gives a reader.

    Raises :class:`PictureError` with one sentence naming the file and the field if the file is not
    one (not JSON, nested too deep, too big) or a field is missing, of the wrong kind, not finite, out
    of its range or at odds with another.
    """
    path = Path(path)
    where = _printable(str(path))
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):            # a FIFO would wait for a writer forever, a device never end
            kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                    else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket")
            raise PictureError(f"{where} is {kind}, not izdat's record.json")
        with open(path, "rb") as f:
            data = f.read(META_MAX_BYTES + 1)
    except OSError as exc:
        raise PictureError(f"{where} cannot be read as izdat's record.json: "
                           f"{_printable(exc.strerror or type(exc).__name__)}") from None
    if len(data) > META_MAX_BYTES:
        raise PictureError(f"{where} is larger than {META_MAX_BYTES >> 20} MiB: not izdat's record.json "
                           f"(a few kB)")
    try:
        meta = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise PictureError(f"{where} is not izdat's record.json: its JSON is nested too deep to read") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise PictureError(f"{where} is not izdat's record.json: it is not JSON "
                           f"({_printable(first_line(exc))})") from None
    if not isinstance(meta, dict):
        raise PictureError(f"{where} is not izdat's record.json: it holds {_json_kind(meta)}, not an object")

    def label(name):
        return f"{where}: {META_KEYS.get(name, name)}"

    def part(key):
        value = meta.get(key, {})
        if not isinstance(value, dict):
            raise PictureError(f"{where}: {key} must be an object, not {_json_kind(value)}")
        return value

    missing = [k for k in ("rpm", "samples_per_revolution", "groove_start_radius_mm", "program_start_sample",
                           "program_end_sample", "locked_groove_start_sample", "groove_width_um") if k not in meta]
    level, pic = part("level"), part("picture")
    if "equalisation" not in meta:
        missing.append("equalisation")
    elif "velocity_m_s_per_unit_at_1khz" not in level:
        missing.append("level.velocity_m_s_per_unit_at_1khz")
    if missing:
        raise PictureError(f"{where} is not izdat's record.json: it gives no {missing[0]}")
    size = None
    if "width_px" in pic or "height_px" in pic:
        size = tuple(_in_range(f"{where}: picture.{k}", pic.get(k), 1, META_MAX_SIDE_PX, "px", integer=True)
                     for k in ("width_px", "height_px"))
    fields = dict(
        rpm=meta["rpm"], samples_per_rev=meta["samples_per_revolution"], eq=_meta_eq(part("equalisation"), where),
        gain_m=level["velocity_m_s_per_unit_at_1khz"], centre_px=pic.get("spiral_centre_px"),
        start_angle_deg=pic.get("groove_start_angle_deg"), direction=meta.get("direction"),
        start_radius_mm=meta["groove_start_radius_mm"], end_radius_mm=meta.get("program_end_radius_mm"),
        program_start=meta["program_start_sample"], program_end=meta["program_end_sample"],
        locked_start=meta["locked_groove_start_sample"], groove_width_um=meta["groove_width_um"],
        land_um=meta.get("min_land_um", 20.0), dpi=pic.get("dpi"), picture_size=size, picture_file=pic.get("file"),
        diameter_mm=meta.get("diameter_mm"))
    for name in ("rpm", "samples_per_rev", "start_radius_mm", "program_start", "program_end", "locked_start",
                 "groove_width_um", "gain_m"):
        if fields[name] is None:          # JSON's null where a value is required
            raise PictureError(f"{label(name)} must be given, not null")
    meta_read = RecordMeta(**_checked_meta(fields, where))
    _check_restated(meta, meta_read, where)
    return meta_read


def _check_restated(meta: dict, m: RecordMeta, where: str) -> None:
    """What record.json says twice must agree: its groove rate, its length in whole turns, and the
    radii of the programme's start and of the locked groove between those the reader uses."""
    rate = m.samples_per_rev * m.rpm / 60
    if "groove_sample_rate_hz" in meta:
        given = _in_range(f"{where}: groove_sample_rate_hz", meta["groove_sample_rate_hz"], *META_GROOVE_RATE_HZ, "Hz")
        if abs(given - rate) > 1e-6 * rate:
            raise PictureError(f"{where}: groove_sample_rate_hz must be samples_per_revolution × rpm / 60 "
                               f"({rate:.6g} Hz), not {_shown(given)}")
    if "total_samples" in meta:
        total = _in_range(f"{where}: total_samples", meta["total_samples"], m.locked_start, 2 ** 62, "samples",
                          integer=True)
        if total % m.samples_per_rev:
            raise PictureError(f"{where}: total_samples must be whole turns of samples_per_revolution "
                               f"({m.samples_per_rev}), not {total}")
    inner = m.end_radius_mm if m.end_radius_mm is not None else 0.0
    if "program_start_radius_mm" in meta:
        _in_range(f"{where}: program_start_radius_mm", meta["program_start_radius_mm"], inner, m.start_radius_mm,
                  "mm (between the programme's end and the groove's start)")
    if "locked_groove_radius_mm" in meta:
        locked = _in_range(f"{where}: locked_groove_radius_mm", meta["locked_groove_radius_mm"], 0.0,
                           inner if m.end_radius_mm is not None else m.start_radius_mm,
                           "mm (inside the programme's end)")
        if locked <= 0:
            raise PictureError(f"{where}: locked_groove_radius_mm must be more than 0 mm, not {_shown(locked)}")


def _meta_eq(eq: dict, where: str) -> Equalisation:
    """The recording curve record.json names, if its numbers are that curve's (one sentence if not)."""
    name = eq.get("name")
    known = [*EQUALISATIONS, "78"]
    if not isinstance(name, str):
        raise _typed_picture_error(f"{where}: equalisation.name must be one of {', '.join(known)}, not {_shown(name)}")
    for flag in ("riaa", "displacement"):
        if not isinstance(eq.get(flag, False), bool):
            raise _typed_picture_error(f"{where}: equalisation.{flag} must be true or false, not {_shown(eq[flag])}")
    if name in EQUALISATIONS:          # a named curve: what record.json says of it must be the curve's
        curve = EQUALISATIONS[name]
        for key in ("turnover_hz", "rolloff_10khz_db", "riaa", "displacement"):
            value = eq.get(key, getattr(curve, key))
            if value != getattr(curve, key) or type(value) is bool is not type(getattr(curve, key)):
                raise PictureError(f"{where}: equalisation.{key} must be the {name} curve's "
                                   f"{_shown(getattr(curve, key))}, not {_shown(value)}")
        return curve
    base = name[:-len("-custom")] if name.endswith("-custom") else None
    if name != "78" and (base not in EQUALISATIONS or EQUALISATIONS[base].riaa or EQUALISATIONS[base].displacement):
        era = [k for k, e in EQUALISATIONS.items() if not (e.riaa or e.displacement)]
        raise PictureError(f"{where}: equalisation.name must be one of {', '.join(known)}, or a 78-era curve's "
                           f"({', '.join(era)}) with -custom, not {_shown(name)}")
    for flag in ("riaa", "displacement"):
        if eq.get(flag, False):
            raise PictureError(f"{where}: equalisation.{flag} must be false for the 78-era curve {_shown(name)}")
    turnover = eq.get("turnover_hz", 250.0)
    if turnover is not None:
        turnover = _in_range(f"{where}: equalisation.turnover_hz", turnover, 20, 2000, "Hz")
    rolloff = _in_range(f"{where}: equalisation.rolloff_10khz_db", eq.get("rolloff_10khz_db", 0.0), -30, 0, "dB")
    note = eq.get("note", "")
    return Equalisation(name, turnover, rolloff, note=note if isinstance(note, str) else "")


def _in_range(name: str, value, lo, hi, unit: str = "", *, integer: bool = False):
    """:func:`~izdat._check.check_number` (``check_int`` if ``integer``) with :class:`PictureError`, the
    value shown as record.json spells it and short (a list, a long string or a 400-digit number in a
    file must not make the sentence a page)."""
    check = check_int if integer else check_number
    plain = (not isinstance(value, bool) and isinstance(value, numbers.Real)
             and not (isinstance(value, numbers.Integral) and abs(int(value)) >= 10 ** 18))
    if plain:
        return check(name, value, lo, hi, unit, error=PictureError)
    unit_text = f" {unit}" if unit else ""
    between = (f"between {lo} and {hi}" if integer else f"between {lo:g} and {hi:g}") + f"{unit_text}, not {_shown(value)}"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        raise PictureError(f"{name} must be {between}")
    raise _typed_picture_error(f"{name} must be a {'whole number' if integer else 'number'} {between}")


def _where_start(start_mm) -> str:
    return f"a groove starting at {start_mm:g} mm" if start_mm is not None else "the largest disc"


def _float(value) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _shown(value) -> str:
    """``value`` as record.json would spell it (NaN, Infinity, null, "text"), short, on one line."""
    if isinstance(value, (dict, list, tuple)) and not (isinstance(value, (list, tuple)) and len(value) <= 4
                                                       and all(isinstance(v, (int, float)) for v in value)):
        return _json_kind(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 18:
        return f"a number of {len(str(abs(value))) if value.bit_length() < 14000 else 'thousands of'} digits"
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        text = _printable(type(value).__name__)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _printable(text: str) -> str:
    """``text`` on one line: control characters and line breaks written as escapes."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _typed_picture_error(message: str) -> PictureError:
    """A :class:`PictureError` that is also a ``TypeError``: the wrong kind of value."""
    return _typed(PictureError)(message)


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
        if gain_m is not None:
            gain_m = _checked_meta({"rpm": self.rpm, "gain_m": gain_m})["gain_m"]
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
    denoise : float
        The trade of noise against bandwidth, 0–1: 0 plays the groove as each sample's own fit to the
        picture's learned profile says (flat, all the picture's noise), 1 smooths hardest where the
        picture's noise outweighs the groove's signal (block by block, per frequency); default
        ``DENOISE``.
    """

    def __init__(self, *, rpm: float = 78.0, dpi: float | None = None, eq: str | Equalisation | None = None,
                 light_groove: bool = True, passes: int = 2, denoise: float | None = None):
        from izdat.lathe import Lathe
        if isinstance(passes, bool) or passes not in PASSES:
            raise PictureError(f"passes must be one of {', '.join(map(str, PASSES))}, not {passes!r}")
        self.rpm = check_number("rpm", rpm, *Lathe.LIMITS["rpm"], error=PictureError)
        self.dpi = None if dpi is None else check_number("dpi", dpi, *META_DPI, "dots per inch", error=PictureError)
        self.eq = None if eq is None else (eq if isinstance(eq, Equalisation) else equalisation(eq))
        self.light_groove = bool(light_groove)
        self.passes = int(passes)
        self.denoise = DENOISE if denoise is None else check_number("denoise", denoise, 0.0, 1.0,
                                                                   error=PictureError)

    def __repr__(self):
        return (f"OpticalReader(rpm={self.rpm:.4g}, dpi={self.dpi}, eq={self.eq and self.eq.name!r}, "
                f"passes={self.passes}, denoise={self.denoise:g})")

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
        # record.json's centre holds for the picture it was written with. Another file of the same
        # size may be those pixels saved again (a TIFF of record.png) or a photo of the record turned
        # and shifted (izdat age keeps the size): it is tried at the known centre and kept only if the
        # groove is followed there almost throughout.
        if meta is not None and meta.centre_px is not None and meta.picture_size == (img.shape[1], img.shape[0]):
            if (scan.path is None or meta.picture_file is None or scan.path.name == meta.picture_file
                    or scan.path.stem == Path(meta.picture_file).stem):
                return self._read_known(img, px_per_m, dpi, meta, release)
            try:
                groove = self._read_known(img, px_per_m, dpi, meta, False)
            except PictureError:
                groove = None
            if groove is not None and groove.confidence >= SAME_PICTURE_CONFIDENCE:
                return groove
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
        guessed = not (meta is not None and meta.groove_width_um)
        track = _fine.follow(img, centre[0], centre[1], guess.start_angle, float(guess.direction), n_rev,
                             guess.start_radius_px, width_px, land_px, n_samples=n, r_end=r_end,
                             light=self.light_groove, passes=self.passes, denoise=self.denoise,
                             release=RowRelease(img, centre[1]) if release else None, fit_width=guessed)
        shift = _centre_error(track.radius, n_rev, guess.start_angle, guess.direction)
        if shift is not None and math.hypot(*shift) > 0.02:
            centre = (centre[0] + shift[0], centre[1] + shift[1])
            n = len(track.radius) if n is None else n
            del track                                   # one groove held at a time
            if release:                                 # its rows were handed back as the groove went in
                img = load_picture(scan.path, dpi=dpi, max_pixels=None).pixels
            track = _fine.follow(img, centre[0], centre[1], guess.start_angle, float(guess.direction), n_rev,
                                 guess.start_radius_px, width_px, land_px, n_samples=n, r_end=r_end,
                                 light=self.light_groove, passes=self.passes, denoise=self.denoise,
                                 fit_width=guessed)
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
                             r_end=r_end, light=self.light_groove, passes=self.passes, denoise=self.denoise,
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
                 passes: int = 2, denoise: float | None = None) -> tuple[Audio, Groove]:
    """Read the picture at ``path`` and return its audio and the groove (see :class:`OpticalReader`;
    ``denoise`` 0–1, default ``DENOISE``)."""
    path = Path(path)
    kwargs = {} if max_pixels is None else {"max_pixels": max_pixels}
    if meta is None and (path.parent / "record.json").is_file():
        meta = path.parent / "record.json"
    m = read_meta(meta) if meta is not None else None          # checked before the picture is read
    reader = OpticalReader(rpm=m.rpm if m else rpm, dpi=dpi, eq=eq, passes=passes, denoise=denoise)
    output_rate(sample_rate)
    scan = load_picture(path, dpi=dpi, **kwargs)
    groove = reader.read(scan, m, release=True)     # the picture's rows go as the groove passes them
    del scan                     # the rest is not needed to play the groove: its memory goes first
    curve = reader.eq or (m.eq if m else equalisation("none"))
    return groove.playback(eq=curve, gain_m=m.gain_m if m else None, sample_rate=sample_rate), groove
