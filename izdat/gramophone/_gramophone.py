"""The Gramophone machine: configured once, then played on records and groove paths."""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import signal

from izdat._check import _typed, check_number
from izdat.audio import Audio
from izdat.errors import GrooveError
from izdat.gramophone import pickup as _pickup
from izdat.gramophone import surface as _surface
from izdat.gramophone import turntable as _turntable
from izdat.gramophone.path import GroovePath
from izdat.gramophone.stylus import STYLI_UM, trace

__all__ = ["Gramophone"]

#: Mains motor line (Hz): a 4-pole synchronous motor on 50 Hz mains turns at 1500 rpm, 25 rev/s.
MOTOR_HZ = 25.0


_LIMITS: dict[str, tuple[float, float, str]] = {
    "stylus_um": (5.0, 150.0, "µm"),
    "speed_error_pct": (-10.0, 10.0, "%"),
    "rumble_db": (-120.0, 0.0, "dB"),
    "warp_mm": (0.0, 10.0, "mm"),
    "plays": (0, 1000, ""),
    "hole_offset_mm": (0.0, 20.0, "mm"),
    "hole_angle_deg": (-360.0, 360.0, "degrees"),
    "scratches": (0, 50, ""),
    "seed": (0, 2**63 - 1, ""),
    "sample_rate": (8000.0, 192_000.0, "Hz"),
}
_WHOLE = ("plays", "scratches", "seed")
_OPTIONAL = ("rumble_db", "hole_angle_deg")


def _checked(name: str, value):
    """The Gramophone setting ``name`` checked and in its canonical type, or one :class:`GrooveError`."""
    if name == "stylus_um" and isinstance(value, str):
        if value not in STYLI_UM:
            raise GrooveError(f"unknown stylus {value!r}; give a tip radius in µm or one of {', '.join(STYLI_UM)}")
        value = STYLI_UM[value]
    if name == "pickup":
        if not isinstance(value, str) or value not in _pickup.PICKUPS:
            raise GrooveError(f"unknown pickup {value!r}; choose one of {', '.join(_pickup.PICKUPS)}")
        return value
    if name == "material":
        if not isinstance(value, (str, _surface.Material)):
            raise _typed(GrooveError)(f"material must be a material's name or a Material, not {value!r}")
        return _surface.material(value)
    if name in _OPTIONAL and value is None:
        return None
    lo, hi, unit = _LIMITS[name]
    if name in _WHOLE:
        message = f"{name} must be a whole number from {lo} to {hi}, not {value!r}"
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise _typed(GrooveError)(message)
        if not lo <= value <= hi:
            raise GrooveError(message)
        return int(value)
    return check_number(name, value, lo, hi, unit, error=GrooveError)


def _setting(name: str):
    """Getter and setter of the Gramophone setting ``name`` (checked when set)."""
    def get(self):
        return self._settings[name]

    def set(self, value):
        self._settings[name] = _checked(name, value)
    return get, set


