"""`izdat spread` (simulate the underground, or validate with plain SIR), `izdat lineage`, `izdat copies` and `izdat listen`."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Optional, Tuple

import typer

from izdat.cli._app import app
from izdat.files import atomic_path, staged_folder
from izdat.progress import console, progress
from izdat.underground.errors import SpreadError
from izdat.underground.limits import LIMITS, check_memory


def _years(text: str) -> tuple[int, int]:
    lo, hi = LIMITS["year"]
    m = re.fullmatch(r"\s*(\d{4})\s*[-:]\s*(\d{4})\s*", text)
    if not m:
        raise SpreadError(f"--years must look like {lo}-{hi - 1}, got {text!r}.")
    a, b = int(m.group(1)), int(m.group(2))
    if not (lo <= a <= b <= hi):
        raise SpreadError(f"--years {a}-{b} must lie within {lo}-{hi} with the first year not after the last.")
    return a, b


def _option(name: str, value: int, limit: str, what: str = "") -> int:
    """``value`` of option ``name`` within :data:`LIMITS` ``[limit]``, or one sentence naming the option."""
    lo, hi = LIMITS[limit]
    if not lo <= value <= hi:
        raise SpreadError(f"{name} must be {what or 'a whole number'} from {lo:,} to {hi:,}, got {value:,}.")
    return value


def _sir(edges: Path, p: Optional[float], initial: str, runs: int, seed: int, as_json: bool) -> None:
    from izdat.underground.sir import read_edges, sir_final_sizes
    if p is None:
        raise SpreadError("--sir needs --p, the transmission probability per edge.")
    lo, hi = LIMITS["probability"]
    if not lo <= p <= hi:
        raise SpreadError(f"--p must lie in {lo:g}-{hi:g}, got {p}.")
    _option("--runs", runs, "sir_runs", "a number of runs")
    try:
        init = [int(x) for x in initial.split(",") if x.strip()]
    except ValueError:
        raise SpreadError(f"--initial must be comma-separated node ids, got {initial!r}.") from None
    for node in init:
        _option("--initial", node, "node", "node ids")
    indptr, indices, labels = read_edges(edges)
    t = time.perf_counter()
    sizes = sir_final_sizes(indptr, indices, labels, p, init, runs, seed)
    took = time.perf_counter() - t
    out = {"nodes": int(labels.size), "edges": int(indices.size // 2), "p": p, "initial": init, "runs": runs,
           "mean": float(sizes.mean()), "std": float(sizes.std(ddof=1)) if runs > 1 else 0.0,
           "sizes": sizes.tolist(), "seconds": took}
    if as_json:
        print(json.dumps(out))
    else:
        print(f"final size {out['mean']:.2f} ± {out['std']:.2f} over {runs} runs ({out['nodes']} nodes)")


@app.command()
def spread(
    outdir: Optional[Path] = typer.Option(None, "-o", "--outdir", help="Folder for lineage.sqlite, summary.json and plots."),
    people: int = typer.Option(100_000, "--people", help="People in the synthetic society."),
    years: str = typer.Option("1946-1990", "--years", help="First and last year, within 1946-1991."),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same database."),
    scenario: Optional[str] = typer.Option(None, "--scenario", help="TOML file of parameters over the default, or a shipped scenario's name (no-ban, czechoslovakia, ...)."),
    runs: Optional[int] = typer.Option(None, "--runs", help="Runs (seeds seed, seed+1, ...): an ensemble with uncertainty (default 1; 4 with --compare)."),
    compare: Optional[Tuple[str, str]] = typer.Option(None, "--compare", help="Two scenarios (names, paths or 'default'): an ensemble of each, their yearly curves in compare.png."),
    cluster: Optional[str] = typer.Option(None, "--cluster", help="Dask scheduler address for --runs, or 'local'."),
    sir: Optional[Path] = typer.Option(None, "--sir", help="Validation: plain SIR on this edge list instead."),
    p: Optional[float] = typer.Option(None, "--p", help="SIR transmission probability per edge."),
    initial: str = typer.Option("0", "--initial", help="SIR initially infected nodes, comma-separated."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON on stdout."),
) -> None:
    """Simulate copies spreading through a Soviet society from 1946; write lineage.sqlite, summary.json, plots."""
    _option("--seed", seed, "seed", "a seed")
    if compare is not None and (scenario is not None or sir is not None):
        raise SpreadError(f"--compare runs its own two scenarios; give it without --{'scenario' if scenario is not None else 'sir'}.")
    runs = (4 if compare is not None else 1) if runs is None else runs
    if compare is not None and runs < 2:
        raise SpreadError(f"--compare draws bands over an ensemble: give --runs 2 or more with it (got --runs {runs}).")
    if runs < 1:
        raise SpreadError(f"--runs must be at least 1, got {runs}.")
    if cluster is not None and runs < 2:
        raise SpreadError(f"--cluster {cluster} runs an ensemble: give --runs 2 or more with it (got --runs {runs}).")
    if runs > 1 and sir is None and seed + runs - 1 > LIMITS["seed"][1]:
        raise SpreadError(f"--seed {seed} with --runs {runs} would need seeds past the largest, {LIMITS['seed'][1]:,}.")
    if sir is not None:
        _sir(sir, p, initial, runs, seed, as_json)
        return
    from izdat.underground import build_society, load_scenario, simulate
    from izdat.underground.ensemble import run_ensemble
    from izdat.underground.lineage import write_lineage
    from izdat.underground.plots import write_plots
    from izdat.underground.summary import summarize

    if people < 1:
        raise SpreadError(f"--people must be a positive number of people, got {people}.")
    _option("--runs", runs, "runs", "a number of runs")
    # before any allocation: the run's society and history stay while the ensemble runs, so one
    # more is held here, one per worker with a 'local' cluster (one worker process per core)
    from izdat.underground.ensemble import local_workers
    check_memory(people, copies=1 + (0 if runs == 1 else local_workers(runs) if cluster == "local"
                                     else 1 if cluster is None else 0))
    _option("--people", people, "people", "a number of people")
    if outdir is None:
        raise SpreadError("izdat spread needs -o OUTDIR (or --sir EDGES for the validation mode).")
    start, end = _years(years)
    if compare is not None:
        _compare(outdir, people, compare, runs, seed, start, end, cluster, as_json)
        return
    sc = load_scenario(scenario)
    t0 = time.perf_counter()
    with progress() as bar, staged_folder(outdir) as stage:
        task = bar.add_task("building society", total=4)
        society = build_society(people, sc, seed)
        bar.update(task, advance=1, description="simulating")
        history = simulate(society, sc, seed=seed, start_year=start, end_year=end)
        bar.update(task, advance=1, description="writing lineage.sqlite")
        from izdat import __version__ as version
        write_lineage(stage / "lineage.sqlite", history, society, scenario_text=sc.text, version=str(version))
        bar.update(task, advance=1, description="plots")
        summary = summarize(history, society, sc)
        write_plots(summary, stage, wage_rub=(sc["money"]["wage_low_rub"], sc["money"]["wage_high_rub"]))
        if runs > 1:
            bar.update(task, description=f"ensemble of {runs}")
            summary["ensemble"] = run_ensemble(people, sc, range(seed, seed + runs), start, end, cluster)
        summary["seconds"] = round(time.perf_counter() - t0, 2)
        with atomic_path(stage / "summary.json") as tmp:
            tmp.write_text(json.dumps(summary, indent=1))
        bar.update(task, advance=1)
    if as_json:
        print(json.dumps({k: v for k, v in summary.items() if k != "yearly"}))
    else:
        console.print(f"{summary['copies']:,} copies of {summary['titles']} recordings among {people:,} people, "
                      f"{summary['arrests']:,} arrests; written to {outdir}", markup=False)
        if runs > 1:
            st = summary["ensemble"]["stats"]
            console.print(f"ensemble of {runs} runs (seeds {seed}-{seed + runs - 1}): "
                          + ", ".join(f"{k.replace('_', ' ')} {st[k]['mean']:,.1f} ± {st[k]['std']:,.1f}"
                                      for k in ("copies", "arrests", "max_generation"))
                          + " (mean ± std)", markup=False, soft_wrap=True)


def _compare(outdir: Path, people: int, names: tuple[str, str], runs: int, seed: int, start: int, end: int,
             cluster: Optional[str], as_json: bool) -> None:
    """``izdat spread --compare A B``: an ensemble of each scenario on the same seeds; summary.json
    and compare.png in ``outdir``."""
    from izdat.underground import load_scenario
    from izdat.underground.compare import compare_scenarios
    from izdat.underground.plots import compare_figure

    scenarios = [(name, load_scenario(name)) for name in names]
    t0 = time.perf_counter()
    with progress() as bar, staged_folder(outdir) as stage:
        task = bar.add_task(f"ensembles of {runs} runs: {names[0]} vs {names[1]}", total=1)
        result = compare_scenarios(people, scenarios, range(seed, seed + runs), start, end, cluster)
        compare_figure(stage / "compare.png", result)
        result["seconds"] = round(time.perf_counter() - t0, 2)
        with atomic_path(stage / "summary.json") as tmp:
            tmp.write_text(json.dumps({"compare": result}, indent=1))
        bar.update(task, advance=1)
    if as_json:
        print(json.dumps({"compare": {**result, "scenarios": [{k: v for k, v in sc.items() if k != "curves"}
                                                              for sc in result["scenarios"]]}}))
        return
    console.print(f"{runs} runs each of {people:,} people (seeds {seed}-{seed + runs - 1}), {start}-{end}; "
                  f"compare.png and summary.json written to {outdir}", markup=False)
    for sc in result["scenarios"]:
        st, cv = sc["stats"], sc["curves"]
        console.print(f"{sc['name']}: copies {st['copies']['mean']:,.1f} ± {st['copies']['std']:,.1f}, "
                      f"bone {st['copies_bone']['mean']:,.1f}, tapes "
                      f"{st['copies_reel']['mean'] + st['copies_cassette']['mean']:,.1f}, "
                      f"arrests {st['arrests']['mean']:,.1f} ± {st['arrests']['std']:,.1f} (mean ± std); "
                      f"calibration rows passed {sc['calibration_passed']} of {len(sc['calibration'])}",
                      markup=False, soft_wrap=True)


@app.command()
def lineage(
    db: Path = typer.Argument(..., help="lineage.sqlite written by izdat spread."),
    copy_id: int = typer.Argument(..., help="Id of the copy (izdat copies DB --deepest finds one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the chain as JSON (one line)."),
    as_story: bool = typer.Option(False, "--story", help="Tell the copy's story in prose, from the original down."),
) -> None:
    """Print a copy's chain back to the original: who copied it from whom, on what, when."""
    from izdat.underground.lineage import chain, story
    if as_json and as_story:
        raise SpreadError("--json and --story are two ways to print the chain; give one of them.")
    if as_story:
        sys.stdout.write(story(db, copy_id))
        return
    rows = chain(db, copy_id)
    if as_json:
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    for r in rows:
        how = r["deck"] or r["lathe"] or ""
        maker = "abroad / the state" if r["maker"] is None else f"person {r['maker']}"
        giver = r.get("giver")
        handed = f" (handed over by person {giver})" if giver is not None and giver != r["maker"] else ""
        print(f"copy {r['id']:>9}  gen {r['generation']:>2}  {r['medium']:<8} {r['made']}  {r['city']:<12} "
              f"made by {maker}{' on ' + how if how else ''} for person {r['owner']}{handed}, "
              f"{r['price_rub']:.2f} rub, {r['fate']}{' (fake)' if r['fake'] else ''}")


