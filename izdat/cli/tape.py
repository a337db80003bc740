"""`izdat dub`, `izdat decks`, `izdat tapes`, `izdat measure`, `izdat erase`: the tape deck on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer

from izdat.audio import load, save
from izdat._check import check_number
from izdat.cli._app import app
from izdat.files import check_output_file, check_output_folder, staged_folder
from izdat.progress import console, progress
from izdat.tape.deck import TapeDeck, TapeError, known_deck
from izdat.tape.formulations import STORED_YEARS_MAX, TAPES, store
from izdat.tape.presets import PRESETS

#: Most generations one command will copy (a real chain rarely passed 10).
MAX_GENERATIONS = 99


def _decks_for(deck: str | None, chain: str | None, generations: int | None, seed: int,
               bias: float = 1.0, tape: str | None = None, bias_trim: bool = True) -> list[TapeDeck]:
    if deck and chain:
        raise TapeError("give either --deck or --chain, not both")
    names = [n.strip() for n in chain.split(",")] if chain else [deck or "elektronika-302"]
    if any(not n for n in names):
        raise TapeError(f"--chain must be deck names separated by commas, not {chain!r}")
    for n in names:
        known_deck(n)
    tapes = [None] * len(names)
    if tape is not None:  # one tape for every deck, or one per deck of the chain
        given = [t.strip() for t in tape.split(",")]
        if len(given) not in (1, len(names)) or any(not t for t in given):
            raise TapeError(f"--tape must name one tape, or one per deck of --chain ({len(names)}), not {tape!r}")
        tapes = given * len(names) if len(given) == 1 else given
        for n, t in zip(names, tapes):  # unknown, or a reel tape on a cassette deck: say so before any work
            TapeDeck(n, tape=t)
    if generations is None:
        generations = len(names) if chain else 1
    if not 1 <= generations <= MAX_GENERATIONS:
        raise TapeError(f"--generations must be between 1 and {MAX_GENERATIONS}, not {generations}")
    serial: dict[str, int] = {}
    machines = {}
    out = []
    for g in range(generations):
        n, t = names[g % len(names)], tapes[g % len(names)]
        serial.setdefault(n, seed + len(serial))  # one machine per model, each its own serial number
        if (n, t) not in machines:                # (loaded with the tape its place in the chain names)
            machines[n, t] = TapeDeck(n, seed=serial[n], bias=bias, tape=t, bias_trim=bias_trim)
        out.append(machines[n, t])
    return out


def _generation_name(g: int, decks: list[TapeDeck] | None = None) -> str:
    """``generation-02-on-sony-tc-260.wav`` in a chain of more than one model, else ``generation-02.wav``."""
    if decks is None or len({d.name for d in decks}) < 2:
        return f"generation-{g + 1:02d}.wav"
    return f"generation-{g + 1:02d}-on-{decks[g].name}.wav"


def _machine(deck: TapeDeck) -> dict:
    """Every setting of one machine, enough to build it again."""
    p = deck.preset
    return {"model": deck.name, "title": p.title, "seed": deck.seed, "kind": p.kind,
            "speed_cm_s": p.speed_cm_s, "speed_error_pct": round(deck.speed_error_pct, 6),
            "azimuth_arcmin": round(deck.azimuth_arcmin, 6), "bias": deck.bias,
            "bias_trim": deck.bias_trim, "effective_bias": round(deck.effective_bias, 6),
            "record_level_db": deck.record_level_db, "tape": deck.tape.name,
            "formulation": deck.tape.coating}


def _can_play(deck: TapeDeck, tape) -> bool:
    return tape.kind == deck.preset.kind and abs(tape.speed_cm_s - deck.preset.speed_cm_s) <= 0.05


def copy_chain(audio, decks: list[TapeDeck], *, same_deck: bool = False, stored_years: float = 0.0,
               on_generation=None) -> list[dict]:
    """Copy ``audio`` along ``decks``: generation 1 is recorded on ``decks[0]``; generation g + 1 is
    recorded on ``decks[g]`` from generation g played on ``decks[g]`` itself (the friend's machine
    plays the tape it was given), so each step carries the speed error and azimuth of two machines:
    pitch × (1 + ε_play)/(1 + ε_rec), azimuth loss of their difference. Where ``decks[g]`` cannot play
    the tape (another kind or speed), or with ``same_deck``, the tape is played on the machine that
    recorded it (cabled to the next one: no mismatch). Each generation is heard on the machine that
    recorded it. Each tape lies ``stored_years`` on the shelf before it is played (its print-through
    grows, :func:`izdat.tape.formulations.store`). Returns one dict per generation: ``tape``,
    ``heard`` (Audio) and ``step`` (what played what, for chain.json); ``on_generation(g)`` is
    called after each."""
    out = []
    tape = None
    cumulative = 1.0
    for g, d in enumerate(decks):
        if g == 0:
            tape = d.record(audio)
            step = {"played_on": None, "recorded_on": 0}
        else:
            prev = decks[g - 1]
            cross = not same_deck and d is not prev and _can_play(d, tape)
            player_index = g if cross else g - 1
            player = decks[player_index]
            ratio = (1 + player.speed_error_pct / 100) / (1 + prev.speed_error_pct / 100)
            cumulative *= ratio
            step = {"played_on": player_index, "recorded_on": g,
                    "pitch_ratio": round(ratio, 9),
                    "azimuth_error_arcmin": round(player.azimuth_arcmin - prev.azimuth_arcmin, 6)}
            if not same_deck and not cross and d is not prev:
                step["note"] = (f"{d.name} cannot play a {tape.kind} tape at {tape.speed_cm_s:g} cm/s: "
                                f"{prev.name} played it into {d.name}")
            tape = player.dub(tape, onto=d)
        tape = store(tape, stored_years)
        step["pitch_ratio_to_source"] = round(cumulative, 9)
        out.append({"tape": tape, "heard": d.play(tape), "step": step})
        if on_generation is not None:
            on_generation(g)
    return out


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
    output: Path = typer.Option(Path("out/dub"), "-o", "--output", help="Folder for generation-NN[-on-MODEL].wav and chain.json."),
    deck: str = typer.Option(None, "--deck", help="Deck model for every copy (see `izdat decks`) (default: elektronika-302)."),
    chain: str = typer.Option(None, "--chain", help="Decks in order, comma-separated; copies cycle through them."),
    generations: int = typer.Option(None, "--generations", "-n", help="How many copies (default: 1, or the chain's length)."),
    same_deck: bool = typer.Option(False, "--same-deck", help="Play each tape on the deck that recorded it (no mismatch between machines)."),
    live: str = typer.Option(None, "--live", help="Record it first as a live concert: 'apartment'."),
    bias: float = typer.Option(1.0, "--bias", help="Bias current as a ratio to each deck's optimum (0 = none, grossly "
                                                    "distorted; under 1 brighter and dirtier; over 1 duller)."),
    tape: str = typer.Option(None, "--tape", help="Tape loaded in every deck, or one per deck of --chain, comma-separated "
                                                  "(see `izdat tapes`) (default: each deck's usual tape)."),
    no_bias_trim: bool = typer.Option(False, "--no-bias-trim", help="Leave each deck's bias where its usual tape wants it "
                                      "(no tape selector): a harder tape (chrome) is under-biased, brighter and dirtier."),
    stored_years: float = typer.Option(0.0, "--stored-years", help="Years each copy lies on the shelf before it is played "
                                                                   "(print-through grows about 2 dB per tenfold time)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random thing (machines, audience)."),
):
    """Copy SONG tape to tape: generation 1 is recorded on the first deck; each next deck plays the
    tape it is given and records the next generation (its speed and azimuth against the last one's).

    Each generation is written as heard on the machine that recorded it: generation-02-on-MODEL.wav
    in a chain of several models (generation-02.wav with one), with chain.json: every machine's
    settings and seed, and what played what.
    """
    if seed < 0:
        raise TapeError(f"--seed must be zero or positive, not {seed}")
    check_number("--bias", bias, *TapeDeck.LIMITS["bias"][:2], "(1 = the deck's optimum)", error=TapeError)
    check_number("--stored-years", stored_years, 0.0, STORED_YEARS_MAX, "years", error=TapeError)
    decks = _decks_for(deck, chain, generations, seed, bias, tape, bias_trim=not no_bias_trim)
    if live is not None and live != "apartment":
        raise TapeError(f"--live knows only 'apartment', not {live!r}")
    names = [_generation_name(g, decks) for g in range(len(decks))]
    # the settings, the folder and the song are checked before any work: a bad one creates nothing
    check_output_folder(output, names + ["chain.json"])
    audio = _song(song)
    if live is not None:
        from izdat.tape.concert import apartment_concert
        audio = apartment_concert(audio, seed=seed)
    machines = list(dict.fromkeys(decks))  # each machine once, in order of first use
    with staged_folder(output) as stage, progress() as bar:
        task = bar.add_task("dubbing", total=len(decks))
        copies = copy_chain(audio, decks, same_deck=same_deck, stored_years=stored_years,
                            on_generation=lambda g: bar.advance(task))
        gens = []
        for g, c in enumerate(copies):
            save(c["heard"], stage / names[g])
            step = dict(c["step"])
            for key in ("played_on", "recorded_on"):
                step[key] = None if step[key] is None else machines.index(decks[step[key]])
            gens.append({"generation": g + 1, "file": names[g], **step, "history": list(c["tape"].history)})
        record = {"song": song.name, "seed": seed, "live": live, "stored_years": stored_years,
                  "mode": "same deck" if same_deck else "between machines",
                  "machines": [_machine(m) for m in machines], "generations": gens}
        (stage / "chain.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    console.print(f"wrote {len(decks)} generation(s) and chain.json to {output}")


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
                   f"W&F {r['wow_flutter_pct']:g} %, usual tape {r['tape']}")
        for s in r["sources"]:
            typer.echo(f"{'':17s}source: {s}")


@app.command()
def tapes(as_json: bool = typer.Option(False, "--json", help="Print a JSON list for machines.")):
    """List the tape formulations with their data-sheet figures (dB re the reference tape) and sources."""
    rows = [t.published() for t in TAPES.values()]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    usual = {}
    for p in PRESETS.values():
        usual.setdefault(p.tape, []).append(p.name)
    for r in rows:
        typer.echo(f"{r['name']:14s} {r['title']} ({r['made']}), {r['kind']}, {r['coating']} IEC {r['iec_type']}, "
                   f"Hc {r['coercivity_ka_m']:g} kA/m: sensitivity {r['sensitivity_db']:+g}, MOL {r['mol_db']:+g}, "
                   f"SOL10k {r['sol_db']:+g}, noise {r['noise_db']:+g} dB; print-through {r['print_through_db']:g} dB "
                   f"after a day, +{r['print_growth_db_per_decade']:g} dB per tenfold time; modulation noise "
                   f"{r['modulation_noise_db']:g} dB")
        typer.echo(f"{'':15s}usual tape of: {', '.join(usual.get(r['name'], [])) or 'no preset'}")
        for src in r["sources"]:
            typer.echo(f"{'':15s}source: {src}")


def _service_levels(machine: TapeDeck) -> dict:
    """Sensitivity (315 Hz at −20 dB: output − input), MOL (315 Hz, 3 % H3) and SOL (10 kHz) of
    ``machine`` in dB re its reference level, as a service manual measures them
    (izdat.tape.service); None where one cannot be read."""
    from izdat.tape.service import level_sweep, mol_db, sol_db
    out = {"sensitivity_315_db": round(float(level_sweep(machine, 315.0, [-20.0])["output_db"][0] + 20.0), 2)}
    for key, fn in (("mol_db", mol_db), ("sol_10k_db", lambda d: sol_db(d, freq_hz=10_000.0))):
        try:
            out[key] = round(float(fn(machine)), 2)
        except TapeError:
            out[key] = None
    return out


def _measure_wav(path: Path, tone_hz: float, as_json: bool) -> None:
    from izdat.tape.meter import analyse_recording
    audio = load(path)
    r = analyse_recording(audio.samples, audio.sample_rate, tone_hz=tone_hz, name=path.name)
    if as_json:
        typer.echo(json.dumps({"file": path.name, **r}, indent=2, ensure_ascii=False))
        return
    if r["kind"] == "tone":
        typer.echo(f"{path.name}: a {r['measured_hz']:.2f} Hz tone (nominal {r['tone_hz']:g} Hz)")
        for label, key in [("W&F weighted 2σ %", "wow_flutter_2sigma_pct"),
                           ("W&F weighted quasi-peak %", "wow_flutter_qp_pct"),
                           ("W&F unweighted 2σ %", "wow_flutter_unweighted_2sigma_pct"),
                           ("speed error %", "speed_error_pct")]:
            typer.echo(f"{label:28s}{r[key]:>+12.4f}" if key == "speed_error_pct" else f"{label:28s}{r[key]:>12.4f}")
        return
    typer.echo(f"{path.name}: noise or a sweep; third-octave band levels, dB re the 1 kHz band "
               f"(flat for pink noise or a log sweep)")
    for f, v in zip(r["bands_hz"], r["response_db"]):
        typer.echo(f"{f:>10.0f} Hz{v:>+9.2f}")
    typer.echo(f"−3 dB limits: {r['lower_hz']:g} – {r['upper_hz']:g} Hz")


@app.command()
def measure(
    deck: str = typer.Option(None, "--deck", help="Deck model to measure."),
    wav: Path = typer.Option(None, "--wav", help="Measure your own recording instead: a test tone, or noise or a sweep."),
    tone: float = typer.Option(3150.0, "--tone", help="Nominal frequency of the recording's test tone, Hz (with --wav)."),
    generations: int = typer.Option(1, "--generations", "-n", help="Measure the n-th copy made on it."),
    seed: int = typer.Option(0, "--seed", help="Serial number of the machine."),
    tape: str = typer.Option(None, "--tape", help="Tape loaded in it (see `izdat tapes`) (default: the deck's usual tape)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
):
    """Measure a deck like its service manual (W&F, S/N, response, beside the published figures),
    or a recording of your own with the same meter (--wav: W&F and speed error of a test tone, or
    the response of noise or a sweep)."""
    from izdat.tape.meter import measure as run_measure
    if (deck is None) == (wav is None):
        raise TapeError("give either --deck or --wav (one of them)")
    if wav is not None:
        if tape is not None:
            raise TapeError("--tape loads a tape into --deck; a --wav recording is measured as it is")
        _measure_wav(wav, tone, as_json)
        return
    if not 1 <= generations <= 50:
        raise TapeError(f"--generations must be between 1 and 50, not {generations}")
    if seed < 0:
        raise TapeError(f"--seed must be zero or positive, not {seed}")
    machine = TapeDeck(deck, seed=seed, tape=tape)
    m = run_measure(machine, generations).as_dict()
    m.update(_service_levels(machine))
    m["tape"] = machine.tape.name
    pub = machine.preset.published()
    if as_json:
        typer.echo(json.dumps({"measured": m, "published": pub}, indent=2, ensure_ascii=False, default=float))
        return
    typer.echo(f"{machine!r}, generation {generations}")
    usual = "its usual tape" if machine.tape.name == machine.preset.tape else f"its usual tape is {machine.preset.tape}"
    typer.echo(f"tape: {machine.tape.name} ({machine.tape.title}; {usual})")
    typer.echo(f"{'':28s}{'measured':>12s}{'published':>12s}")
    # published W&F figures are taken as weighted quasi-peak readings (docs/tape.md)
    for label, key, pkey in [("W&F weighted 2σ %", "wow_flutter_pct", None),
                             ("W&F weighted quasi-peak %", "wow_flutter_qp_pct", "wow_flutter_pct"),
                             ("W&F unweighted 2σ %", "wow_flutter_unweighted_pct", None),
                             ("S/N unweighted dB", "snr_db", "snr_db"),
                             ("S/N A-weighted dB", "snr_a_db", None),
                             ("sensitivity 315 Hz dB", "sensitivity_315_db", None),
                             ("MOL 315 Hz 3 % H3 dB", "mol_db", None),
                             ("SOL 10 kHz dB", "sol_10k_db", None),
                             ("upper −3 dB limit Hz", "upper_hz", "upper_hz"),
                             ("lower −3 dB limit Hz", "lower_hz", "lower_hz")]:
        pv = f"{pub[pkey]:g}" if pkey else "—"
        mv = "—" if m[key] is None else f"{m[key]:g}"
        typer.echo(f"{label:28s}{mv:>12s}{pv:>12s}")
    typer.echo("sensitivity (output − input at −20 dB), MOL and SOL: dB re the reference level (0 dB on "
               "the deck's meter), first generation, noises and flutter off; the deck is aligned for its usual tape")


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
