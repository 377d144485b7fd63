"""The ``export`` group: the app inventory as JSON or CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from appgov.cli.common import fail
from appgov.inventory.export import export_text
from appgov.runtime import Runtime

export_app = typer.Typer(help="Export the inventory.", no_args_is_help=True)


@export_app.command("apps")
def export_apps(
    format: Annotated[str, typer.Option(help="json or csv")] = "json",
    output: Annotated[Path | None, typer.Option(help="write here instead of standard output")] = None,
) -> None:
    """Every app on every domain: one row per app per domain."""
    if format not in ("json", "csv"):
        raise fail("--format is json or csv")
    runtime = Runtime.start()
    with runtime.sessions() as session:
        text = export_text(session, format)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
