"""PNG plots of one run (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_plots", "recorder_figure", "map_figure", "compare_figure"]


def write_plots(summary: dict, folder: str | Path, *, wage_rub=(120.0, 150.0)) -> list[Path]:
    """Write the six plots of a run summary into ``folder``; returns their paths.

    alive_by_medium.png, generations.png, spread_by_city.png, state.png, price_vs_wage.png and
    map_by_decade.png (:func:`map_figure`, when the summary has ``copies_by_city_decade``).
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
    if "copies_by_city_decade" in summary:
        fig = map_figure(summary["copies_by_city_decade"], summary.get("years"))
        fig.savefig(folder / "map_by_decade.png", dpi=90)
        plt.close(fig)
        out.append(folder / "map_by_decade.png")
    return out


def _decade_label(d: int, years) -> str:
    lo, hi = max(d, years[0]), min(d + 9, years[1])
    return f"{lo}" if lo == hi else f"{lo}\u2013{hi}"


def map_figure(data: dict, years=None):
    """Copies made by city, one panel a decade (small multiples on one lon/lat frame).

    ``data`` is :func:`izdat.underground.summary.by_city_decade`'s dict. A point's area is
    proportional to the copies made in that city in that decade (one scale for every panel, the key
    below them); a city with none is a small grey cross. No map data: the frame is longitude
    against latitude in degrees, equirectangular, stretched by 1/cos(mean latitude) so that a degree
    of each is the same distance in the middle; every city is labelled in the first panel, and each
    panel's title names its total and the city with most copies. ``years`` (first, last: the run's)
    clips the first and last decade's labels. Returns the figure.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    decades = data["decades"]
    lat, lon = np.asarray(data["lat"], float), np.asarray(data["lon"], float)
    counts = np.asarray(data["copies"], float).reshape(len(decades), len(lat))
    years = years or (decades[0], decades[-1] + 9)
    n = len(decades)
    cols = min(3, n)
    rows = -(-n // cols)
    pad_x = max(2.0, 0.06 * (lon.max() - lon.min()))
    pad_y = max(1.5, 0.08 * (lat.max() - lat.min()))
    x0, x1, y0, y1 = lon.min() - pad_x, lon.max() + pad_x, lat.min() - pad_y, lat.max() + pad_y
    aspect = 1.0 / np.cos(np.radians(lat.mean()))
    w = 4.6
    h = min(max(w * (y1 - y0) * aspect / (x1 - x0), 1.8), 5.0)
    fig, axes = plt.subplots(rows, cols, figsize=(w * cols, h * rows + 1.3), squeeze=False)
    top = counts.max() if counts.size and counts.max() > 0 else 1.0
    biggest = 900.0                     # points^2 of the largest count of the run
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_visible(False)
            continue
        c = counts[i]
        has = c > 0
        ax.scatter(lon[~has], lat[~has], marker="x", s=12, color="0.6", lw=0.8)
        ax.scatter(lon[has], lat[has], s=np.maximum(c[has] / top * biggest, 4.0), color="C3", alpha=0.5,
                   edgecolor="C3", lw=0.6)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(aspect)
        most = f" (most: {data['cities'][int(np.argmax(c))]} {int(c.max()):,})" if has.any() else ""
        ax.set_title(f"{_decade_label(decades[i], years)}: {int(c.sum()):,} cop{'y' if c.sum() == 1 else 'ies'}{most}",
                     fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(color="0.9", lw=0.5)
        if i % cols == 0:
            ax.set_ylabel("latitude (\u00b0N)", fontsize=8)
        if i >= n - cols:
            ax.set_xlabel("longitude (\u00b0E)", fontsize=8)
    _label_cities(fig, axes.flat[0], data["cities"], lon, lat)
    handles = [axes.flat[0].scatter([], [], s=v / top * biggest, color="C3", alpha=0.5, label=f"{v:,.0f} copies")
               for v in (top, top / 4, top / 20)]
    handles.append(axes.flat[0].scatter([], [], marker="x", s=12, color="0.6", lw=0.8, label="none"))
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False, borderpad=1.2,
               columnspacing=3.0, handletextpad=1.2)
    fig.suptitle("Copies made by city and decade (a point's area is proportional to its copies)", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _label_cities(fig, ax, names, lon, lat) -> None:
    """Label every city in ``ax``, each label at the first of eight places around its point that
    overlaps no label already placed and no other city's point (else the least crowded one)."""
    renderer = fig.canvas.get_renderer()
    pts = ax.transData.transform(np.column_stack([lon, lat]))
    placed = []
    spots = ((3, 2, "left", "bottom"), (3, -2, "left", "top"), (-3, 2, "right", "bottom"), (-3, -2, "right", "top"),
             (0, 5, "center", "bottom"), (0, -5, "center", "top"), (6, 0, "left", "center"), (-6, 0, "right", "center"))
    order = np.argsort(lon)
    for k in order:
        best, best_hits = None, None
        for dx, dy, ha, va in spots:
            t = ax.annotate(names[k], (lon[k], lat[k]), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va,
                            fontsize=6, color="0.2")
            box = t.get_window_extent(renderer).expanded(1.05, 1.1)
            hits = sum(box.overlaps(b) for b in placed)
            hits += sum(box.contains(*pts[j]) for j in range(len(pts)) if j != k)
            if best_hits is None or hits < best_hits:
                if best is not None:
                    best[0].remove()
                best, best_hits = (t, box), hits
            else:
                t.remove()
            if hits == 0:
                break
        placed.append(best[1])


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


