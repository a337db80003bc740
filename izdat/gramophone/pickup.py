"""The pickup: how the stylus's motion becomes sound.

Models
------
electric
    A magnetic (moving-iron) pickup of the 1940s–50s: output ∝ stylus *velocity*, flat between the
    arm resonance (handled by :func:`izdat.gramophone.turntable.arm_relative`) and the tip-mass
    resonance, where the moving mass meets the groove's compliance (≈ 5 kHz, Q ≈ 2: a +6 dB peak),
    falling at 12 dB/octave above it. The amplifier applies the record's playback curve
    (:meth:`izdat.groove.Equalisation.playback_sos`), so the result is the programme as cut.
acoustic
    Soundbox and horn: the needle drives a mica diaphragm through a lever; the horn radiates its
    velocity. No equaliser: bass below the recording turnover stays thin. The exponential horn of
    a portable cannot radiate below its flare cut-off (≈ 300 Hz, 4th-order high-pass), the
    diaphragm-and-stylus-bar resonance gives the bright "honk" near 2.5 kHz (Q ≈ 2.5), and the
    moving mass cuts everything above ≈ 4 kHz (4th order).

Both are normalised to unit gain at 1 kHz, the reference frequency of the recording curves.

References
----------
- A. G. Webster, "Acoustical impedance, and the theory of horns and of the phonograph",
  Proc. Natl. Acad. Sci. 5, 275–282 (1919): the horn equation and its flare cut-off.
- J. P. Maxfield and H. C. Harrison, "Methods of high quality recording and reproducing of music
  and speech based on telephone research", Bell System Tech. J. 5, 493–523 (1926): the
  Orthophonic (100 Hz–5 kHz, a large horn); portables reach a few hundred Hz to ~4 kHz (the issue).
- H. F. Olson, *Acoustical Engineering* (Van Nostrand, 1957), ch. 13 (phonograph pickups):
  velocity response, tip-mass resonance.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from izdat.errors import GrooveError
from izdat.groove import REFERENCE_HZ, Equalisation

__all__ = ["PICKUPS", "pickup_sos"]

PICKUPS = ("electric", "acoustic")
#: Electric pickup: tip-mass resonance (Hz) and Q.
ELECTRIC_RESONANCE_HZ = 5000.0
ELECTRIC_Q = 2.0
#: Acoustic soundbox and horn: flare cut-off (Hz), diaphragm resonance (Hz) and Q, upper limit (Hz).
HORN_CUTOFF_HZ = 300.0
DIAPHRAGM_HZ = 2500.0
DIAPHRAGM_Q = 2.5
SOUNDBOX_TOP_HZ = 4000.0


def pickup_sos(kind: str, eq: Equalisation, sample_rate: float) -> np.ndarray:
    """Digital filter: lateral stylus displacement (m) → sound (unit gain for 1 m/s at 1 kHz).

    Parameters
    ----------
    kind : {"electric", "acoustic"}
        The pickup.
    eq : Equalisation
        The record's recording curve, undone by the electric pickup's amplifier (ignored by the
        acoustic one).
    sample_rate : float
        Output sample rate (Hz).
    """
    if kind == "electric":
        w0 = 2 * math.pi * ELECTRIC_RESONANCE_HZ
        z, p, k = signal.tf2zpk([w0 * w0], [1.0, w0 / ELECTRIC_Q, w0 * w0])
        res = signal.zpk2sos(*signal.bilinear_zpk(z, p, k, sample_rate))
        res = _unit_at_reference(res, sample_rate)
        return np.vstack([eq.playback_sos(sample_rate), res])
    if kind == "acoustic":
        zeros, poles, gain = [0.0], [], 1.0                        # velocity: d/dt
        hz, hp, hk = signal.butter(4, 2 * math.pi * HORN_CUTOFF_HZ, "highpass", analog=True, output="zpk")
        lz, lp, lk = signal.butter(4, 2 * math.pi * SOUNDBOX_TOP_HZ, "lowpass", analog=True, output="zpk")
        wd = 2 * math.pi * DIAPHRAGM_HZ
        dz, dp, dk = signal.tf2zpk([1.0, wd / 1.0, wd * wd], [1.0, wd / DIAPHRAGM_Q, wd * wd])   # a peak of Q/1
        zeros = np.concatenate([zeros, hz, lz, dz])
        poles = np.concatenate([poles, hp, lp, dp])
        gain = gain * hk * lk * dk
        sos = signal.zpk2sos(*signal.bilinear_zpk(zeros, poles, gain, sample_rate))
        sos = _unit_at_reference(sos, sample_rate)
        sos[0, :3] *= 2 * math.pi * REFERENCE_HZ            # 1 m/s at 1 kHz is 1/(2π·1000) m
        return sos
    raise GrooveError(f"unknown pickup {kind!r}; choose one of {', '.join(PICKUPS)}")


def _unit_at_reference(sos: np.ndarray, sample_rate: float) -> np.ndarray:
    _, h = signal.sosfreqz(sos, worN=[REFERENCE_HZ], fs=sample_rate)
    sos = sos.copy()
    sos[0, :3] /= abs(h[0])
    return sos
