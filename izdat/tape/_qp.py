"""Quasi-peak detector kernel (Numba): the one recursive loop of the meter."""

import numba
import numpy as np


@numba.njit(cache=True)
def quasi_peak(x, attack, release):
    """Rectified input ``x`` → detector output: rises with coefficient ``attack``, decays with
    ``release`` (both e^(−T/τ))."""
    y = np.empty_like(x)
    v = 0.0
    for i in range(x.size):
        if x[i] > v:
            v = x[i] + attack * (v - x[i])
        else:
            v = release * v
        y[i] = v
    return y