@app.command()
def copies(
    db: Path = typer.Argument(..., help="lineage.sqlite written by izdat spread."),
    deepest: bool = typer.Option(False, "--deepest", help="The deepest copies first (most generations from the original)."),
    medium: Optional[str] = typer.Option(None, "--medium", help="bone, reel, cassette or LP."),
    title: Optional[str] = typer.Option(None, "--title", help="A title's id, or words of its song's name."),
    performer: Optional[str] = typer.Option(None, "--performer", help="Words of the performer's name, e.g. Vysotsky."),
    city: Optional[str] = typer.Option(None, "--city", help="Copies made in this city."),
    year: Optional[int] = typer.Option(None, "--year", help="Copies made in this year (YYYY)."),
    limit: int = typer.Option(20, "--limit", help="Most copies to list."),
    as_json: bool = typer.Option(False, "--json", help="Print the copies as JSON (one line)."),
) -> None:
    """Find copies: by medium, title, performer, city and year, the deepest first with --deepest."""
    from izdat.underground.lineage import find_copies
    found = find_copies(db, deepest=deepest, medium=medium, title=title, performer=performer, city=city,
                        year=year, limit=limit)
    if as_json:
        sys.stdout.write(json.dumps(found) + "\n")
        return
    if not found:
        print("no copy matches.")
        return
    for r in found:
        song = f"{r['performer']}: {r['name']}" if r.get("performer") else f"title {r['title']} ({r['source'] or '?'})"
        print(f"copy {r['id']:>9}  gen {r['generation']:>2}  {r['medium']:<8} {r['made']}  {r['city']:<12} "
              f"{song}  [{r['fate']}]")


