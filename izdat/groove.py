"""Groove physics: recording equalisation curves, pitch units, rpm parsing.

A lateral groove is cut by a stylus swinging sideways (radially) with the audio. The lathe's
cutting head is velocity-driven: the groove's lateral velocity follows the audio shaped by the
*recording characteristic* R(f). The playback side undoes it.

References
----------
- RIAA (1954): time constants 3180, 318, 75 µs (poles/zeros at 50.05, 500.5, 2122 Hz); the 3.18 µs
  "Neumann pole" keeps the cutting curve finite above 50 kHz.
- 78-era curves as bass turnover (Hz) and treble roll-off at 10 kHz (dB): Audacity wiki,
  "78rpm playback curves" (e.g. HMV/Blumlein 250 Hz / 0 dB, Columbia 300 Hz / −5 dB to −10 dB,
  AES 1951 400 Hz / −12 dB, NAB 500 Hz / −16 dB).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy import fft as sp_fft
from scipy import signal

from izdat._check import _typed, check_number
from izdat.errors import GrooveError

__all__ = ["Equalisation", "EQUALISATIONS", "equalisation", "parse_rpm", "lpi_to_um", "um_to_lpi"]

#: Lower edge of what a cutter is asked to cut (Hz): a 2nd-order subsonic high-pass, as on any
#: cutting amplifier, so the groove never drifts with DC or sub-audio content.
SUBSONIC_HZ = 20.0
#: The reference frequency (Hz) at which every curve has unit velocity gain.
REFERENCE_HZ = 1000.0
#: The Neumann pole (s): 3.18 µs, i.e. 50 kHz, bounds the pre-emphasis of every curve.
NEUMANN_POLE_S = 3.18e-6
UM_PER_INCH = 25_400.0


@dataclass(frozen=True)
class Equalisation:
    """A recording characteristic: how the groove's lateral velocity follows the audio.

    Parameters
    ----------
    name : str
        Short name used on the command line.
    turnover_hz : float or None
        Bass turnover: below it the cut is constant-amplitude, above it constant-velocity.
        ``None`` means no turnover (constant velocity down to the subsonic filter).
    rolloff_10khz_db : float
        Treble pre-emphasis, stated as the playback roll-off at 10 kHz (dB, ≤ 0).
    riaa : bool
        The RIAA curve (three time constants) instead of turnover/roll-off.
    displacement : bool
        ``True`` for "none": the groove's displacement *is* the audio, as simple laser-cut
        generators do; no velocity recording at all.
    """

    name: str
    turnover_hz: float | None = None
    rolloff_10khz_db: float = 0.0
    riaa: bool = False
    displacement: bool = False
    note: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise _typed(GrooveError)(f"an equalisation's name must be a string, not {self.name!r}")
        if self.turnover_hz is not None:
            object.__setattr__(self, "turnover_hz", check_number("bass turnover", self.turnover_hz, 20, 2000, "Hz",
                                                                 error=GrooveError))
        object.__setattr__(self, "rolloff_10khz_db", check_number("the 10 kHz roll-off", self.rolloff_10khz_db, -30, 0,
                                                                  "dB", error=GrooveError))
        for flag in ("riaa", "displacement"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise _typed(GrooveError)(f"an equalisation's {flag} must be True or False, not {getattr(self, flag)!r}")

    def velocity_zpk(self):
        """Analog zeros, poles (rad/s) and gain of R(s), the velocity per unit audio, unit gain at 1 kHz."""
        zeros, poles = [], []
        if self.displacement:
            zeros, poles = [0.0], []          # velocity = d/dt audio: displacement follows the audio
        elif self.riaa:
            zeros = [-1 / 3180e-6, -1 / 75e-6]
            poles = [-1 / 318e-6, -1 / NEUMANN_POLE_S]
        else:
            if self.turnover_hz is not None:  # constant amplitude below the turnover
                zeros.append(0.0)
                poles.append(-2 * math.pi * self.turnover_hz)
            if self.rolloff_10khz_db < 0:     # treble boost whose inverse loses the stated dB at 10 kHz
                ratio = 10 ** (-self.rolloff_10khz_db / 20)
                tau = math.sqrt(ratio**2 - 1) / (2 * math.pi * 10_000)
                zeros.append(-1 / tau)
                poles.append(-1 / NEUMANN_POLE_S)
        zeros, poles = np.array(zeros, complex), np.array(poles, complex)
        w = 2j * math.pi * REFERENCE_HZ
        gain = 1 / abs(np.prod(w - zeros) / np.prod(w - poles)) if zeros.size or poles.size else 1.0
        return zeros, poles, gain

    def displacement_sos(self, sample_rate: float) -> np.ndarray:
        """Digital filter (second-order sections): audio → groove displacement (m per unit audio at
        a velocity of 1 m/s at 1 kHz), with the subsonic high-pass included."""
        z, p, k = self.velocity_zpk()
        hz, hp, hk = signal.butter(2, 2 * math.pi * SUBSONIC_HZ, "highpass", analog=True, output="zpk")
        # displacement = velocity / s: one of the high-pass's zeros at DC cancels the integrator.
        z = np.concatenate([z, hz[1:]])
        p = np.concatenate([p, hp])
        return _digital_sos(z, p, k * hk, sample_rate)

    def playback_sos(self, sample_rate: float, *, lowpass_hz: float | None = None) -> np.ndarray:
        """Digital filter: groove displacement → audio (the inverse of :meth:`displacement_sos`
        without the subsonic filter), band-limited by a 2nd-order low-pass at ``lowpass_hz``
        (default 0.4 × sample rate, at most 20 kHz). For streaming; :meth:`to_audio` is exact."""
        return _digital_sos(*self._playback_zpk(sample_rate, lowpass_hz), sample_rate)

    def to_displacement(self, audio: np.ndarray, sample_rate: float) -> np.ndarray:
        """Groove displacement (m per unit velocity gain) for ``audio``, exactly as the analog curve
        cuts it (with the subsonic filter): applied in the frequency domain, so no turnover is warped."""
        z, p, k = self.velocity_zpk()
        hz, hp, hk = signal.butter(2, 2 * math.pi * SUBSONIC_HZ, "highpass", analog=True, output="zpk")
        return _apply_analog(audio, sample_rate, *_cancel_dc(np.concatenate([z, hz[1:]]), np.concatenate([p, hp])), k * hk)

    def to_audio(self, displacement: np.ndarray, sample_rate: float, *, lowpass_hz: float | None = None) -> np.ndarray:
        """Audio from a groove displacement: the exact inverse of :meth:`to_displacement` (without
        its subsonic filter, with a 10 Hz high-pass), band-limited like :meth:`playback_sos`."""
        z, p, k = self._playback_zpk(sample_rate, lowpass_hz)
        return _apply_analog(displacement, sample_rate, z, p, k)

    def _playback_zpk(self, sample_rate, lowpass_hz):
        z, p, k = self.velocity_zpk()
        lp = min(20_000.0, 0.4 * sample_rate) if lowpass_hz is None else lowpass_hz
        lz, lpp, lk = signal.butter(2, 2 * math.pi * lp, "lowpass", analog=True, output="zpk")
        hz, hp, hk = signal.butter(1, 2 * math.pi * 10.0, "highpass", analog=True, output="zpk")
        # audio = s·x / R(s): swap zeros and poles of R, and add a zero at DC for the derivative.
        zeros, poles = _cancel_dc(np.concatenate([p, [0.0], hz]), np.concatenate([z, lpp, hp]))
        return zeros, poles, lk * hk / k

    def as_dict(self) -> dict:
        return {"name": self.name, "turnover_hz": self.turnover_hz, "rolloff_10khz_db": self.rolloff_10khz_db,
                "riaa": self.riaa, "displacement": self.displacement, "reference_hz": REFERENCE_HZ,
                "subsonic_hz": SUBSONIC_HZ, "note": self.note}


def _apply_analog(x, sample_rate, z, p, k):
    """Filter ``x`` by the analog response k·Π(jω − z)/Π(jω − p), exactly, in the frequency domain.

    The signal is padded by a second of zeros (at least) so the filters' tails do not wrap around.
    """
    x = np.asarray(x, np.float64)
    n = len(x)
    size = sp_fft.next_fast_len(n + max(int(sample_rate), n // 8), real=True)
    spectrum = sp_fft.rfft(x, size, workers=-1)
    for a in range(0, len(spectrum), 1 << 16):     # the response a block of bins at a time: little memory
        jw = 2j * math.pi * (np.arange(a, min(a + (1 << 16), len(spectrum))) * (sample_rate / size))
        h = np.full(jw.shape, k, complex)
        for zero in z:
            h *= jw - zero
        for pole in p:
            h /= jw - pole
        spectrum[a:a + len(h)] *= h
    return sp_fft.irfft(spectrum, size, workers=-1)[:n]


def _cancel_dc(zeros, poles):
    """Cancel pairs of zeros and poles at DC (an integrator met by a differentiator)."""
    zeros, poles = list(zeros), list(poles)
    while any(abs(z) < 1e-9 for z in zeros) and any(abs(p) < 1e-9 for p in poles):
        zeros.pop(next(i for i, z in enumerate(zeros) if abs(z) < 1e-9))
        poles.pop(next(i for i, p in enumerate(poles) if abs(p) < 1e-9))
    return np.array(zeros, complex), np.array(poles, complex)


def _digital_sos(z, p, k, sample_rate):
    """Bilinear transform with each real corner pre-warped, so every turnover lands on its frequency.

    Corners above 0.45 × the sample rate (the 50 kHz Neumann pole at 44.1 kHz) cannot be placed and
    are left out; the gain is then matched to the analog curve at the reference frequency.
    Between the corners the digital curve still departs a little from the analog one near
    Nyquist (RIAA at 10 kHz: 0.1 dB at 44.1 kHz).
    """
    z, p = _cancel_dc(z, p)
    nyquist_w = 2 * math.pi * 0.45 * sample_rate
    def warp(roots):
        return np.array([r if r == 0 else r * 2 * sample_rate * math.tan(abs(r) / (2 * sample_rate)) / abs(r)
                         for r in roots if abs(r) < nyquist_w], complex)

    dz, dp, dk = signal.bilinear_zpk(warp(z), warp(p), 1.0, sample_rate)
    sos = signal.zpk2sos(dz, dp, dk)
    w = 2j * math.pi * REFERENCE_HZ
    analog = abs(k * np.prod(w - z) / np.prod(w - p))
    _, digital = signal.sosfreqz(sos, worN=[REFERENCE_HZ], fs=sample_rate)
    sos[0, :3] *= analog / abs(digital[0])
    return sos


EQUALISATIONS: dict[str, Equalisation] = {e.name: e for e in [
    Equalisation("blumlein", 250.0, 0.0,
                 note="HMV/Blumlein constant-velocity cut with a 250 Hz turnover and no treble boost "
                      "(Audacity wiki, 78rpm playback curves): the pre-war European practice of the "
                      "cutters the stilyagi copied, and the default for bone records (see docs/lathe.md)."),
    Equalisation("columbia", 300.0, -10.0, note="Columbia 78 (1938–): 300 Hz turnover, −10 dB at 10 kHz."),
    Equalisation("aes", 400.0, -12.0, note="AES 1951: 400 Hz turnover, −12 dB at 10 kHz."),
    Equalisation("nab", 500.0, -16.0, note="NAB/NARTB 1949: 500 Hz turnover, −16 dB at 10 kHz."),
    Equalisation("riaa", riaa=True, note="RIAA 1954: 3180/318/75 µs, with the 3.18 µs Neumann pole."),
    Equalisation("none", displacement=True,
                 note="Displacement follows the audio (constant amplitude), as simple laser-cut generators do."),
]}


def equalisation(name: str, *, turnover_hz: float | None = None, rolloff_10khz_db: float | None = None) -> Equalisation:
    """The named curve, with the 78-era parameters overridden if given.

    ``name`` may be any key of :data:`EQUALISATIONS`, or ``"78"`` for a custom 78-era curve built
    from ``turnover_hz`` (default 250) and ``rolloff_10khz_db`` (default 0).
    """
    if not isinstance(name, str):
        raise _typed(GrooveError)(f"an equalisation is named by a string ({', '.join([*EQUALISATIONS, '78'])}), "
                                  f"not {name!r}")
    key = name.strip().lower()
    if key == "78":
        base = Equalisation("78", 250.0, 0.0, note="A 78-era curve with the stated turnover and roll-off.")
    elif key in EQUALISATIONS:
        base = EQUALISATIONS[key]
    else:
        raise GrooveError(f"unknown equalisation {name!r}; choose one of {', '.join([*EQUALISATIONS, '78'])}")
    if turnover_hz is None and rolloff_10khz_db is None:
        return base
    if base.riaa or base.displacement:
        raise GrooveError(f"the {base.name} curve has no turnover or roll-off to set; use a 78-era curve")
    return Equalisation(base.name if base.name == "78" else f"{base.name}-custom",
                        base.turnover_hz if turnover_hz is None else turnover_hz,
                        base.rolloff_10khz_db if rolloff_10khz_db is None else rolloff_10khz_db,
                        note=base.note)


def parse_rpm(value: str | float) -> float:
    """Turntable speed in revolutions per minute from ``78``, ``45``, ``33⅓``, ``33 1/3``, ``33.3`` …"""
    if isinstance(value, (int, float)):
        rpm = float(value)
    else:
        text = value.strip().replace(",", ".")
        if re.fullmatch(r"33(\s*⅓|\s+1/3|\.3+)", text) or text == "100/3":
            rpm = 100 / 3
        else:
            try:
                rpm = float(text)
            except ValueError:
                raise GrooveError(f"cannot read the speed {value!r} as revolutions per minute (e.g. 78, 45, 33⅓)") from None
    if not math.isfinite(rpm) or not 5 <= rpm <= 200:
        raise GrooveError(f"rpm must be between 5 and 200 revolutions per minute, not {value!r}")
    return rpm


def lpi_to_um(lines_per_inch: float) -> float:
    """Groove pitch in µm from lines (turns) per inch."""
    return UM_PER_INCH / lines_per_inch


def um_to_lpi(pitch_um: float) -> float:
    """Groove pitch in lines (turns) per inch from µm."""
    return UM_PER_INCH / pitch_um
