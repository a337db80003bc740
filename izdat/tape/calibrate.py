"""Fit each preset's three calibration constants so the meter meets its published figures.

    python -m izdat.tape.calibrate [NAME ...]   # prints the fitted constants for presets.py

Like a factory alignment: the record equaliser's treble boost (``boost_db``, the peak gain of its
resonance at ``boost_hz``) is set for the published upper −3 dB limit, the flutter scale for the
published wow & flutter, the tape-noise level for the published S/N (unweighted). Everything else
in the preset is a physical dimension chosen beforehand — among them the playback head's spacing,
gap and the recorded depth, and the reproduce amplifier's bandwidth, which together set the shape
of the hiss after playback. The fitted numbers are then written into presets.py by hand;
tests/test_tape_presets.py re-measures them.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from izdat.tape.deck import TapeDeck
from izdat.tape.meter import frequency_response, measure_wow_flutter, snr_db
from izdat.tape.presets import PRESETS, DeckPreset

#: Bounds of the record treble boost, dB: none at all up to what a record amplifier's LC
#: resonance gives before it drives the head into saturation at the top of the range.
BOOST_DB_BOUNDS = (0.0, 20.0)


def fit(preset: DeckPreset) -> DeckPreset:
    """The preset with record boost, flutter scale and hiss fitted to its published figures."""
    p = preset
    # record boost: bisection (the upper limit rises monotonically with the boost)
    lo, hi = BOOST_DB_BOUNDS
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        up = frequency_response(TapeDeck(dataclasses.replace(p, boost_db=mid)))["upper_hz"]
        lo, hi = (mid, hi) if up < p.upper_hz else (lo, mid)
    p = dataclasses.replace(p, boost_db=round(0.5 * (lo + hi), 2))
    for _ in range(3):
        wf = measure_wow_flutter(TapeDeck(p))["quasi_peak"]   # published figures are quasi-peak readings
        p = dataclasses.replace(p, flutter_scale_pct=p.flutter_scale_pct * p.wow_flutter_pct / wf)
    for _ in range(4):
        sn = snr_db(TapeDeck(p))["unweighted"]
        p = dataclasses.replace(p, hiss_db=p.hiss_db + (sn - p.snr_db))
    return p


def main(names: list[str] | None = None) -> None:
    for name in names or list(PRESETS):
        p = fit(PRESETS[name])
        print(f"{name}: boost_db={p.boost_db:.2f}, flutter_scale_pct={p.flutter_scale_pct:.4f}, "
              f"hiss_db={p.hiss_db:.2f}", flush=True)




def fit_zone_scale(name: str, deck: str = "elektronika-302", against: str = "tdk-ad") -> float:
    """The ``zone_scale`` of tape ``name`` (re ``against``, whose own is kept) that gives its data-sheet
    SOL10k difference against ``against``, measured on ``deck`` aligned for ``against`` (bisection
    in log scale over 0.25 … 4; the SOL falls monotonically as the recording zone grows).

        python -m izdat.tape.calibrate --tapes    # prints the fitted zone scales for formulations.py
    """
    from izdat.tape.formulations import TAPES
    from izdat.tape.service import sol_db
    t, ref = TAPES[name], TAPES[against]
    p = dataclasses.replace(PRESETS[deck], tape=against)
    target = t.sol_db - ref.sol_db
    sol_ref = sol_db(TapeDeck(p, tape=ref))
    lo, hi = np.log(0.25), np.log(4.0)
    for _ in range(12):
        mid = 0.5 * (lo + hi)
        got = sol_db(TapeDeck(p, tape=dataclasses.replace(t, zone_scale=ref.zone_scale * np.exp(mid)))) - sol_ref
        lo, hi = (mid, hi) if got > target else (lo, mid)
    return float(ref.zone_scale * np.exp(0.5 * (lo + hi)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--tapes"]:
        for tape in ("a4409-6b", "chrome"):
            print(f"{tape}: zone_scale={fit_zone_scale(tape):.3f}", flush=True)
    else:
        main(sys.argv[1:])
