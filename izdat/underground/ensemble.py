"""Ensembles: many seeds of one scenario, locally or on a Dask distributed cluster."""

from __future__ import annotations

import os

import numpy as np

from izdat.underground.errors import SpreadError
from izdat.underground.scenario import Scenario
from izdat.underground.simulate import simulate
from izdat.underground.society import build_society
from izdat.underground.summary import calibration, measures, summarize

__all__ = ["run_one", "run_ensemble", "local_workers", "start_local_cluster", "ENSEMBLE_KEYS"]

ENSEMBLE_KEYS = ("copies", "arrests", "max_generation")


def run_one(people: int, scenario_data: dict, scenario_text: str, seed: int, start_year: int, end_year: int) -> dict:
    """One run's headline figures (a plain function, so it can travel to a Dask worker)."""
    scenario = Scenario(scenario_data, scenario_text)
    society = build_society(people, scenario, seed)
    history = simulate(society, scenario, seed=seed, start_year=start_year, end_year=end_year)
    s = summarize(history, society, scenario)
    out = {k: s[k] for k in ENSEMBLE_KEYS}
    out.update({f"copies_{m}": v for m, v in s["copies_by_medium"].items()})
    out["seed"] = seed
    out["measures"] = measures(history, society, scenario)      # the calibration's figures and yearly curves
    return out


def _run_where(*args) -> tuple[int, dict]:
    """:func:`run_one` and the id of the process that ran it (to show where an ensemble ran)."""
    return os.getpid(), run_one(*args)


def local_workers(runs: int) -> int:
    """Worker processes of a ``"local"`` cluster: one per core, no more than there are runs."""
    return max(1, min(os.cpu_count() or 1, int(runs)))


def start_local_cluster(runs: int):
    """A local Dask cluster of :func:`local_workers` single-threaded worker processes (what
    ``--cluster local`` starts); the caller closes it."""
    try:
        from distributed import LocalCluster
    except ImportError:
        raise SpreadError("--cluster needs dask distributed: pip install 'dask[distributed]'.") from None
    return LocalCluster(n_workers=local_workers(runs), threads_per_worker=1, processes=True, dashboard_address=None)


def run_ensemble(people: int, scenario: Scenario, seeds, start_year: int, end_year: int,
                 cluster: str | None = None) -> dict:
    """Run one simulation per seed; return every run plus mean, std and 95 % range per figure, and
    the calibration table of the ensemble (:func:`izdat.underground.summary.calibration`);
    ``processes`` is how many operating-system processes ran the runs and ``here`` whether all ran
    in this one.

    ``cluster``: ``None`` runs here; ``"local"`` starts a local Dask cluster of worker processes,
    one per core (the Numba engine holds the GIL, so threads would share one core);
    any other string is the address of an existing Dask scheduler (``tcp://host:8786``).
    """
    seeds = [int(s) for s in seeds]
    args = (people, scenario.data, scenario.text)
    if cluster is None:
        done = [_run_where(*args, s, start_year, end_year) for s in seeds]
    else:
        try:
            from distributed import Client
        except ImportError:
            raise SpreadError("--cluster needs dask distributed: pip install 'dask[distributed]'.") from None
        local = None
        try:
            if cluster == "local":
                local = start_local_cluster(len(seeds))
                client = Client(local)
            else:
                client = Client(cluster, timeout="10s")
        except OSError as exc:
            raise SpreadError(f"cannot reach the Dask cluster at {cluster}: {exc}.") from None
        try:
            futures = client.map(_run_where, *[[a] * len(seeds) for a in args], seeds,
                                 [start_year] * len(seeds), [end_year] * len(seeds), pure=False)
            done = client.gather(futures)
        finally:
            client.close()
            if local is not None:
                local.close()
    runs = [r for _, r in done]
    stats = {}
    for key in runs[0]:
        if key in ("seed", "measures"):
            continue
        v = np.array([r[key] for r in runs], dtype=float)
        stats[key] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
                      "p2.5": float(np.percentile(v, 2.5)), "p97.5": float(np.percentile(v, 97.5))}
    return {"runs": runs, "stats": stats, "calibration": calibration([r["measures"] for r in runs]),
            "processes": len({pid for pid, _ in done}), "here": all(pid == os.getpid() for pid, _ in done)}