def compare_figure(path, result: dict):
    """Write the yearly curves of two (or more) ensembles in one PNG at ``path``.

    ``result`` is :func:`izdat.underground.compare.compare_scenarios`'s dict. One panel per curve
    (bone records cut, tape copies made, arrests; counts per year); per scenario the ensemble's mean
    (line) and the band from the lowest to the highest run that year, with the mean ± one standard
    deviation dashed (not on the tape panel, logarithmic above 10 a year). Returns the path.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from izdat.underground.compare import CURVES

    fig, axes = plt.subplots(len(CURVES), 1, figsize=(8.5, 9.0), sharex=True)
    for sc, colour in zip(result["scenarios"], ("C0", "C3", "C2", "C4")):
        cv = sc["curves"]
        years = np.array(cv["years"]) + 0.5
        for ax, (key, _, what) in zip(axes, CURVES):
            c = cv[key]
            mean, std = np.array(c["mean"]), np.array(c["std"])
            ax.fill_between(years, c["low"], c["high"], color=colour, alpha=0.2, lw=0)
            ax.plot(years, mean, color=colour, lw=1.6,
                    label=f"{sc['name']}: mean {int(round(mean.sum())):,} in all (band: runs' range)")
            if key != "tape":      # on the logarithmic panel mean - std dives to 0: the band says enough
                ax.plot(years, np.maximum(mean - std, 0), color=colour, lw=0.7, ls="--")
                ax.plot(years, mean + std, color=colour, lw=0.7, ls="--")
            ax.set_ylabel(what, fontsize=8)
    for ax, (key, _, _) in zip(axes, CURVES):
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(color="0.92", lw=0.5)
        ax.set_ylim(bottom=0)
        if key == "tape":           # tapes grow a hundredfold: linear below 10 a year, logarithmic above
            ax.set_yscale("symlog", linthresh=10)
            ax.set_ylim(bottom=0)
    axes[-1].set_xlabel("year")
    n = len(result["seeds"])
    seeds = result["seeds"]
    names = " vs ".join(sc["name"] for sc in result["scenarios"])
    fig.suptitle(f"{names}: {n} runs each of {result['people']:,} people (seeds {seeds[0]}\u2013{seeds[-1]});\n"
                 f"line: mean, band: lowest to highest run, dashed: mean \u00b1 1 std (bone, arrests)", fontsize=10)
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
