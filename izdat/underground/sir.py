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

__all__ = ["read_edges", "sir_final_sizes"]


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
