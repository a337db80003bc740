"""The lathe: cut audio into a bone record.

A :class:`Lathe` is configured once (speed, size, groove, equalisation) and cuts :class:`Audio`
into a :class:`Record`: one spiral groove, sampled at a rate that puts an integer number of
samples in every revolution, from the lead-in at the rim to the locked groove at the centre.

The groove is described by its centre radius ``radius_m[i]`` at sample ``i``; sample ``i`` lies at
angle ``2π·i / samples_per_rev`` from the start of the groove, turning the way ``direction`` says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy import ndimage

from izdat._check import _typed, check_number
from izdat.audio import Audio
from izdat.errors import AudioError, GrooveError
from izdat.groove import Equalisation, equalisation, um_to_lpi

__all__ = ["Lathe", "Record", "LimiterReport", "cut", "capacity_s"]

#: Cutting sample rate (Hz) the groove is sampled at, before rounding to whole samples per turn.
CUT_RATE_HZ = 44_100.0
#: Shortest audio worth a groove (s).
MIN_SONG_S = 0.01
#: Block length (samples) of the limiter's and the pitch computer's envelopes (~1.5 ms).
BLOCK = 64
#: Lead-in: 1.5 turns at 1.5 mm a turn from the outer edge (records use a fast, unmodulated spiral).
LEAD_IN_TURNS = 1.5
LEAD_IN_PITCH_M = 1.5e-3
#: Lead-out: a fast spiral at 3 mm a turn (records run out at a few mm a turn) into the locked groove,
#: a closed circle 4 mm inside the innermost program groove.
LEAD_OUT_PITCH_M = 3e-3
LOCKED_GROOVE_INSET_M = 4e-3


def _union_s(segments) -> float:
    """Seconds covered by the union of the segments' (start_s, end_s) intervals: an excursion and a
    slope passage that overlap are counted once."""
    total, end = 0.0, -np.inf
    for a, b, *_ in sorted(segments):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


@dataclass(frozen=True)
class LimiterReport:
    """How much the lathe had to turn loud passages down to keep the groove cuttable.

    ``segments`` are ``(start_s, end_s, max_reduction_db, cause)`` in programme time; cause is
    ``"excursion"`` (the groove would touch its neighbour) or ``"slope"`` (faster than a stylus tracks).
    """

    segments: list = field(default_factory=list)
    max_reduction_db: float = 0.0
    limited_s: float = 0.0

    def __bool__(self):
        return bool(self.segments)

    def summary(self) -> str:
        if not self.segments:
            return "no passage needed limiting"
        worst = max(self.segments, key=lambda s: s[2])
        return (f"limited {len(self.segments)} passage(s), {_union_s(self.segments):.1f} s in all, by up to "
                f"{self.max_reduction_db:.1f} dB (worst at {_mmss(worst[0])}–{_mmss(worst[1])}, {worst[3]})")


@dataclass(frozen=True, eq=False)
class Record:
    """A cut record: the groove path and everything needed to play it back.

    Attributes
    ----------
    radius_m : ndarray of float64
        Centre radius of the groove (m) at each groove sample, lead-in to locked groove; its length
        is a whole number of revolutions.
    samples_per_rev : int
        Groove samples in one revolution.
    rpm : float
        Turntable speed (revolutions per minute).
    program_start, program_end : int
        Sample indices where the music starts and ends.
    locked_start : int
        Sample index where the lead-out has joined the locked groove (a closed circle to the end).
    displacement_m : ndarray of float32
        The lateral modulation alone (m), programme samples only.
    pitch_m : ndarray of float32
        Pitch (m per revolution) the lathe advanced by at each programme sample.
    """

    radius_m: np.ndarray
    samples_per_rev: int
    rpm: float
    program_start: int
    program_end: int
    locked_start: int
    displacement_m: np.ndarray
    pitch_m: np.ndarray
    diameter_m: float
    groove_width_m: float
    land_m: float
    nominal_pitch_m: float
    variable_pitch: bool
    eq: Equalisation
    level_db: float
    gain_m: float
    limiter: LimiterReport
    source: dict
    direction: str = "counterclockwise"

    def __repr__(self):
        return (f"Record({self.program_s:.1f} s at {self.rpm:.4g} rpm, {self.diameter_m * 1e3:.0f} mm, "
                f"{self.programme_turns:.1f} programme turns, eq={self.eq.name})")

    @property
    def sample_rate(self) -> float:
        """Groove samples per second (Hz)."""
        return self.samples_per_rev * self.rpm / 60

    @property
    def turns(self) -> float:
        """Every turn of the groove: lead-in, programme, lead-out and the locked groove."""
        return len(self.radius_m) / self.samples_per_rev

    @property
    def programme_turns(self) -> float:
        """The turns that hold the music (what ``izdat play`` and the studio count too)."""
        return (self.program_end - self.program_start) / self.samples_per_rev

    @property
    def program_s(self) -> float:
        return (self.program_end - self.program_start) / self.sample_rate

    def angle_rad(self) -> np.ndarray:
        """Angle (rad) of each groove sample from the start of the groove, growing along it."""
        return (2 * math.pi / self.samples_per_rev) * np.arange(len(self.radius_m))

    def groove_speed_m_s(self, radius_m):
        """Linear speed (m/s) of the groove under a stylus at ``radius_m``."""
        return 2 * math.pi * np.asarray(radius_m) * self.rpm / 60

    def playback(self, displacement_m: np.ndarray | None = None, *, sample_rate: float = 44_100.0) -> Audio:
        """The programme as a velocity pickup with the right playback curve hears it (no surface).

        ``displacement_m`` defaults to the record's own modulation; pass a groove read from a picture.
        The result is scaled back to the source's level and resampled to ``sample_rate`` Hz.
        """
        x = self.displacement_m if displacement_m is None else np.asarray(displacement_m, float)
        audio = self.eq.to_audio(x, self.sample_rate) / self.gain_m
        return Audio(audio.astype(np.float32), self.sample_rate).resample(sample_rate)

    def info(self) -> dict:
        """The record's geometry and settings, in the units of ``record.json``."""
        r = self.radius_m
        pitch = self.pitch_m
        return {
            "rpm": self.rpm,
            "diameter_mm": self.diameter_m * 1e3,
            "direction": self.direction,
            "direction_note": "the angle of the groove grows counter-clockwise (as seen in the picture) "
                              "from its outer start towards the centre: the record turns clockwise",
            "groove_start_radius_mm": float(r[0] * 1e3),
            "program_start_radius_mm": float(r[self.program_start] * 1e3),
            "program_end_radius_mm": float(r[self.program_end - 1] * 1e3),
            "locked_groove_radius_mm": float(r[-1] * 1e3),
            "samples_per_revolution": self.samples_per_rev,
            "groove_sample_rate_hz": self.sample_rate,
            "program_start_sample": self.program_start,
            "program_end_sample": self.program_end,
            "locked_groove_start_sample": self.locked_start,
            "total_samples": len(r),
            "turns": self.turns,
            "programme_turns": self.programme_turns,
            "program_s": self.program_s,
            "groove_width_um": self.groove_width_m * 1e6,
            "min_land_um": self.land_m * 1e6,
            "pitch": {
                "law": "variable" if self.variable_pitch else "fixed",
                "nominal_um": self.nominal_pitch_m * 1e6,
                "nominal_lpi": um_to_lpi(self.nominal_pitch_m * 1e6),
                "min_um": float(pitch.min() * 1e6),
                "max_um": float(pitch.max() * 1e6),
                "mean_um": float(pitch.mean() * 1e6),
            },
            "lead_in": {"turns": LEAD_IN_TURNS, "pitch_mm": LEAD_IN_PITCH_M * 1e3},
            "lead_out": {"pitch_mm": LEAD_OUT_PITCH_M * 1e3, "locked_groove": "one closed circle"},
            "equalisation": self.eq.as_dict(),
            "level": {
                "level_db": self.level_db,
                "velocity_m_s_per_unit_at_1khz": self.gain_m,
                "peak_displacement_um": float(np.abs(self.displacement_m).max() * 1e6),
                "limiter": {"summary": self.limiter.summary(), "max_reduction_db": self.limiter.max_reduction_db,
                            "limited_s": self.limiter.limited_s,
                            "segments": [{"start_s": a, "end_s": b, "reduction_db": d, "cause": c}
                                         for a, b, d, c in self.limiter.segments]},
            },
            "source": self.source,
        }


