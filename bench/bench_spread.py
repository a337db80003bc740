"""Benchmark of the underground: 10 million people 1946-1990 (society, simulation, lineage DB), and
the SIR validation kernel against EoN (and NDlib when installed) on the same graph.

Run: .venv/bin/python bench/bench_spread.py [PEOPLE]
(the comparison needs the anchors in the bench environment: .venv/bin/pip install EoN ndlib six)

     .venv/bin/python bench/bench_spread.py --scale [SIZE:RUNS ...]
prints the scale table of docs/history.md (per-head figures, generation depth, cutters, the ring at
20,000 / 100,000 / 200,000 / 1,000,000 people by default; writes nothing).

     .venv/bin/python bench/bench_spread.py --scenarios [PEOPLE [RUNS]]
prints the counterfactuals' table of docs/history.md (every shipped scenario beside the default,
8 runs of 100,000 people by default).

     .venv/bin/python bench/bench_spread.py --ensemble [PEOPLE [RUNS]]
times an ensemble serially and on --cluster local (8 runs of 200,000 people by default).
"""

import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import peak_rss_mb, table, write_section  # noqa: E402

from izdat.underground import build_society, load_scenario, simulate  # noqa: E402
from izdat.underground.lineage import write_lineage  # noqa: E402
from izdat.underground.sir import read_edges, sir_final_sizes  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its children so far (user + system)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(people: int) -> None:
    sc = load_scenario()
    load_before = os.getloadavg()
    # warm the JIT on a tiny society, timed apart
    t = time.perf_counter()
    simulate(build_society(2000, sc, 0), sc, seed=0)
    jit = time.perf_counter() - t
    t, c = time.perf_counter(), _cpu()
    society = build_society(people, sc, 1)
    t_net, c_net = time.perf_counter() - t, _cpu() - c
    t, c = time.perf_counter(), _cpu()
    history = simulate(society, sc, seed=1)
    t_sim, c_sim = time.perf_counter() - t, _cpu() - c
    with tempfile.TemporaryDirectory() as d:
        t, c = time.perf_counter(), _cpu()
        write_lineage(Path(d) / "lineage.sqlite", history, society)
        t_db, c_db = time.perf_counter() - t, _cpu() - c
        size_mb = (Path(d) / "lineage.sqlite").stat().st_size / 2**20
    total, c_total = t_net + t_sim + t_db, c_net + c_sim + c_db
    load_after = os.getloadavg()
    rows = [["people", f"{people:,}", ""], ["ties (undirected)", f"{society.indices.size // 2:,}", ""],
            ["copies", f"{history.n_copies:,}", ""], ["arrests", f"{len(history.arrests):,}", ""],
            ["network build (s)", f"{t_net:.1f}", f"{c_net:.1f}"], ["simulation (s)", f"{t_sim:.1f}", f"{c_sim:.1f}"],
            ["lineage.sqlite write (s)", f"{t_db:.1f} ({size_mb:.0f} MiB)", f"{c_db:.1f}"],
            ["total (s)", f"{total:.1f}", f"{c_total:.1f}"],
            ["JIT warm-up, cached (s)", f"{jit:.1f}", ""], ["peak RSS (MiB)", f"{peak_rss_mb():.0f}", ""]]
    body = table(["spread 1946-1990", "wall", "CPU"], rows)
    body += (f"\n\nLoad average (1 min) {load_before[0]:.1f} before and {load_after[0]:.1f} after, on "
             f"{os.cpu_count()} cores shared with other work: wall time above CPU time is time spent waiting "
             f"for a core.")

    # SIR: the same random graph for izdat, EoN and NDlib
    rng = np.random.default_rng(5)
    n, m = 20_000, 60_000
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "edges.txt"
        f.write_text("\n".join(f"{u} {v}" for u, v in zip(a[keep], b[keep])))
        indptr, indices, labels = read_edges(f)
    p, init, runs = 0.4, [0, 1, 2], 200
    t = time.perf_counter()
    sir_final_sizes(indptr, indices, labels, p, init, 1)
    sir_jit = time.perf_counter() - t
    t = time.perf_counter()
    sizes = sir_final_sizes(indptr, indices, labels, p, init, runs, 1)
    ours = time.perf_counter() - t
    sir_rows = [["izdat --sir (Numba)", f"{sizes.mean():.0f}", f"{sizes.sum() / ours:,.0f}", f"{sir_jit:.2f}"]]
    eon_rate = None
    try:
        import EoN
        import networkx as nx
        G = nx.Graph()
        G.add_edges_from(zip(a[keep].tolist(), b[keep].tolist()))
        random.seed(1)
        k = 20
        t = time.perf_counter()
        eon = [EoN.basic_discrete_SIR(G, p, initial_infecteds=init)[3][-1] for _ in range(k)]
        el = time.perf_counter() - t
        eon_rate = sum(eon) / el
        sir_rows.append(["EoN basic_discrete_SIR", f"{np.mean(eon):.0f}", f"{eon_rate:,.0f}", "-"])
    except ImportError:
        sir_rows.append(["EoN", "not installed", "-", "-"])
    ndlib_rate = None
    try:
        ndlib_rate, ndlib_mean = _ndlib_sir(a[keep], b[keep], p, init, runs=3)
        sir_rows.append(["NDlib SIRModel (β = p, γ = 1: infectious for one step)", f"{ndlib_mean:.0f}",
                         f"{ndlib_rate:,.0f}", "-"])
    except ImportError:
        sir_rows.append(["NDlib", "not installed in this environment (pip install ndlib)", "-", "-"])
    body += "\n\n" + table(["SIR on 20,000 nodes, 60,000 edges, p=0.4", "mean final size", "infections/s", "JIT (s)"], sir_rows)
    if eon_rate:
        body += f"\n\nizdat is {sizes.sum() / ours / eon_rate:.0f}x faster than EoN in infections per second."
    if ndlib_rate:
        body += f" izdat is {sizes.sum() / ours / ndlib_rate:.0f}x faster than NDlib."
    write_section("bench_spread", "Underground spread (izdat spread)", body)


