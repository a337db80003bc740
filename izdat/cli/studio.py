"""``izdat studio``: the web studio on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from izdat.cli._app import app
from izdat.errors import IzdatError


class StudioError(IzdatError, ValueError):
    """Studio settings that cannot be used."""


@app.command()
def studio(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; the default answers this machine only."),
    port: int = typer.Option(8350, "--port", help="Port to listen on."),
    data: Optional[Path] = typer.Option(None, "--data", help="Folder for uploads and results (default ~/.local/share/izdat/studio)."),
    workers: int = typer.Option(1, "--workers", help="Jobs that run at the same time, each in its own process."),
    max_upload: float = typer.Option(200.0, "--max-upload", help="Largest upload accepted (MiB)."),
    max_data: float = typer.Option(4.0, "--max-data", help="Largest size of the data folder (GiB); uploads and "
                                                            "new jobs beyond it are refused."),
):
    """Start the web studio (cut, play, dub, underground) and print its address; opens nothing else."""
    from izdat.studio import default_data_dir, serve
    if not 1 <= port <= 65535:
        raise StudioError(f"--port must be between 1 and 65535, not {port}")
    if not 1 <= workers <= 16:
        raise StudioError(f"--workers must be between 1 and 16, not {workers}")
    if not 1 <= max_upload <= 4096:
        raise StudioError(f"--max-upload must be between 1 and 4096 MiB, not {max_upload:g}")
    if not 0.01 <= max_data <= 65536:
        raise StudioError(f"--max-data must be between 0.01 and 65536 GiB, not {max_data:g}")
    folder = (data or default_data_dir()).expanduser()
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"izdat studio at http://{shown}:{port}/  (results in {folder}; Ctrl+C stops it)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(f"note: listening on {host}, so other machines can reach the studio", err=True)
    serve(host=host, port=port, data_dir=folder, workers=workers, max_upload_mb=max_upload, max_data_gb=max_data)