def _setting(name: str):
    """Getter and setter of the :class:`Lathe` setting ``name``: set, all settings are checked again."""
    def get(self):
        return self._settings[name]

    def set(self, value):
        self._settings = _lathe_settings({**self._settings, name: value})
    return get, set


def _lathe_settings(s: dict) -> dict:
    """The lathe's settings ``s`` checked and in their canonical types, or one :class:`GrooveError`."""
    out = {name: _check(name, s[name]) for name in ("rpm", "diameter_mm", "outer_margin_mm", "groove_width_um",
                                                     "land_um", "pitch_um", "level_db", "max_slope")}
    out["inner_radius_mm"] = _check("inner_radius_mm", s["inner_radius_mm"], hi=out["diameter_mm"] / 2)
    flag = s["variable_pitch"]
    if not isinstance(flag, (bool, np.bool_)):
        raise _typed(GrooveError)(f"variable_pitch must be True or False, not {flag!r}")
    out["variable_pitch"] = bool(flag)
    eq = s["eq"]
    if not isinstance(eq, (str, Equalisation)):
        raise _typed(GrooveError)(f"eq must be a curve's name or an Equalisation, not {eq!r}")
    out["eq"] = eq if isinstance(eq, Equalisation) else equalisation(eq)
    pitch, width, land = out["pitch_um"], out["groove_width_um"], out["land_um"]
    if pitch < width + land + 2:
        raise GrooveError(f"a pitch of {pitch:g} µm leaves no room to modulate a {width:g} µm "
                          f"groove with {land:g} µm of land; use a coarser pitch or a narrower groove")
    start_m = out["diameter_mm"] / 2e3 - out["outer_margin_mm"] / 1e3 - LEAD_IN_TURNS * LEAD_IN_PITCH_M
    if start_m - out["inner_radius_mm"] / 1e3 <= 5 * pitch * 1e-6:
        raise GrooveError(f"the groove band between {start_m * 1e3:.1f} mm and {out['inner_radius_mm']:g} mm "
                          f"is too narrow to cut; use a larger diameter or a smaller inner radius")
    return out


