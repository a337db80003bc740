"""The groove a gramophone plays: a small value both the lathe and the optical reader can hand over."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from izdat._check import _typed, check_number
from izdat.errors import GrooveError
from izdat.groove import Equalisation, equalisation

__all__ = ["GroovePath"]


@dataclass(frozen=True, eq=False)
class GroovePath:
    """A lateral groove as a stylus meets it: modulation and spiral, sample by sample.

    Sample ``i`` lies at groove angle ``angle0_rad + 2π·i / samples_per_rev`` around the spiral
    centre, the angle growing along the groove (the way the stylus travels).

    Parameters
    ----------
    displacement_m : ndarray of float
        Lateral (radial) modulation of the groove centre line at each groove sample (m).
    radius_m : ndarray of float
        Radius of the unmodulated spiral at each groove sample (m), same length; it only needs to
        be smooth (it sets the groove speed, the groove length per sample and the wow).
    samples_per_rev : int
        Groove samples in one revolution (≥ 64).
    rpm : float
        Speed the groove was cut at (rev/min), 5–200.
    eq : Equalisation or str
        Recording characteristic an electric playback amplifier undoes; default ``"blumlein"``.
    gain_m_s : float or None
        Groove velocity (m/s at 1 kHz) of a full-scale (±1) signal, as
        :attr:`izdat.lathe.Record.gain_m`; ``None`` (a groove read from a picture with no
        ``record.json``) scales the output to a peak of 0.9.
    groove_width_m : float
        Width of the groove at the surface (m); default 120 µm. Sets where a scratch crosses each wall.
    angle0_rad : float
        Groove angle of sample 0 (rad) from the groove's start: places the hole and the scratches.

    Examples
    --------
    >>> import numpy as np
    >>> from izdat.gramophone import GroovePath
    >>> spr = 33_923                                   # samples per turn at 78 rpm, 44.1 kHz
    >>> t = np.arange(spr) / (spr * 78 / 60)
    >>> path = GroovePath(20e-6 * np.sin(2 * np.pi * 1000 * t), np.full(spr, 0.1), spr, 78)
    >>> round(path.sample_rate), round(path.duration_s, 3)
    (44100, 0.769)
    """

    displacement_m: np.ndarray
    radius_m: np.ndarray
    samples_per_rev: int
    rpm: float
    eq: Equalisation | str = "blumlein"
    gain_m_s: float | None = None
    groove_width_m: float = 120e-6
    angle0_rad: float = 0.0

    def __post_init__(self):
        x = np.asarray(self.displacement_m, dtype=np.float64)
        r = np.asarray(self.radius_m, dtype=np.float64)
        if r.ndim == 0:
            r = np.full(x.shape, float(r))
        if x.ndim != 1 or r.shape != x.shape:
            raise GrooveError(f"displacement_m and radius_m must be 1-D and of one length, not {x.shape} and {r.shape}")
        if len(x) < 16:
            raise GrooveError(f"a groove path needs at least 16 samples, not {len(x)}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(r))):
            raise GrooveError("the groove path holds NaN or infinite values")
        if not (np.all(r > 5e-3) and np.all(r < 0.3)):
            raise GrooveError(f"radius_m must lie between 5 mm and 300 mm, not {r.min() * 1e3:.3g}–{r.max() * 1e3:.3g} mm")
        if isinstance(self.samples_per_rev, bool) or not isinstance(self.samples_per_rev, (int, np.integer)) \
                or not 64 <= self.samples_per_rev <= 10_000_000:
            raise GrooveError(f"samples_per_rev must be a whole number from 64 to 10 million, not {self.samples_per_rev!r}")
        rpm = check_number("rpm", self.rpm, 5, 200, "rev/min", error=GrooveError)
        if self.gain_m_s is not None:
            gain = check_number("gain_m_s", self.gain_m_s, 0, 1e12, "m/s", error=GrooveError)
            if gain < 1e-12:
                raise GrooveError(f"gain_m_s must be a positive groove velocity (m/s, 1e-12 to 1e12), "
                                  f"not {self.gain_m_s!r}")
            object.__setattr__(self, "gain_m_s", gain)
        object.__setattr__(self, "groove_width_m", check_number("groove_width_m", self.groove_width_m, 1e-6, 1e-3,
                                                                "m", error=GrooveError))
        object.__setattr__(self, "angle0_rad", check_number("angle0_rad", self.angle0_rad, -1e9, 1e9, "rad",
                                                            error=GrooveError))
        if not isinstance(self.eq, (str, Equalisation)):
            raise _typed(GrooveError)(f"eq must be a curve's name or an Equalisation, not {self.eq!r}")
        object.__setattr__(self, "displacement_m", x)
        object.__setattr__(self, "radius_m", r)
        object.__setattr__(self, "samples_per_rev", int(self.samples_per_rev))
        object.__setattr__(self, "rpm", rpm)
        if not isinstance(self.eq, Equalisation):
            object.__setattr__(self, "eq", equalisation(self.eq))

    def __len__(self):
        return len(self.displacement_m)

    def __repr__(self):
        return (f"GroovePath({self.duration_s:.1f} s at {self.rpm:.4g} rpm, {self.radius_m[0] * 1e3:.1f}–"
                f"{self.radius_m[-1] * 1e3:.1f} mm, eq={self.eq.name})")

    @property
    def sample_rate(self) -> float:
        """Groove samples per second at the nominal speed (Hz)."""
        return self.samples_per_rev * self.rpm / 60

    @property
    def duration_s(self) -> float:
        """Playing time at the nominal speed (s)."""
        return len(self) / self.sample_rate

    def step_m(self) -> np.ndarray:
        """Groove length between one sample and the next (m): 2π·r / samples_per_rev."""
        return (2 * math.pi / self.samples_per_rev) * self.radius_m

    @classmethod
    def from_record(cls, record, *, span: str = "program") -> "GroovePath":
        """The groove of a :class:`~izdat.lathe.Record`.

        ``span="program"`` takes the music only; ``"groove"`` the whole groove, lead-in to locked
        groove (unmodulated outside the music).
        """
        ps, pe = record.program_start, record.program_end
        x = np.asarray(record.displacement_m, dtype=np.float64)
        if span == "program":
            spiral = record.radius_m[ps:pe] - x
            start = ps
        elif span == "groove":
            full = np.zeros(len(record.radius_m))
            full[ps:pe] = x
            x, spiral, start = full, record.radius_m - full, 0
        else:
            raise GrooveError(f"span must be 'program' or 'groove', not {span!r}")
        return cls(x, spiral, record.samples_per_rev, record.rpm, eq=record.eq, gain_m_s=float(record.gain_m),
                   groove_width_m=record.groove_width_m, angle0_rad=2 * math.pi * start / record.samples_per_rev)

    @classmethod
    def from_groove(cls, groove, *, eq: Equalisation | str | None = None, gain_m_s: float | None = None) -> "GroovePath":
        """The programme of a groove read from a picture (:class:`izdat.optical.Groove`, or anything
        with ``radius_m``, ``samples_per_rev``, ``rpm``, ``program_start`` and ``program_end``).

        ``eq`` and ``gain_m_s`` come from the record's ``record.json`` when there is one (see
        :func:`izdat.optical.read_meta`); without them the curve is "blumlein" and the level is
        normalised.
        """
        spr = int(groove.samples_per_rev)
        ps = int(getattr(groove, "program_start", 0))
        pe = int(getattr(groove, "program_end", len(groove.radius_m)))
        whole = cls.from_radius(np.asarray(groove.radius_m, dtype=np.float64), spr, float(groove.rpm))
        width = getattr(groove, "width_m", None)
        return cls(whole.displacement_m[ps:pe], whole.radius_m[ps:pe], spr, float(groove.rpm),
                   eq=eq if eq is not None else "blumlein", gain_m_s=gain_m_s,
                   groove_width_m=float(width) if width and 1e-6 <= width <= 1e-3 else 120e-6,
                   angle0_rad=2 * math.pi * ps / spr)

    @classmethod
    def from_radius(cls, radius_m, samples_per_rev: int, rpm: float, **settings) -> "GroovePath":
        """A path from the groove centre radius read sample by sample (e.g. from a picture).

        The spiral is the mean radius over one revolution centred on each sample (nothing of the
        music survives a one-turn average: its lowest frequency, rpm/60 Hz, is zeroed); the
        modulation is what is left.
        """
        r = np.asarray(radius_m, dtype=np.float64)
        if r.ndim != 1 or len(r) < 16:
            raise GrooveError("radius_m must be a 1-D array of at least 16 groove samples")
        size = int(min(samples_per_rev, len(r)))
        spiral = ndimage.uniform_filter1d(r, size, mode="nearest")
        return cls(r - spiral, spiral, samples_per_rev, rpm, **settings)
