"""PNG plots of one run (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_plots", "recorder_figure"]


def write_plots(summary: dict, folder: str | Path, *, wage_rub=(120.0, 150.0)) -> list[Path]:
    """Write the five plots of a run summary into ``folder``; returns their paths.

    alive_by_medium.png, generations.png, spread_by_city.png, state.png, price_vs_wage.png.
    ``wage_rub`` is the engineer's monthly wage band in roubles (seed 000).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    y = summary["yearly"]
    years = np.array(y["years"])
    out = []

    def save(fig, name):
        fig.tight_layout()
        p = folder / name
        fig.savefig(p, dpi=90)
        plt.close(fig)
        out.append(p)

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, values in y["alive"].items():
        ax.plot(years, values, label=name)
    ax.set(xlabel="year", ylabel="copies alive (1 July)", title="Copies alive per year by medium", yscale="symlog")
    ax.legend()
    save(fig, "alive_by_medium.png")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    g = summary["generations"]
    ax.bar(range(len(g)), g)
    ax.set(xlabel="generation (0 = original)", ylabel="copies", title="Distribution of generations", yscale="log")
    save(fig, "generations.png")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    cities = sorted(summary["copies_by_city"].items(), key=lambda kv: -kv[1])
    ax.barh([c for c, _ in cities][::-1], [v for _, v in cities][::-1])
    ax.set(xlabel="copies made", title="Spread by city")
    save(fig, "spread_by_city.png")

    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.plot(years, y["arrests"], label="arrests")
    ax.plot(years, y["confiscated"], label="confiscations")
    ax.set(xlabel="year", ylabel="per year", title="Arrests and confiscations per year")
    ax.legend()
    save(fig, "state.png")

    save(_price_figure(plt, y, wage_rub), "price_vs_wage.png")
    return out


def _price_figure(plt, y: dict, wage_rub):
    """LPs (each one bought, by year) beside the yearly mean tape and bone record paid, as % of an
    engineer's monthly wage: the marker at the band's middle, the bar from the high to the low wage."""
    lo, hi = wage_rub
    mid = (lo + hi) / 2
    fig, ax = plt.subplots(figsize=(8, 4.8))
    years = np.array(y["years"])
    kinds = y.get("mean_price_rub_by_kind", {})
    for kind, colour, label in (("tape", "C0", "tape copy (mean paid: friend 0.6, dealer 3 rub)"),
                                ("bone", "C1", "bone record (mean paid: 1 rub, two-sided 5)")):
        price = np.array([np.nan if p is None else p for p in kinds.get(kind, [])], dtype=float)
        if price.size and np.isfinite(price).any():
            ax.fill_between(years, price / hi * 100, price / lo * 100, color=colour, alpha=0.25, lw=0)
            ax.plot(years, price / mid * 100, color=colour, label=label)
    lp = np.array(y.get("lp_bought", []), dtype=float).reshape(-1, 3)
    if len(lp):
        dear = lp[:, 1] > 100
        for sel, colour, label in ((~dear, "C2", "LP under 100 rub (25 in ports, dearer away from them)"),
                                   (dear, "C3", "LP over 100 rub (inland; 200 in the Urals)")):
            if sel.any():
                ax.errorbar(lp[sel, 0], lp[sel, 1] / mid * 100,
                            yerr=[lp[sel, 1] / mid * 100 - lp[sel, 1] / hi * 100, lp[sel, 1] / lo * 100 - lp[sel, 1] / mid * 100],
                            fmt="o", ms=3, color=colour, alpha=0.6, lw=0.8, label=label)
    ax.axhline(100, color="0.4", ls="--", lw=0.8)
    ax.text(years[0], 108, "a month's wage", color="0.3", fontsize=8)
    ax.set(xlabel="year", ylabel=f"% of an engineer's monthly wage ({lo:.0f}-{hi:.0f} rub)", yscale="log",
           title="What a record cost against an engineer's wage (bands: 120 to 150 rub a month)")
    ax.legend(fontsize=8, loc="center right")
    return fig


def recorder_figure(path, curves: dict, points=((1960, 128_000, "128,000 in circulation (seed 000)"),
                                                (1985, 4.7e6, "4.7 million by 1985 (seed 000)"),
                                                (1990, 50e6, "fifty million citizens bought one (seed 000; the year is ours)"))):
    """Write the recorder curves beside the seed's figures (PNG at ``path``).

    ``curves``: label -> (years, counts) for each line; ``points``: (year, count, label) of the seed.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.8))
    for (label, (years, counts)), style in zip(curves.items(), ("-", "--", ":", "-.")):
        ax.plot(years, counts, style, label=label)
    for year, count, label in points:
        ax.plot([year], [count], "k*", ms=11)
        ax.annotate(label, (year, count), textcoords="offset points", xytext=(-8, 8), ha="right", fontsize=8)
    ax.set(xlabel="year", ylabel="count (USSR)", yscale="log", ylim=(1e4, 2e8), xlim=(1955, 1991),
           title="Tape recorders: two readings beside the seed's figures")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return Path(path)


#: The other reading of the recorder figures (docs/history.md): the fifty million are Soviet-made
#: decks bought and all still in use in 1990, on the curve from 128,000 in 1960 (the 4.7 million of
#: 1985 is then not met). The shipped scenario ``recorders-cumulative.toml`` holds the same keys.
CUMULATIVE_READING = {"recorders": {"year_a": 1960, "count_a": 128000, "year_b": 1990, "count_b": 50000000}}


def _main(argv=None) -> None:
    """``python -m izdat.underground.plots OUT.png [--people N]``: docs/recorders.png, the recorder
    curves of the default and of the cumulative reading beside the seed's figures."""
    import argparse

    from izdat.underground.scenario import load_scenario, merge_scenario
    from izdat.underground.society import build_society, calendar_day, population_millions, recorders_in_circulation
    from izdat.underground.summary import _citizens_with_deck

    ap = argparse.ArgumentParser(description=_main.__doc__)
    ap.add_argument("out")
    ap.add_argument("--people", type=int, default=100_000)
    a = ap.parse_args(argv)
    default, other = load_scenario(), merge_scenario(CUMULATIVE_READING)
    years = np.arange(1955, 1991)
    society = build_society(a.people, default, 1)
    citizens = [_citizens_with_deck(society, default, int(y)) for y in years]
    curves = {"default: decks in circulation (through 128,000 and 4.7 million)": (years + 0.5, recorders_in_circulation(years + 0.5, default)),
              f"default: citizens living with a Soviet-made deck ({a.people:,}-person society, scaled)": (years + 1, citizens),
              "scenario recorders-cumulative: 50 million decks in use by 1990": (years + 0.5, recorders_in_circulation(years + 0.5, other))}
    print(recorder_figure(a.out, curves))
    print(f"default 1990: decks {recorders_in_circulation(1990.0, default):,.0f}, citizens with a Soviet deck {citizens[-1]:,.0f}; "
          f"cumulative reading 1985: decks {recorders_in_circulation(1985.0, other):,.0f}")


if __name__ == "__main__":
    _main()