class Lathe:
    """A record-cutting lathe, set up for bone records by default.

    :attr:`LIMITS` gives each setting's range (the CLI and the studio take theirs from it).

    Parameters
    ----------
    rpm : float
        Turntable speed (rev/min), 5–200; default 78.
    diameter_mm : float
        Diameter of the disc (mm), 50–420; default 250 (a 10-inch bone record).
    outer_margin_mm : float
        Distance from the rim to the start of the lead-in (mm); default 8 (scissor-cut edges wander).
    inner_radius_mm : float
        Smallest radius the music may reach (mm); default 52.
    pitch_um : float
        Nominal groove pitch (µm per turn); default 254 (100 lines per inch, a 78's coarse groove).
        With variable pitch this is the widest pitch, given to the loudest passages.
    groove_width_um : float
        Width of the groove at the surface (µm); default 120 (a shallow 90° cut in 0.18 mm film).
    land_um : float
        Least flat land left between neighbouring grooves (µm); default 20.
    variable_pitch : bool
        Look-ahead variable pitch: tighter turns for quiet passages; default True.
    eq : str or Equalisation
        Recording characteristic; default ``"blumlein"`` (250 Hz turnover, no treble boost).
    level_db : float
        Cut level relative to full modulation (dB): 0 puts the loudest peak at the excursion limit;
        positive values cut hotter and are limited (and reported).
    max_slope : float
        Largest groove slope (lateral / tangential velocity) a stylus can track; default 0.5 (27°).
    """

    #: Each numeric setting's absolute range: name -> (lowest, highest, unit). ``inner_radius_mm`` is
    #: also at most ``diameter_mm / 2``, and the pitch must leave room for the groove and its land
    #: (checked in code); ``trim_s`` is :meth:`cut`'s argument.
    LIMITS: dict[str, tuple[float, float, str]] = {
        "rpm": (5.0, 200.0, "rev/min"),
        "diameter_mm": (50.0, 420.0, "mm"),
        "outer_margin_mm": (1.0, 50.0, "mm"),
        "inner_radius_mm": (10.0, 210.0, "mm"),
        "pitch_um": (20.0, 5000.0, "µm"),
        "groove_width_um": (10.0, 1000.0, "µm"),
        "land_um": (0.0, 500.0, "µm"),
        "level_db": (-40.0, 20.0, "dB"),
        "max_slope": (0.05, 2.0, ""),
        "trim_s": (0.1, 24 * 3600.0, "s"),
    }

    def __init__(self, *, rpm: float = 78.0, diameter_mm: float = 250.0, outer_margin_mm: float = 8.0,
                 inner_radius_mm: float = 52.0, pitch_um: float = 254.0, groove_width_um: float = 120.0,
                 land_um: float = 20.0, variable_pitch: bool = True, eq: str | Equalisation = "blumlein",
                 level_db: float = 0.0, max_slope: float = 0.5):
        self._settings = _lathe_settings(dict(
            rpm=rpm, diameter_mm=diameter_mm, outer_margin_mm=outer_margin_mm, inner_radius_mm=inner_radius_mm,
            pitch_um=pitch_um, groove_width_um=groove_width_um, land_um=land_um, variable_pitch=variable_pitch,
            eq=eq, level_db=level_db, max_slope=max_slope))

    # Every setting is a property checked when it is set, against the others (the inner radius inside
    # the disc, the pitch wider than the groove and its land, a band to cut): a lathe changed after
    # use cuts what a new one with those settings cuts, and a bad value is refused at once.
    rpm = property(*_setting("rpm"), doc="Turntable speed (rev/min), 5–200.")
    diameter_mm = property(*_setting("diameter_mm"), doc="Diameter of the disc (mm), 50–420.")
    outer_margin_mm = property(*_setting("outer_margin_mm"), doc="Rim to the lead-in's start (mm), 1–50.")
    inner_radius_mm = property(*_setting("inner_radius_mm"), doc="Smallest radius of the music (mm), 10–diameter/2.")
    pitch_um = property(*_setting("pitch_um"), doc="Nominal groove pitch (µm per turn), 20–5000.")
    groove_width_um = property(*_setting("groove_width_um"), doc="Groove width at the surface (µm), 10–1000.")
    land_um = property(*_setting("land_um"), doc="Least land between grooves (µm), 0–500.")
    variable_pitch = property(*_setting("variable_pitch"), doc="Look-ahead variable pitch (bool).")
    eq = property(*_setting("eq"), doc="Recording characteristic (an Equalisation; set it by name or value).")
    level_db = property(*_setting("level_db"), doc="Cut level relative to full modulation (dB), −40–20.")
    max_slope = property(*_setting("max_slope"), doc="Largest groove slope a stylus tracks, 0.05–2.")

    def settings(self) -> dict:
        """The settings, by the names of the constructor's arguments (``Lathe(**lathe.settings())``)."""
        return dict(self._settings)

    def __repr__(self):
        return (f"Lathe(rpm={self.rpm:.4g}, diameter_mm={self.diameter_mm:g}, pitch_um={self.pitch_um:g}, "
                f"groove_width_um={self.groove_width_um:g}, variable_pitch={self.variable_pitch}, "
                f"eq={self.eq.name!r}, level_db={self.level_db:g})")

    # -- geometry ---------------------------------------------------------------------------------

    @property
    def samples_per_rev(self) -> int:
        return int(round(CUT_RATE_HZ * 60 / self.rpm))

    @property
    def sample_rate(self) -> float:
        """Groove sample rate (Hz): a whole number of samples in each revolution."""
        return self.samples_per_rev * self.rpm / 60

    @property
    def program_start_radius_m(self) -> float:
        return self.diameter_mm / 2e3 - self.outer_margin_mm / 1e3 - LEAD_IN_TURNS * LEAD_IN_PITCH_M

    @property
    def program_band_m(self) -> float:
        return self.program_start_radius_m - self.inner_radius_mm / 1e3

    @property
    def max_excursion_m(self) -> float:
        """Largest lateral excursion (m) that keeps the land between two grooves at the nominal pitch."""
        return (self.pitch_um - self.groove_width_um - self.land_um) / 2e6

    def capacity_s(self, pitch_um: float | None = None) -> float:
        """How long the side plays (s) at a fixed pitch (µm per turn; default the nominal pitch)."""
        pitch = (pitch_um or self.pitch_um) * 1e-6
        return self.program_band_m / pitch * 60 / self.rpm

    def check_fits(self, duration_s: float) -> None:
        """Raise :class:`GrooveError` with what would make it fit if ``duration_s`` exceeds the side."""
        capacity = self.capacity_s()
        tight_pitch = self.groove_width_um + self.land_um
        if self.variable_pitch:
            if duration_s <= capacity:
                return
            if duration_s <= self.capacity_s(tight_pitch):
                return  # may fit thanks to quiet passages; the pitch plan decides
        elif duration_s <= capacity:
            return
        need_pitch = self.program_band_m / (duration_s * self.rpm / 60) * 1e6
        need_radius = self.inner_radius_mm / 1e3 + duration_s * self.rpm / 60 * self.pitch_um * 1e-6
        need_diameter = 2 * (need_radius + self.outer_margin_mm / 1e3 + LEAD_IN_TURNS * LEAD_IN_PITCH_M) * 1e3
        need_rpm = self.program_band_m / (self.pitch_um * 1e-6) / duration_s * 60
        fixes = [f"a finer pitch (≤ {need_pitch:.0f} µm, {um_to_lpi(need_pitch):.0f} lines/inch)"
                 if need_pitch >= tight_pitch + 2 else None,
                 f"a larger diameter (≥ {need_diameter:.0f} mm)" if need_diameter <= 420 else None,
                 f"a lower speed (≤ {need_rpm:.1f} rpm)" if need_rpm >= 5 else None,
                 f"--trim {math.floor(capacity)}"]
        raise GrooveError(
            f"the song lasts {_mmss(duration_s)} but this side holds {_mmss(capacity)} at "
            f"{self.pitch_um:g} µm ({um_to_lpi(self.pitch_um):.0f} lines/inch) between "
            f"{self.program_start_radius_m * 1e3:.1f} and {self.inner_radius_mm:g} mm at {self.rpm:.4g} rpm; "
            f"to fit it use {', or '.join(f for f in fixes if f)}")

    # -- cutting ----------------------------------------------------------------------------------

    def cut(self, audio: Audio, *, trim_s: float | None = None, on_progress=None) -> Record:
        """Cut ``audio`` into a :class:`Record`.

        ``on_progress``, if given, is called with the fraction of the work done (0–1) after each
        stage (resampling, equalising, limiting, planning the pitch, assembling the spiral).

        Stereo is summed to mono (a bone record has one lateral groove). Raises
        :class:`~izdat.errors.GrooveError` if the song does not fit the side (before any work)
        and :class:`~izdat.errors.AudioError` for empty, silent or non-finite audio.
        """
        audio = audio.checked()
        if audio.duration_s < MIN_SONG_S:
            raise AudioError(f"the audio lasts {audio.duration_s * 1e3:.2f} ms: too short to cut "
                             f"(at least {MIN_SONG_S * 1e3:.0f} ms)")
        source = {"sample_rate_hz": audio.sample_rate, "channels": audio.channels,
                  "duration_s": audio.duration_s, "sha256": audio.sha256()}
        if trim_s is not None:
            _check("trim_s", trim_s)
            audio = _fade_out(audio.trim(trim_s))
        self.check_fits(audio.duration_s)
        mono = audio.mono().resample(self.sample_rate).checked()
        program = mono.samples.astype(np.float64)
        done = on_progress if on_progress is not None else (lambda fraction: None)
        done(0.2)

        fs = self.sample_rate
        n_rev = self.samples_per_rev
        x = self.eq.to_displacement(program, fs)                          # m per (m/s at 1 kHz)
        del program, mono                                                 # a 3-minute side's arrays are 66 MB each
        peak = float(np.max(np.abs(x)))
        gain = self.max_excursion_m / peak * 10 ** (self.level_db / 20)  # m/s at 1 kHz per unit audio
        x *= gain
        done(0.3)
        x, segments_a = _limit(x, lambda n: np.full(n, self.max_excursion_m), None, fs, "excursion")
        done(0.5)

        # Pitch plan from the excursion-limited groove, then the radius it gives, then the slope limit
        # at that true radius (which only lowers the amplitude, so the plan stays valid).
        pitch = self._pitch_plan(x)
        r0 = self.program_start_radius_m
        radius = np.cumsum(pitch)                   # r0 − Σpitch / N, worked in place
        radius /= -n_rev
        radius += r0
        if radius[-1] < self.inner_radius_mm / 1e3:
            raise GrooveError(
                f"even with variable pitch the song needs {(r0 - radius[-1]) * 1e3:.1f} mm of groove band but "
                f"the side has {self.program_band_m * 1e3:.1f} mm (capacity {_mmss(self.capacity_s())} at "
                f"{self.pitch_um:g} µm); use a finer pitch, a larger diameter, a lower rpm or --trim")
        vmax = radius * (self.max_slope * 2 * math.pi)
        vmax *= self.rpm
        vmax /= 60
        done(0.6)
        x, segments_b = _limit(x, None, vmax, fs, "slope")
        del vmax
        done(0.8)
        segments = sorted(segments_a + segments_b)
        limiter = LimiterReport(segments, max((s[2] for s in segments), default=0.0),
                                _union_s(segments))

        radius += x                                 # the groove's radius at every programme sample
        groove, locked_start = _assemble(r0, radius, n_rev, self.inner_radius_mm / 1e3,
                           self.diameter_mm / 2e3 - self.outer_margin_mm / 1e3, float(pitch[-1]))
        lead_in = int(round(LEAD_IN_TURNS * n_rev))
        done(1.0)
        return Record(radius_m=groove, samples_per_rev=n_rev, rpm=self.rpm, program_start=lead_in,
                      program_end=lead_in + len(x), locked_start=locked_start, displacement_m=x.astype(np.float32),
                      pitch_m=pitch.astype(np.float32), diameter_m=self.diameter_mm / 1e3,
                      groove_width_m=self.groove_width_um * 1e-6, land_m=self.land_um * 1e-6,
                      nominal_pitch_m=self.pitch_um * 1e-6, variable_pitch=self.variable_pitch, eq=self.eq,
                      level_db=self.level_db, gain_m=gain, limiter=limiter, source=source)

    def _pitch_plan(self, x: np.ndarray) -> np.ndarray:
        """Pitch (m per turn) at each sample: fixed, or look-ahead variable.

        The land between turn k (at time t) and turn k+1 (at t + one revolution) is
        r(t) + x(t) − r(t+T) − x(t+T) − w, and r(t) − r(t+T) is the mean pitch over [t, t+T]. Asking
        every pitch in [t, t+T] to be at least w + land + |x|max(t) + |x|max(t+T) keeps the land; so the
        pitch at s is the largest such need over the revolution before s (a look-ahead of one turn).
        """
        n = len(x)
        nominal = self.pitch_um * 1e-6
        if not self.variable_pitch:
            return np.full(n, nominal)
        n_rev = self.samples_per_rev
        env = _block_envelope(np.abs(x), BLOCK)
        env = ndimage.maximum_filter1d(env, 3)                 # a block of margin either side
        blocks_per_rev = n_rev / BLOCK
        shift = int(math.ceil(blocks_per_rev))
        nxt = np.maximum(_ahead(env, shift - 1), _ahead(env, shift))  # envelope one turn later
        need = self.groove_width_um * 1e-6 + self.land_um * 1e-6 * 1.05 + env + nxt + 0.2e-6
        window = shift + 2
        plan = ndimage.maximum_filter1d(need, window, origin=(window - 1) // 2)  # max over the past turn
        plan = np.minimum(plan, nominal)
        pitch = np.repeat(plan, BLOCK)[:n]
        return pitch


def cut(audio: Audio, **settings) -> Record:
    """Cut ``audio`` into a bone record with a :class:`Lathe` built from ``settings``.

    Examples
    --------
    >>> import numpy as np, izdat
    >>> from izdat.lathe import cut
    >>> tone = izdat.Audio(0.5 * np.sin(2 * np.pi * 1000 * np.arange(44100) / 44100), 44100)
    >>> record = cut(tone)
    >>> round(record.rpm), record.program_s > 0.99
    (78, True)
    """
    trim_s = settings.pop("trim_s", None)
    return Lathe(**settings).cut(audio, trim_s=trim_s)


def capacity_s(**settings) -> float:
    """Playing time (s) of a side cut by a :class:`Lathe` with ``settings`` at its nominal pitch."""
    return Lathe(**settings).capacity_s()


# -- engines ----------------------------------------------------------------------------------------

def _limit(x, amax_fn, vmax, fs, cause):
    """Turn down passages whose displacement exceeds ``amax_fn`` (m) or whose velocity exceeds
    ``vmax`` (m/s, per sample), with a look-ahead gain envelope; returns (x, segments)."""
    n = len(x)
    if amax_fn is not None:
        ratio = np.abs(x)
        ratio /= amax_fn(n)
    else:
        ratio = np.gradient(x)                   # the velocity |dx/dt| over its limit, worked in place
        ratio *= fs
        np.abs(ratio, out=ratio)
        ratio /= vmax
    need = _block_envelope(ratio, BLOCK)
    del ratio
    if need.max() <= 1.0:
        return x, []
    attack = max(1, int(0.002 * fs / BLOCK))      # 2 ms look-ahead
    release = math.exp(-BLOCK / (0.050 * fs))      # 50 ms release
    gain_blocks = _gain_envelope(need * 1.002, attack, release)
    y = np.interp(np.arange(n), np.arange(len(gain_blocks)) * BLOCK + BLOCK / 2, gain_blocks)
    y *= x                                       # x × its gain
    # Gain changes modulate the signal slightly: a final exact clamp guarantees the limit.
    if amax_fn is not None:
        a = amax_fn(n)
        y = np.clip(y, -a, a)
    else:
        for _ in range(4):
            v = np.gradient(y)
            v *= fs
            over = np.abs(v) > vmax
            if not over.any():
                break
            y = _scale_spans(y, over, vmax / np.maximum(np.abs(v), 1e-12))
    return y, _segments(gain_blocks, fs, cause)


def _ahead(values, k):
    """``values`` moved ``k`` places earlier, zeros after the end (same length)."""
    out = np.zeros_like(values)
    if k < len(values):
        out[:len(values) - k] = values[k:]
    return out


def _scale_spans(y, over, factor):
    """Scale each over-limit sample's neighbourhood (±8 samples) by the worst factor in it, less 0.1 %."""
    f = ndimage.minimum_filter1d(np.where(over, factor, 1.0), 17)
    return y * np.where(f < 1.0, 0.999 * f, 1.0)


def _segments(gain_blocks, fs, cause):
    reduced = gain_blocks < 0.999
    if not reduced.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], reduced.astype(np.int8), [0]])))
    segments = []
    for a, b in zip(edges[::2], edges[1::2]):
        db = float(-20 * np.log10(gain_blocks[a:b].min()))
        segments.append((a * BLOCK / fs, b * BLOCK / fs, round(db, 2), cause))
    return _merge(segments, gap_s=0.25)