def _ndlib_sir(a, b, p, init, runs):
    """NDlib's discrete SIR on the same graph: infections per second and mean final size.

    NDlib infects a susceptible node with probability β × (infected neighbours), not
    1 − (1 − p)^k, so its final sizes differ a little from the exact edge-wise model; the speed
    comparison is what this row is for.
    """
    import networkx as nx
    import ndlib.models.ModelConfig as mc
    import ndlib.models.epidemics as ep
    G = nx.Graph()
    G.add_edges_from(zip(a.tolist(), b.tolist()))
    sizes, elapsed = [], 0.0
    for run in range(runs):
        np.random.seed(run)
        model = ep.SIRModel(G, seed=run)
        config = mc.Configuration()
        config.add_model_parameter("beta", p)
        config.add_model_parameter("gamma", 1.0)
        config.add_model_initial_configuration("Infected", list(init))
        model.set_initial_status(config)
        t = time.perf_counter()
        while True:
            it = model.iteration()
            if it["node_count"][1] == 0:
                break
        elapsed += time.perf_counter() - t
        sizes.append(it["node_count"][2])
    return sum(sizes) / elapsed, float(np.mean(sizes))


def scale(plan: dict[int, int]) -> str:
    """The scale table: for each size (people: runs, seeds 1..runs) each figure's mean ± std and range.

    Per-head figures are per 100,000 people; generations count hand-overs from the original.
    """
    from izdat.underground.simulate import C_FAKE, C_GEN, C_MEDIUM, F_MADE
    from izdat.underground.society import DAYS_PER_YEAR
    from izdat.underground.summary import measures
    sc = load_scenario()
    figures = {"bone copies per 100,000 people": [], "bone copies before 1958 per 100,000": [],
               "tape copies per 100,000": [], "arrests per 100,000": [], "cutters per 100,000": [],
               "cutters taken with the 1959 ring per 100,000": [], "flu row: share of 1968 recorder households with a tape by 1970": [],
               "mean generation of a tape": [], "99th percentile of generation": [], "deepest generation": [],
               "wall per run (s)": []}
    cols = []
    for n, runs in plan.items():
        vals = {k: [] for k in figures}
        for seed in range(1, runs + 1):
            t = time.perf_counter()
            society = build_society(n, sc, seed)
            h = simulate(society, sc, seed=seed)
            wall = time.perf_counter() - t
            med, gen = h.ci[:, C_MEDIUM], h.ci[:, C_GEN]
            y = 1946 + h.cf[:, F_MADE] / DAYS_PER_YEAR
            bone = (med == 1) & (h.ci[:, C_FAKE] == 0)
            m = measures(h, society, sc)
            per = 1e5 / n
            for k, v in zip(figures, (bone.sum() * per, (bone & (y < 1958)).sum() * per, (med >= 2).sum() * per,
                                      len(h.arrests) * per, (society.role == 3).sum() * per, m["ring_1959_per_100k"],
                                      m["flu_1970"], gen[med >= 2].mean() if (med >= 2).any() else None,
                                      np.percentile(gen, 99), gen.max(), wall)):
                if v is not None:
                    vals[k].append(float(v))
        cols.append(f"{n:,} ({runs} runs)")
        for k in figures:
            v = np.array(vals[k])
            figures[k].append(f"{v.mean():.3g} ± {v.std(ddof=1) if v.size > 1 else 0:.2g} ({v.min():.3g}–{v.max():.3g})")
    load = os.getloadavg()[0]
    return table(["figure (mean ± std, runs' range)"] + cols, [[k] + c for k, c in figures.items()]) + \
        f"\n\nLoad average (1 min) {load:.1f} at the end, {os.cpu_count()} cores shared."


