"""Bulk erasure: a degausser's decaying AC field against the coercivities of the tape's particles.

A bulk eraser (or the customs officer's demagnetiser) sweeps the tape with an AC field of peak
``H`` that decays slowly to zero. Every particle whose switching field is below ``H`` ends up in a
random state, so its contribution to the recorded signal is erased; particles harder than ``H`` keep
their magnetisation. With a log-normal switching-field distribution (median = the coercivity
``Hc``, spread σ) the surviving fraction is ``s = 1 − Φ(ln(H/Hc)/σ)``.

The survivors are not a scaled copy of the recording: the hardest particles were switched only
where the recording field was strongest, so the remnant keeps the loud parts and loses the quiet
ones — a dead-zone (crossover) distortion — plus the modulation noise of the few survivors. That
is the faint, distorted Okudzhava Frumkin could still hear under the customs officers' erasure.

References: Bertram, *Theory of Magnetic Recording* (1994) §9 (switching-field distributions);
coercivity of γ-Fe2O3 audio tape ≈ 24 kA/m (300 Oe), Mee & Daniel (1996).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from izdat.tape.deck import Tape, TapeError

__all__ = ["erase", "surviving_fraction", "COERCIVITY_KA_M"]

#: Coercivity of the tape formulations, kA/m (Fe2O3 ≈ 300 Oe; CrO2 ≈ 500 Oe).
COERCIVITY_KA_M = {"Fe2O3": 24.0, "CrO2": 40.0}
#: Log-normal spread of the switching fields (σ of ln H), dimensionless — an assumption giving
#: −20 dB at H = 1.6·Hc and about −75 dB at H = 4·Hc, like a hand-held bulk eraser.
SWITCHING_SPREAD = 0.30


def surviving_fraction(field_ka_m: float, coercivity_ka_m: float = 24.0) -> float:
    """Fraction (0…1) of the recorded magnetisation left after a field of ``field_ka_m`` kA/m."""
    if field_ka_m <= 0:
        return 1.0
    return float(1.0 - ndtr(np.log(field_ka_m / coercivity_ka_m) / SWITCHING_SPREAD))


def erase(tape: Tape, *, field_ka_m: float, seed: int = 0) -> Tape:
    """The tape after a bulk eraser of peak AC field ``field_ka_m`` (kA/m, 0 … 2000).

    Returns a new :class:`Tape`; a strong field leaves only the tape's own noise, a weak one a
    faint remnant with crossover distortion.
    """
    if not isinstance(tape, Tape):
        raise TapeError(f"erase needs a Tape, not {type(tape).__name__}")
    try:
        field = float(field_ka_m)
    except (TypeError, ValueError):
        raise TapeError(f"field_ka_m must be a number, not {field_ka_m!r}") from None
    if not np.isfinite(field) or not 0 <= field <= 2000:
        raise TapeError(f"field_ka_m must be between 0 and 2000 kA/m, not {field_ka_m!r}")
    from izdat.tape.formulations import TAPES
    hc = (TAPES[tape.stock].coercivity_ka_m if tape.stock in TAPES   # the stock's own coercivity
          else COERCIVITY_KA_M.get(tape.formulation.split()[0], 24.0))
    s = surviving_fraction(field, hc)
    m = tape.magnetisation.astype(np.float32)
    peak = float(np.max(np.abs(m))) or 1.0
    # dead zone: parts of the recording below the surviving threshold are gone
    threshold = np.float32((1.0 - s) * 0.5 * peak)
    kept = np.sign(m) * np.maximum(np.abs(m) - threshold, 0.0)
    rng = np.random.default_rng([int(seed), 0xE7A5E])
    # modulation noise of the few survivors: relative ±1/√(particles) ≈ 10 % of what is left
    noise = rng.standard_normal(m.shape).astype(np.float32) * np.float32(0.1)
    remnant = (s * kept * (1.0 + noise)).astype(np.float32)
    # the erased particles settle randomly: a fresh, bulk-erased noise floor (the tape's hiss)
    floor = np.float32(10 ** (-66 / 20)) * rng.standard_normal(m.shape).astype(np.float32)
    return tape.replace(magnetisation=remnant + floor,
                        history=tape.history + (f"bulk-erased at {field:g} kA/m",))
