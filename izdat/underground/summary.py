"""Figures a historian reads off one run: counts per year, medium, city and fate (plain dicts)."""

from __future__ import annotations

import numpy as np

from izdat.underground.scenario import Scenario
from izdat.underground.simulate import (C_CITY, C_FAKE, C_FATE, C_GEN, C_GIVER, C_MAKER, C_MEDIUM, C_OWNER, F_ENDED,
                                        F_MADE, F_PRICE, FATES, MEDIA, REASONS, History)
from izdat.underground.society import (_DECK_SMUGGLED, DAYS_PER_YEAR, Society, calendar_day, day_of_year,
                                       population_millions, recorders_in_circulation)

__all__ = ["summarize", "yearly", "by_city_decade", "measures", "calibration", "calibration_table", "CALIBRATION"]


def yearly(history: History) -> dict:
    """Per-year arrays: years, copies made and alive (1 July) by medium, arrests, confiscations, the
    mean price paid (roubles) of a copy and of an LP, bone record or tape (``None``: none paid that
    year), and ``lp_bought``: [fractional year, price in roubles, city index] of every LP bought."""
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
    pay = history.cf[:, F_PRICE]
    kinds = {"LP": med == 0, "bone": med == 1, "tape": med >= 2}
    price = []
    by_kind = {k: [] for k in kinds}
    for y in years:
        inside = (made_y >= y) & (made_y < y + 1) & (pay > 0)
        sel = inside & (med > 0)
        price.append(float(np.mean(pay[sel])) if sel.any() else None)
        for k, m in kinds.items():
            by_kind[k].append(float(np.mean(pay[inside & m])) if (inside & m).any() else None)
    lp = np.flatnonzero((med == 0) & (pay > 0))
    return {"years": years.tolist(), "alive": alive, "made": made, "confiscated": confiscated,
            "arrests": arrests, "mean_copy_price_rub": price, "mean_price_rub_by_kind": by_kind,
            "lp_bought": [[round(float(made_y[i]), 3), float(pay[i]), int(history.ci[i, C_CITY])] for i in lp]}


