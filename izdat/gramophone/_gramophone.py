"""The Gramophone machine: configured once, then played on records and groove paths."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

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

    def __init__(self, *, stylus_um: float | str = "78", pickup: str = "electric", speed_error_pct: float = 0.0,
                 rumble_db: float | None = -35.0, warp_mm: float = 1.0, material: str | _surface.Material = "xray",
                 plays: int = 0, hole_offset_mm: float = 2.0, hole_angle_deg: float | None = None,
                 scratches: int = 2, seed: int = 0, sample_rate: float = 44_100.0):
        if isinstance(stylus_um, str):
            if stylus_um not in STYLI_UM:
                raise GrooveError(f"unknown stylus {stylus_um!r}; give a tip radius in µm or one of {', '.join(STYLI_UM)}")
            stylus_um = STYLI_UM[stylus_um]
        _check("stylus_um", stylus_um, 5, 150, "µm")
        if pickup not in _pickup.PICKUPS:
            raise GrooveError(f"unknown pickup {pickup!r}; choose one of {', '.join(_pickup.PICKUPS)}")
        _check("speed_error_pct", speed_error_pct, -10, 10, "%")
        if rumble_db is not None:
            _check("rumble_db", rumble_db, -120, 0, "dB")
        _check("warp_mm", warp_mm, 0, 10, "mm")
        _check_int("plays", plays, 0, 1000)
        _check("hole_offset_mm", hole_offset_mm, 0, 20, "mm")
        if hole_angle_deg is not None:
            _check("hole_angle_deg", hole_angle_deg, -360, 360, "degrees")
        _check_int("scratches", scratches, 0, 50)
        _check_int("seed", seed, 0, 2**63 - 1)
        _check("sample_rate", sample_rate, 8000, 192_000, "Hz")
        self.stylus_um = float(stylus_um)
        self.pickup = pickup
        self.speed_error_pct = float(speed_error_pct)
        self.rumble_db = None if rumble_db is None else float(rumble_db)
        self.warp_mm = float(warp_mm)
        self.material = _surface.material(material)
        self.plays = int(plays)
        self.hole_offset_mm = float(hole_offset_mm)
        self.hole_angle_deg = None if hole_angle_deg is None else float(hole_angle_deg)
        self.scratches = int(scratches)
        self.seed = int(seed)
        self.sample_rate = float(sample_rate)

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
        seed = self.seed if seed is None else seed
        _check_int("seed", seed, 0, 2**63 - 1)
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


def _check(name, value, lo, hi, unit):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or not lo <= value <= hi:
        raise GrooveError(f"{name} must be between {lo:g} and {hi:g} {unit}, not {value!r}")


def _check_int(name, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise GrooveError(f"{name} must be a whole number from {lo} to {hi}, not {value!r}")