def _merge(segments, gap_s):
    merged = []
    for seg in segments:
        if merged and seg[0] - merged[-1][1] < gap_s:
            a, _, d, c = merged[-1]
            merged[-1] = (a, seg[1], max(d, seg[2]), c)
        else:
            merged.append(seg)
    return merged


@numba.njit(cache=True)
def _block_envelope(values, block):
    n = len(values)
    nb = (n + block - 1) // block
    out = np.zeros(nb)
    for b in range(nb):
        m = 0.0
        for i in range(b * block, min(n, (b + 1) * block)):
            if values[i] > m:
                m = values[i]
        out[b] = m
    return out


@numba.njit(cache=True)
def _gain_envelope(need, attack, release):
    """Gain per block: ≤ 1/need everywhere, reached ``attack`` blocks early, released exponentially."""
    nb = len(need)
    target = np.ones(nb)
    for b in range(nb):
        if need[b] > 1.0:
            g = 1.0 / need[b]
            for k in range(max(0, b - attack), b + 1):   # look ahead: start turning down early
                if g < target[k]:
                    target[k] = g
    gain = np.ones(nb)
    g = 1.0
    for b in range(nb):
        if target[b] < g:
            g = target[b]
        else:
            g = target[b] + (g - target[b]) * release
        gain[b] = g
    return gain


