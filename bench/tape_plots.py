"""Plots for docs/tape.md (issue 16): H3 against level with and without bias, MOL/SOL against frequency.

    python bench/tape_plots.py      # writes docs/tape-h3-vs-level.png and docs/tape-mol-sol.png

Measured like a service manual (izdat.tape.service: the deck with its noises and flutter off).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from izdat.tape import TapeDeck  # noqa: E402
from izdat.tape.service import level_sweep, mol_db  # noqa: E402

DOCS = Path(__file__).resolve().parent.parent / "docs"


def h3_plot(path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    levels = np.arange(-40.0, 12.01, 1.0)
    for bias, style in ((0.0, "k:"), (0.5, "C3--"), (0.75, "C1-."), (1.0, "C0-"), (2.0, "C2--")):
        s = level_sweep(TapeDeck("elektronika-302", bias=bias), 315.0, levels)
        ax.semilogy(levels, np.maximum(s["h3_pct"], 1e-5), style,
                    label=f"bias {bias:g}" + (" (optimum)" if bias == 1 else " (none)" if bias == 0 else ""))
    ax.axhline(3, color="grey", lw=0.8)
    ax.axhline(1, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="315 Hz input, dB re operating level", ylabel="third harmonic, %", ylim=(1e-4, 100),
           title="elektronika-302: H3 against level and bias (noise and flutter off)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def max_output(deck: TapeDeck, f: float) -> float:
    out = level_sweep(deck, f, np.arange(-20.0, 20.01, 1.0))["output_db"]
    return float(out.max())


def mol_sol_plot(path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    freqs = np.array([400, 1000, 2000, 3150, 5000, 6300, 8000, 10000, 12500])
    for name, colour in (("yauza-5", "C0"), ("sony-tc-260", "C9"), ("dnepr-11", "C1"),
                         ("mayak-203", "C8"), ("elektronika-302", "C3"), ("sony-tc-129", "C6")):
        d = TapeDeck(name)
        sol = [max_output(d, f) for f in freqs]
        ax.semilogx(freqs, sol, "o-", color=colour, ms=3,
                    label=f"{name} ({d.preset.speed_cm_s:g} cm/s) maximum output")
        ax.plot([315], [mol_db(d)], "s", color=colour, ms=6)
    ax.set(xlabel="frequency, Hz", ylabel="output, dB re operating level",
           title="Maximum output against frequency; squares: MOL (315 Hz, 3 % H3)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    h3_plot(DOCS / "tape-h3-vs-level.png")
    mol_sol_plot(DOCS / "tape-mol-sol.png")
