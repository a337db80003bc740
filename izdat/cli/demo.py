"""``izdat demo``: one song through every machine, told on one page."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from izdat.cli._app import app
from izdat.progress import console


@app.command()
def demo(
    song: Path = typer.Argument(Path("examples/song.flac"), help="Audio file to take through every machine."),
    out: Path = typer.Option(Path("out/demo"), "-o", "--out", help="Folder for index.html and every file it shows."),
    trim: Optional[float] = typer.Option(None, help="Use only the first SECONDS of the song."),
    people: int = typer.Option(20_000, help="People in the society the copies spread through."),
    seed: int = typer.Option(1, help="Seed of every random thing."),
):
    """Cut SONG into a bone record, read it from its picture, play it, dub it, spread it, hear the deepest copy."""
    from izdat.demo import run_demo
    page = run_demo(song, out, trim_s=trim, people=people, seed=seed,
                    log=lambda text: console.print(text, markup=False))
    typer.echo(f"open {page.resolve().as_uri()}")
