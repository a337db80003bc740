"""`izdat dub`, `izdat decks`, `izdat measure`, `izdat erase`: the tape deck on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer

from izdat.audio import load, save
from izdat.cli._app import app
from izdat.files import check_output_file, check_output_folder, staged_folder
from izdat.progress import console, progress
from izdat.tape.deck import TapeDeck, TapeError, known_deck
from izdat.tape.presets import PRESETS

#: Most generations one command will copy (a real chain rarely passed 10).
MAX_GENERATIONS = 99


def _decks_for(deck: str | None, chain: str | None, generations: int | None, seed: int) -> list[TapeDeck]:
    if deck and chain:
        raise TapeError("give either --deck or --chain, not both")
    names = [n.strip() for n in chain.split(",")] if chain else [deck or "elektronika-302"]
    if any(not n for n in names):
        raise TapeError(f"--chain must be deck names separated by commas, not {chain!r}")
    for n in names:
        known_deck(n)
    if generations is None:
        generations = len(names) if chain else 1
    if not 1 <= generations <= MAX_GENERATIONS:
        raise TapeError(f"--generations must be between 1 and {MAX_GENERATIONS}, not {generations}")
    machines = {}
    out = []
    for g in range(generations):
        n = names[g % len(names)]
        if n not in machines:  # one machine per model in the chain, each its own serial number
            machines[n] = TapeDeck(n, seed=seed + len(machines))
        out.append(machines[n])
    return out


def _generation_name(g: int) -> str:
    return f"generation-{g + 1:02d}.wav"


def _song(path: Path):
    """The song, loaded and checked as a deck will check it: not empty, every sample finite."""
    audio = load(path)
    if len(audio) == 0:
        raise TapeError(f"{path.name} is empty: it holds no samples to record")
    if not np.all(np.isfinite(audio.samples)):
        raise TapeError(f"{path.name} holds NaN or infinite samples")
    return audio


@app.command()
def dub(
    song: Path = typer.Argument(..., help="Audio file to copy (WAV, FLAC, …)."),
    output: Path = typer.Option(Path("out/dub"), "-o", "--output", help="Folder for generation-NN.wav."),
    deck: str = typer.Option(None, "--deck", help="Deck model for every copy (see `izdat decks`)."),
    chain: str = typer.Option(None, "--chain", help="Decks in order, comma-separated; copies cycle through them."),
    generations: int = typer.Option(None, "--generations", "-n", help="How many copies (default: 1, or the chain's length)."),
    live: str = typer.Option(None, "--live", help="Record it first as a live concert: 'apartment'."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random thing (machines, audience)."),
):
    """Copy SONG tape to tape: generation-01.wav is the first recording, each next one a copy of it."""
    if seed < 0:
        raise TapeError(f"--seed must be zero or positive, not {seed}")
    decks = _decks_for(deck, chain, generations, seed)
    if live is not None and live != "apartment":
        raise TapeError(f"--live knows only 'apartment', not {live!r}")
    # the settings, the folder and the song are checked before any work: a bad one creates nothing
    check_output_folder(output, [_generation_name(g) for g in range(len(decks))])
    audio = _song(song)
    if live is not None:
        from izdat.tape.concert import apartment_concert
        audio = apartment_concert(audio, seed=seed)
    with staged_folder(output) as stage, progress() as bar:
        task = bar.add_task("dubbing", total=len(decks))
        tape = decks[0].record(audio)
        for g, d in enumerate(decks):
            if g > 0:
                tape = decks[g - 1].dub(tape, onto=d)
            save(d.play(tape), stage / _generation_name(g))
            bar.advance(task)
    console.print(f"wrote {len(decks)} generation(s) to {output}")


@app.command()
def decks(as_json: bool = typer.Option(False, "--json", help="Print a JSON list for machines.")):
    """List the deck presets with their published specifications and sources."""
    rows = [p.published() for p in PRESETS.values()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(f"{r['name']:16s} {r['title']} ({r['made']}), {r['kind']} {r['speed_cm_s']:g} cm/s: "
                   f"{r['lower_hz']:g}–{r['upper_hz']:g} Hz, S/N {r['snr_db']:g} dB, "
                   f"W&F {r['wow_flutter_pct']:g} %")
        for s in r["sources"]:
            typer.echo(f"{'':17s}source: {s}")


@app.command()
def measure(
    deck: str = typer.Option(..., "--deck", help="Deck model to measure."),
    generations: int = typer.Option(1, "--generations", "-n", help="Measure the n-th copy made on it."),
    seed: int = typer.Option(0, "--seed", help="Serial number of the machine."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
):
    """Measure a deck like its service manual: W&F, S/N, frequency response; beside the published figures."""
    from izdat.tape.meter import measure as run_measure
    if not 1 <= generations <= 50:
        raise TapeError(f"--generations must be between 1 and 50, not {generations}")
    if seed < 0:
        raise TapeError(f"--seed must be zero or positive, not {seed}")
    machine = TapeDeck(deck, seed=seed)
    m = run_measure(machine, generations).as_dict()
    pub = machine.preset.published()
    if as_json:
        typer.echo(json.dumps({"measured": m, "published": pub}, indent=2, ensure_ascii=False, default=float))
        return
    typer.echo(f"{machine!r}, generation {generations}")
    typer.echo(f"{'':24s}{'measured':>12s}{'published':>12s}")
    for label, key, pkey in [("W&F weighted peak %", "wow_flutter_pct", "wow_flutter_pct"),
                             ("S/N unweighted dB", "snr_db", "snr_db"),
                             ("S/N A-weighted dB", "snr_a_db", None),
                             ("upper −3 dB limit Hz", "upper_hz", "upper_hz"),
                             ("lower −3 dB limit Hz", "lower_hz", "lower_hz")]:
        pv = f"{pub[pkey]:g}" if pkey else "—"
        typer.echo(f"{label:24s}{m[key]:>12g}{pv:>12s}")


@app.command()
def erase(
    song: Path = typer.Argument(..., help="Audio of the tape's content (recorded first on --deck)."),
    output: Path = typer.Option(Path("out/erased.wav"), "-o", "--output", help="WAV of what is left."),
    deck: str = typer.Option("elektronika-302", "--deck", help="Deck that recorded and plays the tape."),
    field_ka_m: float = typer.Option(20.0, "--field-ka-m", help="Peak AC field of the degausser, kA/m."),
    seed: int = typer.Option(0, "--seed", help="Seed of the machine and the eraser."),
):
    """Bulk-erase a tape (a customs degausser): a weak field leaves a faint, distorted remnant."""
    from izdat.tape.erase import erase as do_erase
    if seed < 0:
        raise TapeError(f"--seed must be zero or positive, not {seed}")
    if output.suffix.lower() not in (".wav", ".flac"):
        raise TapeError(f"--output must end in .wav or .flac, not {output.name!r}")
    machine = TapeDeck(deck, seed=seed)
    check_output_file(output)
    audio = _song(song)
    tape = do_erase(machine.record(audio), field_ka_m=field_ka_m, seed=seed)
    save(machine.play(tape), output)
    console.print(f"wrote {output}")
