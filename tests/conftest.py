"""Shared test signals."""

import numpy as np
import pytest

from izdat.audio import Audio

RATE = 44100


def sine(freq_hz: float, seconds: float, *, amplitude: float = 0.5, rate: int = RATE) -> Audio:
    t = np.arange(int(seconds * rate)) / rate
    return Audio(amplitude * np.sin(2 * np.pi * freq_hz * t), rate)


@pytest.fixture
def tone():
    return sine(1000, 2.0)
