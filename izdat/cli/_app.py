"""The one ``izdat`` Typer application; each command module registers its commands on it."""

import typer

app = typer.Typer(
    name="izdat",
    help="izdat: the Soviet underground music presses in software. Cut songs into bone records, "
         "play records from their pictures, dub tapes generation after generation, and watch "
         "copies spread through a society.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _izdat() -> None:
    """izdat: the Soviet underground music presses in software."""
