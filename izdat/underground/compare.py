"""Two scenarios side by side: an ensemble of each on the same seeds, their yearly curves with bands.

``izdat spread --compare A B`` writes ``summary.json`` (this module's :func:`compare_scenarios`) and
``compare.png`` (:func:`izdat.underground.plots.compare_figure`).
"""

from __future__ import annotations

import numpy as np

from izdat.underground.ensemble import run_ensemble, start_local_cluster
from izdat.underground.scenario import Scenario

__all__ = ["CURVES", "ensemble_curves", "compare_scenarios"]

#: The yearly curves compared: ``(key, measures key, what it counts)``.
CURVES = (("bone", "bone_by_year", "bone records cut a year"),
          ("tape", "tape_by_year", "tape copies (reel and cassette) made a year"),
          ("arrests", "arrests_all_by_year", "arrests a year (the 1959 ring included)"))


def ensemble_curves(ensemble: dict, start_year: int) -> dict:
    """The yearly curves of :data:`CURVES` over an ensemble's runs (:func:`run_ensemble`'s dict).

    Returns ``years`` and, per curve, ``mean``, ``std`` (sample standard deviation over the runs, 0
    with one run), ``low`` and ``high`` (the lowest and highest run that year) and ``runs`` (each
    run's curve); counts per calendar year.
    """
    out = {}
    length = None
    for key, measure, _ in CURVES:
        runs = [r["measures"][measure] for r in ensemble["runs"]]
        length = min(len(c) for c in runs)
        v = np.array([c[:length] for c in runs], dtype=float)
        out[key] = {"mean": v.mean(0).tolist(), "std": (v.std(0, ddof=1) if len(v) > 1 else 0 * v[0]).tolist(),
                    "low": v.min(0).tolist(), "high": v.max(0).tolist(), "runs": v.astype(int).tolist()}
    out["years"] = list(range(start_year, start_year + (length or 0)))
    return out


def compare_scenarios(people: int, scenarios: list[tuple[str, Scenario]], seeds, start_year: int, end_year: int,
                      cluster: str | None = None) -> dict:
    """Run an ensemble of each scenario on the same ``seeds`` (so run k of each starts from the same
    seed) and return, per scenario in order: its ``name``, the ensemble's ``stats`` (mean, std, 95 %
    range of the totals), ``curves`` (:func:`ensemble_curves`), the ensemble's ``calibration`` rows
    and how many passed, and ``processes`` (how many processes ran its runs)."""
    seeds = [int(s) for s in seeds]
    out = []
    local = None
    if cluster == "local":        # one local cluster for both ensembles: its start costs seconds
        local = start_local_cluster(len(seeds))
        cluster = local.scheduler_address
    try:
        for name, scenario in scenarios:
            ens = run_ensemble(people, scenario, seeds, start_year, end_year, cluster)
            out.append({"name": name, "stats": ens["stats"], "curves": ensemble_curves(ens, start_year),
                        "calibration": [{k: v for k, v in row.items() if k != "runs"} for row in ens["calibration"]],
                        "calibration_passed": sum(row["pass"] for row in ens["calibration"]),
                        "processes": ens["processes"]})
    finally:
        if local is not None:
            local.close()
    return {"people": people, "seeds": seeds, "years": [start_year, end_year], "scenarios": out}
