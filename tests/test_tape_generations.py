"""Generation loss on one deck: S/N falls by 10·log10(n), treble falls, flutter grows."""

import numpy as np
import pytest

from izdat.tape import TapeDeck
from izdat.tape.meter import frequency_response, measure_wow_flutter, noise_floor_dbfs

GENERATIONS = (1, 2, 4, 8)


@pytest.fixture(scope="module")
def copies():
    deck = TapeDeck("elektronika-302", seed=0)
    return {n: {"noise": noise_floor_dbfs(deck, n, duration_s=3.0),
                "upper_hz": frequency_response(deck, n)["upper_hz"],
                # a W&F reading fluctuates from machine to machine: average two serial numbers
                "wf": np.mean([measure_wow_flutter(TapeDeck("elektronika-302", seed=s), n,
                                                   duration_s=20.0)["weighted"] for s in (0, 1)])}
            for n in GENERATIONS}


@pytest.mark.parametrize("n", [2, 4, 8])
def test_snr_falls_by_ten_log_n(copies, n):
    """A-weighted noise of the n-th copy is 10·log10(n) dB above the first's, ±2 dB."""
    rise = copies[n]["noise"]["A"] - copies[1]["noise"]["A"]
    assert rise == pytest.approx(10 * np.log10(n), abs=2.0)


def test_upper_limit_falls_monotonically(copies):
    uppers = [copies[n]["upper_hz"] for n in GENERATIONS]
    assert all(a > b for a, b in zip(uppers, uppers[1:])), uppers


def test_wow_and_flutter_grows(copies):
    wf = [copies[n]["wf"] for n in GENERATIONS]
    assert all(a < b for a, b in zip(wf, wf[1:])), wf
    assert wf[-1] > 1.5 * wf[0]
