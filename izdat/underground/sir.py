"""Validation mode: plain discrete-time SIR on an edge list (the model of EoN's ``basic_discrete_SIR``).

Each infected node, in the one step it is infectious, passes the infection along each edge to a
susceptible neighbour with probability ``p`` (so every edge is tried at most once), then recovers.
"""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np

from izdat._check import check_int, check_number
from izdat.underground.errors import SpreadError
from izdat.underground.limits import LIMITS
from izdat.underground.society import _csr_fill

__all__ = ["read_edges", "sir_final_sizes", "core_final_sizes"]


def read_edges(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a whitespace edge list (``u v`` per line, ``#`` comments) into CSR.

    Returns ``(indptr, indices, labels)``: node ``i`` of the CSR is ``labels[i]`` of the file.
    """
    path = Path(path)
    try:
        lines = [ln.split("#", 1)[0] for ln in path.read_text().splitlines()]
    except OSError as exc:
        raise SpreadError(f"cannot read edge list {path}: {exc.strerror or exc}.") from None
    try:
        flat = np.array(" ".join(lines).split(), dtype=np.int64)
    except (ValueError, OverflowError):
        lo, hi = LIMITS["node"]
        raise SpreadError(f"edge list {path} must hold two integer node ids (from {lo} to {hi}) per line.") from None
    if flat.size == 0 or flat.size % 2:
        raise SpreadError(f"edge list {path} must hold two integer node ids per line.")
    labels, inv = np.unique(flat, return_inverse=True)
    a, b = inv[0::2], inv[1::2]
    keep = a != b
    indptr, indices = _csr_fill(a[keep], b[keep], labels.size)
    return indptr, indices, labels


@numba.njit(cache=True)
def _sir_runs(indptr, indices, initial, p, runs, seed):
    np.random.seed(seed)
    n = indptr.size - 1
    stamp = np.full(n, -1, dtype=np.int64)
    sizes = np.empty(runs, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    for r in range(runs):
        head = 0
        tail = 0
        for i in initial:
            if stamp[i] != r:
                stamp[i] = r
                queue[tail] = i
                tail += 1
        while head < tail:
            u = queue[head]
            head += 1
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if stamp[v] != r and np.random.random() < p:
                    stamp[v] = r
                    queue[tail] = v
                    tail += 1
        sizes[r] = tail
    return sizes


def sir_final_sizes(indptr, indices, labels, p: float, initial, runs: int, seed: int = 0) -> np.ndarray:
    """Final sizes (recovered nodes, initial ones included) of ``runs`` SIR epidemics.

    Parameters
    ----------
    indptr, indices, labels : arrays
        The graph from :func:`read_edges`.
    p : float
        Transmission probability per edge, 0-1.
    initial : sequence of int
        Initially infected node labels (as in the file).
    runs : int
        Number of independent runs, 1 to 1,000,000 (:data:`~izdat.underground.limits.LIMITS` ``"sir_runs"``).
    seed : int
        Seed, 0 to 2**63 - 1; the same seed gives the same sizes.

    Notes
    -----
    The breadth-first order is exactly the discrete time steps; final sizes do not depend on
    the order in which an infected node's edges are tried.
    """
    p = check_number("p", p, *LIMITS["probability"], error=SpreadError)
    runs = check_int("runs", runs, *LIMITS["sir_runs"], error=SpreadError)
    seed = check_int("seed", seed, *LIMITS["seed"], error=SpreadError)
    initial = np.asarray([check_int("initial node", i, *LIMITS["node"], error=SpreadError) for i in initial],
                         dtype=np.int64)
    pos = np.searchsorted(labels, initial)
    bad = (pos >= labels.size) | (labels[np.minimum(pos, labels.size - 1)] != initial)
    if initial.size == 0 or bad.any():
        raise SpreadError(f"initial node {initial[bad][0] if bad.any() else '(none)'} is not in the edge list.")
    return _sir_runs(indptr, indices, pos, float(p), int(runs), int(seed))


#: The scenario that reduces the simulation's own engine to plain SIR (see :func:`core_final_sizes`).
_CORE_OFF = {
    "spread": {"delay_days": 0.0, "interest_half_life_years": 1000.0, "dealer_multiplier": 1.0},
    "media": {"lp_life_years": 1000.0, "bone_life_years": 1000.0, "reel_life_years": 1000.0,
              "cassette_life_years": 1000.0, "cutters_per_100k": 0.0, "bone_buyer_share": 0.0,
              "lend_probability": 0.0},
    "sources": {"sailor_per_year": 0.0, "tourist_per_year": 0.0, "radio_per_year": 0.0,
                "lp_seized_at_border": 0.0, "first_lp_city": ""},
    "state": {"bone_hazard_before_ban": 0.0, "bone_hazard_after_ban": 0.0, "tape_hazard": 0.0,
              "customs_erase": 0.0, "arrest_listener": 0.0, "arrest_maker": 0.0, "ring_size": 0,
              "fake_share": 0.0},
    "cities": [{"name": "graph", "population_k": 1.0, "lat": 0.0, "lon": 0.0, "port": False, "hotel": False,
                "border": False}],
}


def core_final_sizes(indptr, indices, p: float, runs: int, seed: int = 0) -> np.ndarray:
    """Final sizes of ``runs`` titles spread by the simulation's own engine as plain SIR.

    The engine of :func:`~izdat.underground.simulate.simulate`, not the separate kernel of
    :func:`sir_final_sizes`, on the graph ``indptr, indices`` (CSR, each tie both ways): everyone
    is a household of their own with a tape recorder from the first day, and everything else is
    off (no bans, patrols, customs, arrests or fakes, no wear in 1000-year lives, no fading interest
    because hand-overs take no time, no cutters, dealers, sailors or lending). Each title starts at
    one person drawn uniformly and passes along each tie once with probability ``p``
    (``[spread] pass_probability``); its final size is its number of copies, the original included.

    Parameters
    ----------
    indptr, indices : arrays
        The graph, e.g. from :func:`read_edges`; no person may have more than 1000 ties
        (``[spread] max_handovers``).
    p : float
        Probability per tie, 0-1.
    runs : int
        Number of titles, 1 to 1,000,000 (:data:`~izdat.underground.limits.LIMITS` ``"sir_runs"``).
    seed : int
        Seed, 0 to 2**63 - 1.

    Returns
    -------
    int64 array (runs,)
    """
    from izdat.underground.scenario import merge_scenario
    from izdat.underground.simulate import C_TITLE, _simulate
    from izdat.underground.society import Society

    p = check_number("p", p, *LIMITS["probability"], error=SpreadError)
    runs = check_int("runs", runs, *LIMITS["sir_runs"], error=SpreadError)
    seed = check_int("seed", seed, *LIMITS["seed"], error=SpreadError)
    indptr = np.asarray(indptr, dtype=np.int64)
    indices = np.asarray(indices, dtype=np.int32)
    n = indptr.size - 1
    deg = np.diff(indptr)
    if n < 1 or deg.max() > 1000:
        raise SpreadError(f"the engine as SIR needs 1 to any number of people with at most 1000 ties each, "
                          f"not {n} people with up to {int(deg.max()) if n else 0} ties.")
    off = {table: dict(values) if isinstance(values, dict) else values for table, values in _CORE_OFF.items()}
    off["spread"].update({"pass_probability": float(p), "max_handovers": int(max(deg.max(), 1))})
    scenario = merge_scenario(off)
    society = Society(city=np.zeros(n, np.int16), household=np.arange(n, dtype=np.int32),
                      role=np.zeros(n, np.int8), gramophone=np.zeros(n, bool), recorder_day=np.zeros(n),
                      deck=np.zeros(n, np.int8), lathe=np.full(n, -1, np.int8), indptr=indptr, indices=indices,
                      city_names=["graph"], city_port=np.zeros(1, bool), city_hotel=np.zeros(1, bool),
                      city_border=np.zeros(1, bool), city_port_km=np.full(1, 2000.0),
                      city_lp_rub=np.full(1, 25.0), city_start=np.array([0, n], dtype=np.int64))
    # every title a bard's tape on the first day, in the one city
    titles = np.column_stack([np.zeros(runs), np.full(runs, 3.0), np.zeros(runs), np.full(runs, -1.0)])
    history = _simulate(society, scenario, seed, 1946, 1946, titles=titles)
    return np.bincount(history.ci[:, C_TITLE], minlength=runs).astype(np.int64)