def by_city_decade(history: History, society: Society, scenario: Scenario) -> dict:
    """Copies made in each city in each decade of the run (the map's figures, ``map_by_decade.png``).

    Returns ``decades`` (first year of each, e.g. 1940 for 1946-1949: the decades the run's years
    touch), ``cities``, ``lat`` and ``lon`` (degrees north and east, from the scenario) and ``copies``
    (one list per decade, one count per city).
    """
    made_y = np.floor(1946 + history.cf[:, F_MADE] / DAYS_PER_YEAR).astype(np.int64)
    decades = list(range(history.start_year // 10 * 10, history.end_year // 10 * 10 + 1, 10))
    n_city = len(society.city_names)
    counts = np.zeros((len(decades), n_city), dtype=np.int64)
    if len(made_y):
        d = (made_y // 10 * 10 - decades[0]) // 10
        ok = (d >= 0) & (d < len(decades))
        np.add.at(counts, (d[ok], history.ci[ok, C_CITY]), 1)
    return {"decades": decades, "cities": list(society.city_names),
            "lat": [float(c["lat"]) for c in scenario.cities], "lon": [float(c["lon"]) for c in scenario.cities],
            "copies": counts.tolist()}


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
        "copies_by_city_decade": by_city_decade(history, society, scenario),
        "calibration": calibration([measures(history, society, scenario)]),
    }


# -- calibration: the dated facts of the sources, each a row a historian can check ------------------

#: One row per dated fact the simulation models: ``(key, source sentence, source, target text,
#: test)``. ``test(value)`` says whether the simulated value meets the target with its tolerance.
CALIBRATION = (
    ("bone_first_year", "\u201cImagine to be on the back of a closed store in Leningrad during 1946 \u2026 "
     "a gramophone record of jazz music\u201d: Bogoslowski copies it onto X-ray film",
     "seed 003 (Scott, after Coates)", "the first bone record is cut in 1946", lambda v: 1946 <= v < 1947),
    ("bone_first_city", "(the same)", "seed 003", "\u2026 in Leningrad", lambda v: v == "Leningrad"),
    ("bone_peak_year", "\u201cSadly, though, Soviet officials eventually caught on, making the practice illegal "
     "in 1958\u201d", "seed 002 (Brownlee)", "the year most bone records are cut is before 1958",
     lambda v: v < 1958),
    ("bone_after_ban_ratio", "\u201cby 1958, you could face imprisonment if officials found you in possession of "
     "it\u201d", "seed 001 (SCMP)", "bone copies 1958\u20131965 below those of 1946\u20131957 (ratio < 1)",
     lambda v: v < 1.0),
    ("bone_early_1960s", "\u201cthe era of tape recorders began\u201d; magnitizdat \u201cthe natural replacement of "
     "Roentgenizdat\u201d", "seed 000 (Taylor, Vasin)",
     "bone copies a year in 1963\u20131965 under a fifth of the peak year's", lambda v: v < 0.2),
    ("bone_cliff", "(no source gives an end date: the records fade)", "modelling choice",
     "bone copies in the last year a lathe may cut (media.bone_end \u2212 1) under 1 % of the peak year's",
     lambda v: v < 0.01),
    ("tape_overtakes_year", "magnitizdat was exploited \u201cin the early 1960s onwards\u201d", "seed 000 (Taylor)",
     "tape copies outnumber bone copies (three-year windows) from 1959\u20131963, i.e. about 1960\u201362 \u00b1 1",
     lambda v: 1959 <= v <= 1963),
    ("recorders_1960", "\u201c128,000 cassette recorders were in circulation by 1960\u201d", "seed 000 (Yurchak)",
     "128,000 \u00b1 10 % (the society's owners scaled to the USSR)", lambda v: abs(v / 128_000 - 1) <= 0.10),
    ("recorders_1985", "\u201c\u2026 which had risen to 4.7 million by 1985\u201d", "seed 000 (Yurchak)",
     "4.7 million \u00b1 5 %", lambda v: abs(v / 4.7e6 - 1) <= 0.05),
    ("recorders_citizens_1990", "\u201cWhile an estimated fifty million Soviet citizens bought these Soviet-made tape "
     "recorders\u201d", "seed 000 (Taylor)",
     "people in households with a Soviet-made deck by 1990, scaled to the USSR: 50 million within a factor 2 "
     "(the reading of docs/history.md)", lambda v: 25e6 <= v <= 100e6),
    ("flu_1970", "the press attacked tapes for \u201cspreading faster than a flu virus\u201d (Sovetskaya Rossia, "
     "9 June 1968)", "seed 000 (Ryback)",
     "over a third of the households owning a recorder on 1 January 1968 hold a magnitizdat tape by the end of "
     "1970 (more than a pandemic flu's attack rate, about a third)", lambda v: v > 1 / 3),
    ("ring_1959_per_100k", "\u201cIn 1959, they broke up the largest roentgenizdat ring\u201d", "seed 002 (Brownlee)",
     "a ring of several cutters taken in 1959: 3 or more per 100,000 people (3+ at the default 100,000)",
     lambda v: v >= 3),
    ("patrols_bone_vs_tape", "\u201cby the 1960s, the Komsomol \u2026 sponsored anti-Western \u2018music patrols\u2019 that "
     "hunted out distributors of bone music and confiscated any X-Ray records they found\u201d", "seed 002 (Brownlee)",
     "1960\u20131969: a bone record's confiscation rate (per copy-year) 5\u00d7 a tape's or more", lambda v: v >= 5),
    ("arrests_peak_year", "tapes \u201cpermitted in every household\u201d; the bone copier worked on \u201cuntil the law "
     "changed\u201d", "seeds 000, 003; modelling choice (state.eases_from)",
     "the year with most arrests for a confiscated copy (the ring left out) is before 1986: the state eases, "
     "arrests do not peak in 1990",
     lambda v: v < 1986),
    ("prison_tape_max_years", "\u201cBuying, selling or owning unofficial music tapes still carried up to a three year "
     "prison sentence\u201d", "seed 000 (Sargent)", "the longest term for a tape: 2\u20133 years",
     lambda v: 2.0 <= v <= 3.0),
    ("prisoners_acts", "(the same: a term stops the prisoner)", "seed 000",
     "copies made, handed over or received by a person during a term of theirs: 0", lambda v: v == 0),
    ("bone_price_rub", "\u201cA single disc only cost about one ruble on the black market\u201d",
     "seed 002 (Brownlee)", "1 rouble \u00b1 0.05 (mean of single-sided bone records sold)", lambda v: abs(v - 1) <= 0.05),
    ("bone_two_sided_rub", "\u201c\u2026 as opposed to five rubles for a two sided-disc\u201d", "seed 002 (Brownlee)",
     "5 roubles \u00b1 0.05 (mean of two-sided bone records sold)", lambda v: abs(v - 5) <= 0.05),
    ("tape_dealer_price_rub", "\u201ca tape recording of an LP cost three roubles\u201d", "seed 000 (Troitsky)",
     "3 roubles \u00b1 0.05 (mean of tapes dubbed by dealers)", lambda v: abs(v - 3) <= 0.05),
    ("lp_port_price_rub", "\u201cwhile the album itself would fetch 20 or 30 roubles\u201d", "seed 000 (Troitsky)",
     "20\u201330 roubles in the port cities (mean of LPs bought there)", lambda v: 20 <= v <= 30),
    ("lp_urals_price_rub", "\u201ca vinyl in the Urals could cost around 200 roubles\u201d", "seed 000 (Aksenov)",
     "LPs reach Sverdlovsk and sell at 200 roubles \u00b1 10 % (mean of LPs bought there)",
     lambda v: abs(v / 200 - 1) <= 0.10),
)


def measures(history: History, society: Society, scenario: Scenario) -> dict:
    """What one run says about each fact of :data:`CALIBRATION` (plain numbers, JSON-ready).

    Yearly bone and tape copies made (``bone_by_year``, ``tape_by_year``, from ``start_year``) and
    arrests (``arrests_by_year``: for a confiscated copy; ``arrests_all_by_year``: the 1959 ring too)
    travel along so that an ensemble can judge the shape of the mean curve and plot it
    (``izdat spread --compare``).
    """
    ci, cf = history.ci, history.cf
    years = np.arange(history.start_year, history.end_year + 1)
    made_y = 1946 + cf[:, F_MADE] / DAYS_PER_YEAR
    med = ci[:, C_MEDIUM]
    bins = np.append(years, years[-1] + 1)
    bone = np.histogram(made_y[med == 1], bins=bins)[0]
    tape = np.histogram(made_y[med >= 2], bins=bins)[0]
    first = int(np.argmin(np.where(med == 1, cf[:, F_MADE], np.inf))) if (med == 1).any() else -1
    scale = {y: float(population_millions(y, scenario)) * 1e6 / society.n for y in (1960, 1985)}
    owners = {y: float((society.recorder_day <= (y - 1946) * DAYS_PER_YEAR).sum()) * scale[y] for y in scale}
    pay = cf[:, F_PRICE]
    two_rub = scenario["money"]["bone_two_sided_rub"]
    paid_bone = (med == 1) & (pay > 0)
    two = paid_bone & (pay >= (two_rub + scenario["money"]["bone_rub"]) / 2) if two_rub > scenario["money"]["bone_rub"] \
        else np.zeros(len(ci), bool)
    single = paid_bone & ~two
    maker = ci[:, C_MAKER]
    dealer_tape = (med >= 2) & (maker >= 0) & (society.role[np.maximum(maker, 0)] == 2) & (pay > 0)
    names = list(society.city_names)
    lp = (med == 0) & (pay > 0)
    port_lp = lp & society.city_port[ci[:, C_CITY]]
    urals_lp = lp & (ci[:, C_CITY] == names.index("Sverdlovsk")) if "Sverdlovsk" in names else np.zeros(len(ci), bool)
    seized = history.arrests[history.arrests[:, 3] != REASONS.index("ring")]     # arrests for a confiscated copy
    arrests = np.histogram(1946 + seized[:, 1] / DAYS_PER_YEAR, bins=bins)[0]
    tape_terms = history.arrests[(history.arrests[:, 3] == 2) | (history.arrests[:, 3] == 3)]   # reel or cassette
    ring_year = history.arrests[(history.arrests[:, 3] == REASONS.index("ring"))
                                & (np.floor(1946 + history.arrests[:, 1] / DAYS_PER_YEAR) == scenario["state"]["ring_broken_year"])]
    return {
        "start_year": history.start_year, "bone_end": float(scenario["media"]["bone_end"]),
        "bone_by_year": bone.tolist(), "tape_by_year": tape.tolist(), "arrests_by_year": arrests.tolist(),
        "arrests_all_by_year": np.histogram(1946 + history.arrests[:, 1] / DAYS_PER_YEAR, bins=bins)[0].tolist(),
        "recorders_citizens_1990": _citizens_with_deck(society, scenario, 1990),
        "flu_1970": _flu(history, society, 1968, 1970),
        "ring_1959_per_100k": len(ring_year) * 1e5 / society.n,
        "patrols_bone_vs_tape": _confiscation_ratio(history, 1960, 1970),
        "prison_tape_max_years": float((tape_terms[:, 2] - tape_terms[:, 1]).max() / DAYS_PER_YEAR) if len(tape_terms) else None,
        "prisoners_acts": prisoners_acts(history),
        "bone_two_sided_rub": float(pay[two].mean()) if two.any() else None,
        "bone_first_year": float(made_y[first]) if first >= 0 else None,
        "bone_first_city": names[ci[first, C_CITY]] if first >= 0 else None,
        "recorders_1960": owners[1960], "recorders_1985": owners[1985],
        "bone_price_rub": float(pay[single].mean()) if single.any() else None,
        "tape_dealer_price_rub": float(pay[dealer_tape].mean()) if dealer_tape.any() else None,
        "lp_port_price_rub": float(pay[port_lp].mean()) if port_lp.any() else None,
        "lp_urals_price_rub": float(pay[urals_lp].mean()) if urals_lp.any() else None,
    }


def _citizens_with_deck(society: Society, scenario: Scenario, year: int) -> float:
    """People living in a household with a Soviet-made tape recorder by 31 December ``year``,
    scaled to the USSR's population that year (count of citizens)."""
    has = (society.recorder_day < calendar_day(year + 1)) & (society.deck >= 0)
    has &= ~_DECK_SMUGGLED[np.maximum(society.deck, 0)]
    people = float(np.bincount(society.household, minlength=len(has))[has].sum())
    return people * float(population_millions(year + 0.5, scenario)) * 1e6 / society.n


def _flu(history: History, society: Society, year: int, by_year: int) -> float | None:
    """Share of the households owning a recorder on 1 January ``year`` in which someone holds a tape
    (a reel or cassette made for them) by 31 December ``by_year``; ``None`` without such households."""
    owners = society.recorder_day <= calendar_day(year)
    if not owners.any():
        return None
    tape = (history.ci[:, C_MEDIUM] >= 2) & (history.cf[:, F_MADE] < calendar_day(by_year + 1))
    got = np.zeros(len(owners), bool)
    got[society.household[history.ci[tape, C_OWNER]]] = True
    return float(got[owners].mean())


def _confiscation_ratio(history: History, lo: int, hi: int) -> float | None:
    """A bone record's confiscation rate over a tape's, per copy-year alive from ``lo`` to ``hi``
    (1 January to 1 January); ``None`` when either medium has no confiscation or no copy-year."""
    a, b = calendar_day(lo), calendar_day(hi)
    made, ended = history.cf[:, F_MADE], history.cf[:, F_ENDED]
    years = np.clip(np.minimum(ended, b) - np.maximum(made, a), 0, None) / DAYS_PER_YEAR
    seized = (history.ci[:, C_FATE] == 2) & (ended >= a) & (ended < b)
    med = history.ci[:, C_MEDIUM]
    rate = []
    for m in (med == 1, med >= 2):
        if years[m].sum() <= 0 or not seized[m].any():
            return None
        rate.append(seized[m].sum() / years[m].sum())
    return float(rate[0] / rate[1])


def prisoners_acts(history: History) -> int:
    """Copies made, handed over or received by a person during one of their own prison terms (count;
    the engine keeps it 0: a term stops the prisoner)."""
    ar = history.arrests
    if not len(ar) or not history.n_copies:
        return 0
    made = history.cf[:, F_MADE]
    who = np.concatenate([history.ci[:, C_OWNER], history.ci[:, C_GIVER], history.ci[:, C_MAKER]]).astype(np.float64)
    when = np.tile(made, 3)
    keep = who >= 0
    span = 2.0 * calendar_day(1992)                      # later than any day, so person * span + day sorts by both
    key = np.sort(who[keep] * span + when[keep])
    lo = np.searchsorted(key, ar[:, 0] * span + ar[:, 1], side="right")   # acts strictly after the start
    hi = np.searchsorted(key, ar[:, 0] * span + ar[:, 2], side="left")    # and before the release
    return int(np.maximum(hi - lo, 0).sum())


def _curve_figures(bone: np.ndarray, tape: np.ndarray, start: int, bone_end: float, arrests=None) -> dict:
    years = start + np.arange(bone.size)

    def total(lo, hi):
        return float(bone[(years >= lo) & (years < hi)].sum())

    out = {"bone_peak_year": int(years[np.argmax(bone)]) if bone.sum() else None}
    before = total(1946, 1958)
    out["bone_after_ban_ratio"] = total(1958, 1966) / before if before else None
    peak = float(bone.max()) if bone.size else 0.0
    out["bone_early_1960s"] = total(1963, 1966) / 3 / peak if peak else None
    last = years == int(bone_end) - 1
    out["bone_cliff"] = float(bone[last].sum()) / peak if peak and last.any() else (0.0 if peak else None)
    over = None
    for i in range(bone.size):
        if years[i] >= 1950 and tape[i:i + 3].sum() > bone[i:i + 3].sum():
            over = int(years[i])
            break
    out["tape_overtakes_year"] = over
    if arrests is not None:
        out["arrests_peak_year"] = int(years[np.argmax(arrests)]) if np.sum(arrests) else None
    return out


def calibration(runs: list[dict]) -> list[dict]:
    """The calibration table from the :func:`measures` of one run or of an ensemble's runs.

    Each row: ``key``, ``fact`` (the source sentence), ``source``, ``target`` (with its tolerance),
    ``value`` (the ensemble's: the mean over the runs; for the shape of the yearly curve, the
    figure of the mean curve), ``runs`` (each run's own value), ``spread`` (lowest and highest of
    the runs' numeric values) and ``pass``.
    """
    per_run = []
    for m in runs:
        r = dict(m)
        r.update(_curve_figures(np.asarray(m["bone_by_year"], float), np.asarray(m["tape_by_year"], float),
                                m["start_year"], m["bone_end"], np.asarray(m["arrests_by_year"], float)))
        per_run.append(r)
    length = min(len(m["bone_by_year"]) for m in runs)
    mean_curve = _curve_figures(np.mean([m["bone_by_year"][:length] for m in runs], axis=0),
                                np.mean([m["tape_by_year"][:length] for m in runs], axis=0),
                                runs[0]["start_year"], runs[0]["bone_end"],
                                np.mean([m["arrests_by_year"][:length] for m in runs], axis=0))
    rows = []
    for key, fact, source, target, test in CALIBRATION:
        values = [r[key] for r in per_run]
        numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if key in mean_curve:
            value = mean_curve[key]
        elif numbers and len(numbers) == sum(v is not None for v in values):
            value = float(np.mean(numbers))     # runs without the figure (no LP reached the city ...) left out
        else:
            value = max(set(values), key=values.count) if all(v is not None for v in values) else None
        rows.append({"key": key, "fact": fact, "source": source, "target": target, "value": value, "runs": values,
                     "spread": [min(numbers), max(numbers)] if numbers else None,
                     "pass": bool(value is not None and test(value))})
    return rows


def _show(value, key="") -> str:
    if value is None:
        return "\u2014"
    if isinstance(value, str):
        return value
    if key.endswith("_year"):
        return f"{value:.2f}" if not float(value).is_integer() else f"{int(value)}"
    if isinstance(value, (int, np.integer)) or float(value).is_integer() and abs(value) > 100:
        return f"{int(round(value)):,}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def calibration_table(rows: list[dict]) -> str:
    """The calibration rows as the Markdown table of docs/history.md."""
    out = ["| fact (source sentence) | source | target | simulated (runs' range) | |", "|---|---|---|---|---|"]
    for r in rows:
        spread = r["spread"]
        k = r["key"]
        rng = f" ({_show(spread[0], k)} \u2013 {_show(spread[1], k)})" if spread and spread[0] != spread[1] else ""
        out.append(f"| {r['fact']} | {r['source']} | {r['target']} | {_show(r['value'], k)}{rng} | "
                   f"{'pass' if r['pass'] else '**FAIL**'} |")
    return "\n".join(out) + "\n"


def _main(argv=None) -> None:
    """``python -m izdat.underground.summary [--people N] [--runs R] [--seed S]``: the table of docs/history.md."""
    import argparse
    from izdat.underground.ensemble import run_ensemble
    from izdat.underground.scenario import load_scenario

    ap = argparse.ArgumentParser(description=_main.__doc__)
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    ens = run_ensemble(a.people, load_scenario(), range(a.seed, a.seed + a.runs), 1946, 1990)
    print(f"Default scenario, {a.people:,} people, seeds {a.seed}\u2013{a.seed + a.runs - 1}, 1946\u20131990:\n")
    print(calibration_table(ens["calibration"]))
    m = [r["measures"] for r in ens["runs"]]
    years = np.arange(1946, 1991)
    bone, tape = np.mean([x["bone_by_year"] for x in m], axis=0), np.mean([x["tape_by_year"] for x in m], axis=0)
    print("| year | " + " | ".join(str(y) for y in years[::2][:18]) + " |")
    print("|---" * 19 + "|")
    print("| bone copies | " + " | ".join(f"{v:.0f}" for v in bone[::2][:18]) + " |")
    print("| tape copies | " + " | ".join(f"{v:.0f}" for v in tape[::2][:18]) + " |")


if __name__ == "__main__":
    _main()
