"""PNG plots of one run (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_plots"]


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

    fig, ax = plt.subplots(figsize=(8, 4.5))
    price = np.array([np.nan if p is None else p for p in y["mean_copy_price_rub"]], dtype=float)
    ax.plot(years, price / wage_rub[1] * 100, label=f"mean paid copy / {wage_rub[1]:.0f} rub wage")
    ax.plot(years, price / wage_rub[0] * 100, label=f"mean paid copy / {wage_rub[0]:.0f} rub wage")
    ax.set(xlabel="year", ylabel="% of an engineer's monthly wage", title="Price of a copy against wages")
    ax.legend()
    save(fig, "price_vs_wage.png")
    return out