@app.command()
def listen(
    db: Path = typer.Argument(..., help="lineage.sqlite written by izdat spread."),
    copy_id: int = typer.Argument(..., help="Id of the copy to hear."),
    song: Path = typer.Argument(..., help="The song the copy's title stands for (WAV, FLAC, ...)."),
    output: Path = typer.Option(Path("copy.wav"), "-o", "--output", help="Audio file to write (.wav or .flac)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Override the run's seed (default: the seed in the database)."),
) -> None:
    """Render what one copy sounds like: SONG through every lathe, gramophone and tape deck on its lineage."""
    from izdat.audio import load, save
    from izdat.underground.lineage import chain, open_lineage
    from izdat.underground.listen import listen as render

    if output.suffix.lower() not in (".wav", ".flac"):
        raise SpreadError(f"-o must end in .wav or .flac, not {output.name!r}.")
    con = open_lineage(db)
    try:
        steps = len(chain(con, copy_id))
        audio = load(song)
        t0 = time.perf_counter()
        with progress() as bar:
            task = bar.add_task("rendering the lineage", total=steps)
            heard = render(con, copy_id, audio, seed=seed,
                           progress=lambda done, total, what: bar.update(task, completed=done, description=what))
    finally:
        con.close()
    save(heard, output)
    console.print(f"copy {copy_id}: {steps} step(s) rendered in {time.perf_counter() - t0:.1f} s; wrote {output}",
                  markup=False)