class Gramophone:
    """A gramophone with a steel needle, set up for bone records by default.

    Configure it once, then call it (or :meth:`play`) on a :class:`~izdat.lathe.Record` or a
    :class:`~izdat.gramophone.GroovePath` to hear the groove as that machine would play it.

    Parameters
    ----------
    stylus_um : float or str
        Radius of the spherical tip (µm), 5–150, or a name from :data:`STYLI_UM` ("78" = 64 µm,
        "78-3mil", "78-3.5mil", "microgroove" = 25.4 µm, "stereo"); default "78".
    pickup : {"electric", "acoustic"}
        A magnetic pickup into an amplifier with the record's playback curve, or a soundbox and
        horn; default "electric".
    speed_error_pct : float
        How fast the turntable runs against the record's nominal speed (%), −10…10; default 0.
    rumble_db : float or None
        Rumble as heard through the pickup and its playback curve (dB re the output of 10 cm/s
        peak at 1 kHz, as DIN 45539 measures it with an electric pickup; a horn hears less of it),
        −120…0; default −35 (the unweighted DIN 45500
        minimum, flattering for a 1950s machine); ``None`` for none.
    warp_mm : float
        Peak height of the film's warp (mm), 0–10; default 1.
    material : str or Material
        Record material: "xray" (default), "shellac", "vinyl" or "ideal" (smooth, never wears).
    plays : int
        Times the record was played before (0–1000); default 0 (a new record). Each play smooths
        the groove's treble, turns it down and roughens the surface.
    hole_offset_mm : float
        How far the hole is from the spiral's centre (mm), 0–20; default 2 (a cigarette-burnt hole).
    hole_angle_deg : float or None
        Groove angle of the hole as seen from the spiral centre (degrees from the groove's start);
        default chosen by ``seed``.
    scratches : int
        Straight scratches across the disc (0–50); default 2.
    seed : int
        Seeds roughness, dust, scratches, rumble, warp phases and (by default) the hole's angle.
    sample_rate : float
        Output sample rate (Hz), 8000–192000; default 44100.

    Every setting may be changed later (``gramophone.plays = 10``), checked at once; :attr:`LIMITS`
    holds the ranges.

    Examples
    --------
    >>> import numpy as np, izdat
    >>> from izdat.lathe import Lathe
    >>> from izdat.gramophone import Gramophone
    >>> tone = izdat.Audio(0.5 * np.sin(2 * np.pi * 1000 * np.arange(44100) / 44100), 44100)
    >>> sound = Gramophone(plays=3, seed=1)(Lathe().cut(tone))
    >>> sound.sample_rate, abs(sound.duration_s - 1.0) < 0.01
    (44100.0, True)
    """

    #: Each numeric setting's range: name -> (lowest, highest, unit); ``plays``, ``scratches`` and
    #: ``seed`` are whole numbers, ``rumble_db`` and ``hole_angle_deg`` may also be None.
    LIMITS: dict[str, tuple[float, float, str]] = _LIMITS

    def __init__(self, *, stylus_um: float | str = "78", pickup: str = "electric", speed_error_pct: float = 0.0,
                 rumble_db: float | None = -35.0, warp_mm: float = 1.0, material: str | _surface.Material = "xray",
                 plays: int = 0, hole_offset_mm: float = 2.0, hole_angle_deg: float | None = None,
                 scratches: int = 2, seed: int = 0, sample_rate: float = 44_100.0):
        self._settings = {}
        for name, value in (("stylus_um", stylus_um), ("pickup", pickup), ("speed_error_pct", speed_error_pct),
                            ("rumble_db", rumble_db), ("warp_mm", warp_mm), ("material", material),
                            ("plays", plays), ("hole_offset_mm", hole_offset_mm), ("hole_angle_deg", hole_angle_deg),
                            ("scratches", scratches), ("seed", seed), ("sample_rate", sample_rate)):
            self._settings[name] = _checked(name, value)

    # Every setting is a property checked when it is set; nothing is derived from them ahead of a
    # play, so a gramophone changed after use plays what a new one with those settings plays.
    stylus_um = property(*_setting("stylus_um"), doc="Tip radius (µm), 5–150; set it by value or name.")
    pickup = property(*_setting("pickup"), doc='"electric" or "acoustic".')
    speed_error_pct = property(*_setting("speed_error_pct"), doc="Turntable speed error (%), −10…10.")
    rumble_db = property(*_setting("rumble_db"), doc="Rumble (dB re 10 cm/s at 1 kHz), −120…0, or None.")
    warp_mm = property(*_setting("warp_mm"), doc="Peak warp of the film (mm), 0–10.")
    material = property(*_setting("material"), doc="Record material (a Material; set it by name or value).")
    plays = property(*_setting("plays"), doc="Earlier plays (0–1000).")
    hole_offset_mm = property(*_setting("hole_offset_mm"), doc="Hole off the spiral's centre (mm), 0–20.")
    hole_angle_deg = property(*_setting("hole_angle_deg"), doc="Groove angle of the hole (degrees), −360…360, or None.")
    scratches = property(*_setting("scratches"), doc="Straight scratches (0–50).")
    seed = property(*_setting("seed"), doc="Seed of the surface and the turntable (0 … 2⁶³ − 1).")
    sample_rate = property(*_setting("sample_rate"), doc="Output sample rate (Hz), 8000–192000.")

    def __repr__(self):
        return (f"Gramophone(stylus_um={self.stylus_um:g}, pickup={self.pickup!r}, material={self.material.name!r}, "
                f"plays={self.plays}, hole_offset_mm={self.hole_offset_mm:g}, warp_mm={self.warp_mm:g}, "
                f"speed_error_pct={self.speed_error_pct:g}, rumble_db={self.rumble_db}, scratches={self.scratches}, "
                f"seed={self.seed})")

    def settings(self) -> dict:
        """The settings, in the units of their names (for ``record.json``)."""
        return {"stylus_um": self.stylus_um, "pickup": self.pickup, "speed_error_pct": self.speed_error_pct,
                "rumble_db": self.rumble_db, "warp_mm": self.warp_mm, "material": self.material.as_dict(),
                "plays": self.plays, "hole_offset_mm": self.hole_offset_mm, "hole_angle_deg": self.hole_angle_deg,
                "scratches": self.scratches, "seed": self.seed, "sample_rate_hz": self.sample_rate}

    def __call__(self, groove, *, seed: int | None = None) -> Audio:
        return self.play(groove, seed=seed)

    def play(self, groove, *, seed: int | None = None) -> Audio:
        """Play ``groove`` and return what the pickup delivers.

        Parameters
        ----------
        groove : Record, GroovePath or izdat.optical.Groove
            A cut record (its music is played, lead-in to lead-out excluded), a groove path, or a
            groove read from a picture (its programme; for its curve and level build the path
            with :meth:`GroovePath.from_groove` and the picture's ``record.json``).
        seed : int, optional
            Overrides the machine's seed for this play.

        Returns
        -------
        Audio
            Mono float32 at :attr:`sample_rate`, scaled so a clean play of a record returns the
            level of the audio it was cut from.
        """
        path = groove if isinstance(groove, GroovePath) else _as_path(groove)
        seed = self.seed if seed is None else _checked("seed", seed)
        rng = {k: np.random.default_rng([seed, 0x6A, k]) for k in range(6)}   # one stream per phenomenon
        spr = path.samples_per_rev
        step = path.step_m()
        mat = self.material

        # The groove as this play finds it: worn by earlier plays, rough, dusty, scratched.
        x = _surface.worn(path.displacement_m, step, spr, mat, self.plays)
        outer, inner = _surface.roughness(step, mat, self.plays, rng[0])
        outer += x
        inner += x
        _surface.dust(outer, inner, step, mat, self.plays, rng[1])
        _surface.scratches(outer, inner, path.radius_m, spr, path.angle0_rad, path.groove_width_m,
                           self.scratches, rng[2])
        centre = trace(outer, inner, step, self.stylus_um * 1e-6)
        del outer, inner

        # The turntable: where the stylus is at each instant.
        hole_angle = (math.radians(self.hole_angle_deg) if self.hole_angle_deg is not None
                      else float(rng[3].uniform(0, 2 * math.pi)))
        warp_phase = tuple(rng[3].uniform(0, 2 * math.pi, 2))
        position, level, motion = _turntable.read_positions(
            len(path), spr, path.rpm, path.radius_m, path.angle0_rad, sample_rate=self.sample_rate,
            speed_error=self.speed_error_pct / 100, hole_offset_m=self.hole_offset_mm * 1e-3,
            hole_angle_rad=hole_angle, warp_m=self.warp_mm * 1e-3, warp_phase=warp_phase)
        y = _turntable.read(centre, position)
        y *= level
        del centre, position

        # What moves the stylus against the arm besides the groove: the sway of the off-centre
        # record (the contact point's distance from the spindle, r − e·cos(θ − θ_h)) and rumble.
        pickup_sos = _pickup.pickup_sos(self.pickup, path.eq, self.sample_rate)
        slow_rate = self.sample_rate / _turntable.SLOW
        if self.rumble_db is not None:
            motor = MOTOR_HZ if self.pickup == "electric" else 0.0
            measuring = pickup_sos if self.pickup == "electric" else _pickup.pickup_sos("electric", path.eq, self.sample_rate)
            motion += _turntable.rumble(len(motion), slow_rate, self.rumble_db, motor, rng[4], measuring, self.sample_rate)
        felt = _turntable.arm_relative(motion - motion[0], slow_rate)
        y += np.interp(np.arange(len(y)) * (1.0 / _turntable.SLOW), np.arange(len(felt)), felt)
        y -= y[0]

        sound = signal.sosfilt(pickup_sos, y)
        if path.gain_m_s is not None:
            sound /= path.gain_m_s
        else:
            sound *= 0.9 / max(float(np.max(np.abs(sound))), 1e-30)
        return Audio(sound.astype(np.float32), self.sample_rate)


def _as_path(groove) -> GroovePath:
    from izdat.lathe import Record
    if isinstance(groove, Record):
        return GroovePath.from_record(groove)
    if all(hasattr(groove, a) for a in ("radius_m", "samples_per_rev", "rpm")):   # read from a picture
        return GroovePath.from_groove(groove)
    raise GrooveError(f"a gramophone plays a Record or a GroovePath, not {type(groove).__name__}")