def scenarios(people: int, runs: int) -> str:
    """The counterfactuals' table of docs/history.md: every shipped scenario beside the default, an
    ensemble of ``runs`` (seeds 1..runs) of ``people`` each, 1946-1990; per-run means ± std."""
    from izdat.underground.scenario import shipped_scenarios
    from izdat.underground.simulate import C_FATE, C_GIVER, C_MEDIUM, C_OWNER, F_MADE
    from izdat.underground.society import DAYS_PER_YEAR
    from izdat.underground.summary import measures
    rows = []
    for name in ["default"] + shipped_scenarios():
        sc = load_scenario(name)
        t = time.perf_counter()
        vals = {k: [] for k in ("bone46", "bone58", "tape", "tape_city", "arrests", "conf", "erased", "rec85")}
        for seed in range(1, runs + 1):
            society = build_society(people, sc, seed)
            h = simulate(society, sc, seed=seed)
            m = measures(h, society, sc)
            med = h.ci[:, C_MEDIUM]
            y = 1946 + h.cf[:, F_MADE] / DAYS_PER_YEAR
            vals["bone46"].append(((med == 1) & (y < 1958)).sum())
            vals["bone58"].append(((med == 1) & (y >= 1958) & (y < 1966)).sum())
            vals["tape"].append((med >= 2).sum())
            vals["arrests"].append(len(h.arrests))
            vals["conf"].append((h.ci[:, C_FATE] == 2).sum())
            vals["erased"].append((h.ci[:, C_FATE] == 3).sum())
            vals["rec85"].append(m["recorders_1985"])
            g = h.ci[:, C_GIVER]
            ok = g >= 0
            vals["tape_city"].append(100 * (society.city[g[ok]] != society.city[h.ci[ok, C_OWNER]]).mean())
        wall = (time.perf_counter() - t) / runs

        def f(k, fmt="{:,.0f}"):
            v = np.array(vals[k], float)
            return f"{fmt.format(v.mean())} ± {fmt.format(v.std(ddof=1) if v.size > 1 else 0)}"
        rows.append([f"`{name}`", f("bone46"), f("bone58"), f("tape"), f("tape_city", "{:.1f}"), f("arrests"),
                     f("conf"), f("erased"), f"{np.mean(vals['rec85']) / 1e6:.2f} M", f"{wall:.2f}"])
    return table(["scenario", "bone copies 1946-57", "bone 1958-65", "tape copies", "% hand-overs between cities",
                  "arrests", "confiscated", "erased at customs", "recorders 1985 (scaled)", "s/run"], rows) + \
        f"\n\n{runs} runs of {people:,} people each (seeds 1-{runs}), 1946-1990, mean ± std over the runs."


def ensemble_speed(people: int, runs: int) -> str:
    """Wall time of an ensemble run serially and on a local Dask cluster of one worker process per
    core (what ``--cluster local`` starts), the same seeds: the cluster's start, its first ensemble
    (each worker imports izdat and loads the compiled engine) and a second one on the warm workers."""
    from distributed import LocalCluster

    from izdat.underground.ensemble import local_workers, run_ensemble
    sc = load_scenario()
    seeds = range(1, runs + 1)
    run_ensemble(2000, sc, [0], 1946, 1990)                      # JIT warm (cached)
    t = time.perf_counter()
    serial = run_ensemble(people, sc, seeds, 1946, 1990)
    t_serial = time.perf_counter() - t
    t = time.perf_counter()
    with LocalCluster(n_workers=local_workers(runs), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        t_start = time.perf_counter() - t
        t = time.perf_counter()
        cold = run_ensemble(people, sc, seeds, 1946, 1990, cluster=cluster.scheduler_address)
        t_cold = time.perf_counter() - t
        t = time.perf_counter()
        warm = run_ensemble(people, sc, seeds, 1946, 1990, cluster=cluster.scheduler_address)
        t_warm = time.perf_counter() - t
    assert cold["runs"] == serial["runs"] == warm["runs"]
    load = os.getloadavg()[0]
    return (table(["ensemble of " + f"{runs} x {people:,} people", "wall (s)", "processes", "vs serial"],
                  [["serial, in this process", f"{t_serial:.1f}", f"{serial['processes']}", "1"],
                   ["local cluster: start", f"{t_start:.1f}", "", ""],
                   ["local cluster: first ensemble (workers import izdat)", f"{t_cold:.1f}", f"{cold['processes']}",
                    f"{t_serial / t_cold:.2f}x"],
                   ["local cluster: second ensemble, warm workers", f"{t_warm:.1f}", f"{warm['processes']}",
                    f"{t_serial / t_warm:.2f}x"]])
            + f"\n\n{os.cpu_count()} cores, load average {load:.1f} at the end (shared with other work); the same "
              f"runs, figure for figure, in every row.")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--scenarios":
        print(scenarios(int(sys.argv[2]) if len(sys.argv) > 2 else 100_000, int(sys.argv[3]) if len(sys.argv) > 3 else 8))
    elif len(sys.argv) > 1 and sys.argv[1] == "--ensemble":
        print(ensemble_speed(int(sys.argv[2]) if len(sys.argv) > 2 else 200_000, int(sys.argv[3]) if len(sys.argv) > 3 else 8))
    elif len(sys.argv) > 1 and sys.argv[1] == "--scale":
        plan = dict((int(a.split(":")[0]), int(a.split(":")[1])) for a in sys.argv[2:]) or \
            {20_000: 8, 100_000: 8, 200_000: 8, 1_000_000: 4}
        print(scale(plan))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
