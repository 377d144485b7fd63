"""The ``audit`` group: exporting the audit trail (read-only)."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from appgov.audit.listing import COLUMNS, AuditFilter, exported_rows
from appgov.cli.common import fail, failing_on
from appgov.exports import FORMATS, export_chunks
from appgov.runtime import Runtime

audit_app = typer.Typer(help="The audit trail (read-only).", no_args_is_help=True)


@audit_app.command("export")
def audit_export(
    format: Annotated[str, typer.Option(help="json or csv")] = "json",
    actor: Annotated[str, typer.Option(help="the actor contains this")] = "",
    action: Annotated[str, typer.Option(help="this action, or with a final dot every action under it")] = "",
    outcome: Annotated[str, typer.Option(help="success, failure or denied")] = "",
    target: Annotated[str, typer.Option(help="the target contains this")] = "",
    since: Annotated[str, typer.Option(help="at or after: 2026-12-05 or 2026-12-05T14:30 (UTC)")] = "",
    until: Annotated[str, typer.Option(help="before; a date alone: to the end of that day")] = "",
    output: Annotated[Path | None, typer.Option(help="write here instead of standard output")] = None,
) -> None:
    """The audit trail's events the options select, newest first (up to 100,000)."""
    if format not in FORMATS:
        raise fail("--format is json or csv")
    with failing_on(ValueError):
        where = AuditFilter.parse(actor, action, outcome, target, since, until)
    runtime = Runtime.start()
    chunks = export_chunks(format, COLUMNS, exported_rows(runtime.sessions, where))
    with output.open("w", encoding="utf-8", newline="") if output else nullcontext(sys.stdout) as out:
        out.writelines(chunks)