def _assemble(r_program_start, program_r, n_rev, inner_m, lead_in_start_m, end_pitch_m):
    """Lead-in spiral + programme + lead-out spiral + locked groove, padded to whole turns.

    The lead-out widens from the programme's last pitch to :data:`LEAD_OUT_PITCH_M` over one turn,
    runs at that pitch, and eases to zero pitch over its last half turn into the locked circle.
    """
    lead_in = int(round(LEAD_IN_TURNS * n_rev))
    t = np.arange(lead_in) / lead_in
    lead_in_r = lead_in_start_m - (lead_in_start_m - r_program_start) * t
    r_end = program_r[-1]
    descent = min(inner_m, r_end) - LOCKED_GROOVE_INSET_M
    descent = r_end - descent
    big = LEAD_OUT_PITCH_M
    body_turns = max(0.0, (descent - (end_pitch_m + big) / 2 - big / 4) / big)
    u = np.arange(1, int(round((1.5 + body_turns) * n_rev)) + 1) / n_rev     # turns into the lead-out
    pitch = np.where(u < 1, end_pitch_m + (big - end_pitch_m) * u, big)
    taper_from = 1 + body_turns
    pitch *= np.where(u > taper_from, np.cos(np.pi * np.clip(u - taper_from, 0, 0.5)) ** 2, 1.0)
    lead_out_r = r_end - np.cumsum(pitch) / n_rev
    total = lead_in + len(program_r) + len(lead_out_r) + n_rev
    total += (-total) % n_rev
    locked = np.full(total - lead_in - len(program_r) - len(lead_out_r), lead_out_r[-1])
    return np.concatenate([lead_in_r, program_r, lead_out_r, locked]), total - len(locked)


def _fade_out(audio: Audio, fade_s: float = 0.05) -> Audio:
    n = min(len(audio), int(fade_s * audio.sample_rate))
    samples = audio.samples.copy()
    ramp = np.linspace(1, 0, n, dtype=np.float32)
    samples[-n:] *= ramp if samples.ndim == 1 else ramp[:, None]
    return Audio(samples, audio.sample_rate)


def _check(name, value, *, hi=None) -> float:
    """``value`` as a float if it lies in :attr:`Lathe.LIMITS` ``[name]`` (and at most ``hi``), else a
    :class:`GrooveError` naming it."""
    lo, top, unit = Lathe.LIMITS[name]
    return check_number(name, value, lo, top if hi is None else min(top, hi), unit, error=GrooveError)


def _mmss(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"
