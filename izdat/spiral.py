"""Where a point lies on a spiral groove stored turn by turn (radii fall with the turn)."""

from __future__ import annotations

import numba


@numba.njit(cache=True, inline="always")
def turn_outside(radii, n_rev, turns, j, r, guess):
    """The last turn whose groove lies outside radius ``r`` at sample ``j`` of a turn: ``radii[k·n_rev + j]``
    is turn k's radius there (any unit, as ``r``). Walks from ``guess`` (a neighbouring pixel's
    answer, almost always right or one turn off)."""
    k = guess
    while k > 0 and radii[k * n_rev + j] < r:
        k -= 1
    while k < turns - 1 and radii[(k + 1) * n_rev + j] >= r:
        k += 1
    return k
