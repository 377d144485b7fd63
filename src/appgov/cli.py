"""The ``appgov`` command line."""

import typer

from appgov import __version__

app = typer.Typer(help="appgov: third-party app governance for Atlassian Cloud.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """appgov: third-party app governance for Atlassian Cloud."""


@app.command()
def version() -> None:
    """Print appgov's version."""
    typer.echo(__version__)
