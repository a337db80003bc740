"""Fit each preset's three calibration constants so the meter meets its published figures.

    python -m izdat.tape.calibrate            # prints the fitted constants for presets.py

Like a factory alignment: head-to-tape spacing is set for the published upper −3 dB limit, the
flutter scale for the published wow & flutter, the tape-noise level for the published S/N
(unweighted). Everything else in the preset is a physical dimension chosen beforehand. The fitted
numbers are then written into presets.py by hand; tests/test_tape_presets.py re-measures them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from izdat.tape.deck import TapeDeck
from izdat.tape.meter import frequency_response, measure_wow_flutter, snr_db
from izdat.tape.presets import PRESETS, DeckPreset


def fit(preset: DeckPreset) -> DeckPreset:
    """The preset with spacing, flutter scale and hiss fitted to its published figures."""
    p = preset
    # spacing: bisection on log spacing (upper limit falls monotonically as spacing grows)
    lo, hi = np.log(0.02e-6), np.log(5e-6)
    for _ in range(18):
        mid = 0.5 * (lo + hi)
        up = frequency_response(TapeDeck(dataclasses.replace(p, spacing_m=float(np.exp(mid)))))["upper_hz"]
        lo, hi = (mid, hi) if up > p.upper_hz else (lo, mid)
    p = dataclasses.replace(p, spacing_m=float(np.exp(0.5 * (lo + hi))))
    for _ in range(3):
        wf = measure_wow_flutter(TapeDeck(p))["weighted"]
        p = dataclasses.replace(p, flutter_scale_pct=p.flutter_scale_pct * p.wow_flutter_pct / wf)
    for _ in range(4):
        sn = snr_db(TapeDeck(p))["unweighted"]
        p = dataclasses.replace(p, hiss_db=p.hiss_db + (sn - p.snr_db))
    return p


def main() -> None:
    for name, preset in PRESETS.items():
        p = fit(preset)
        print(f"{name}: spacing_m={p.spacing_m * 1e6:.4f}e-6, flutter_scale_pct={p.flutter_scale_pct:.4f}, "
              f"hiss_db={p.hiss_db:.2f}", flush=True)


if __name__ == "__main__":
    main()
