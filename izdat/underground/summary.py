"""Figures a historian reads off one run: counts per year, medium, city and fate (plain dicts)."""

from __future__ import annotations

import numpy as np

from izdat.underground.scenario import Scenario
from izdat.underground.simulate import (C_CITY, C_FATE, C_GEN, C_MEDIUM, F_ENDED, F_MADE, F_PRICE, FATES, MEDIA,
                                        History)
from izdat.underground.society import DAYS_PER_YEAR, Society, population_millions, recorders_in_circulation

__all__ = ["summarize", "yearly"]


def yearly(history: History) -> dict:
    """Per-year arrays: years, copies made and alive (1 July) by medium, arrests, confiscations."""
    years = np.arange(history.start_year, history.end_year + 1)
    made_y = 1946 + history.cf[:, F_MADE] / DAYS_PER_YEAR
    end_y = 1946 + history.cf[:, F_ENDED] / DAYS_PER_YEAR
    med = history.ci[:, C_MEDIUM]
    mid = years + 0.5
    alive = {}
    made = {}
    for m, name in enumerate(MEDIA):
        sel = med == m
        a, e = np.sort(made_y[sel]), np.sort(end_y[sel])
        alive[name] = (np.searchsorted(a, mid) - np.searchsorted(e, mid)).tolist()
        made[name] = np.histogram(made_y[sel], bins=np.append(years, years[-1] + 1))[0].tolist()
    conf = history.ci[:, C_FATE] == 2
    confiscated = np.histogram(end_y[conf], bins=np.append(years, years[-1] + 1))[0].tolist()
    arrests = np.histogram(1946 + history.arrests[:, 1] / DAYS_PER_YEAR, bins=np.append(years, years[-1] + 1))[0].tolist()
    price = []
    for y in years:
        sel = (made_y >= y) & (made_y < y + 1) & (med > 0) & (history.cf[:, F_PRICE] > 0)
        price.append(float(np.mean(history.cf[sel, F_PRICE])) if sel.any() else None)
    return {"years": years.tolist(), "alive": alive, "made": made, "confiscated": confiscated,
            "arrests": arrests, "mean_copy_price_rub": price}


def summarize(history: History, society: Society, scenario: Scenario) -> dict:
    """A JSON-ready summary of one run (counts, first years, generations, per-city and per-year)."""
    ci, cf = history.ci, history.cf
    made_y = 1946 + cf[:, F_MADE] / DAYS_PER_YEAR
    by_medium = {name: int((ci[:, C_MEDIUM] == m).sum()) for m, name in enumerate(MEDIA)}
    first = {name: (round(float(made_y[ci[:, C_MEDIUM] == m].min()), 2) if by_medium[name] else None)
             for m, name in enumerate(MEDIA)}
    gen = np.bincount(ci[:, C_GEN], minlength=1) if len(ci) else np.zeros(1, int)
    scale = population_millions(1985, scenario) * 1e6 / society.n
    own85 = float((society.recorder_day <= (1985 - 1946) * DAYS_PER_YEAR).sum())
    return {
        "seed": history.seed, "people": society.n, "years": [history.start_year, history.end_year],
        "titles": int(len(history.titles)), "copies": int(len(ci)),
        "copies_by_medium": by_medium, "first_year_by_medium": first,
        "copies_by_fate": {name: int((ci[:, C_FATE] == f).sum()) for f, name in enumerate(FATES)},
        "generations": gen.tolist(), "max_generation": int(len(gen) - 1),
        "copies_by_city": {name: int((ci[:, C_CITY] == c).sum()) for c, name in enumerate(society.city_names)},
        "arrests": int(len(history.arrests)),
        "first_confiscation_year": (round(float(1946 + cf[ci[:, C_FATE] == 2, F_ENDED].min() / DAYS_PER_YEAR), 2)
                                    if (ci[:, C_FATE] == 2).any() else None),
        "recorders_1985_scaled_to_ussr": own85 * scale,
        "recorders_1985_seed_figure": float(recorders_in_circulation(1985, scenario)),
        "mean_degree": float(society.degree.mean()), "max_degree": int(society.degree.max()),
        "yearly": yearly(history),
    }
