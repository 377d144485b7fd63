"""The ``appgov`` command line: connect domains, sync them, export the app inventory and the audit
trail, manage users; one module per command group, what they share in ``common``."""

from __future__ import annotations

import sys

import typer

from appgov.cli.audit import audit_app
from appgov.cli.common import console
from appgov.cli.domains import domains_app, sync
from appgov.cli.export import export_app
from appgov.cli.keys import keys_app
from appgov.cli.orgs import orgs_app
from appgov.cli.serve import serve, version
from appgov.cli.users import users_app
from appgov.demo.cli import demo_app
from appgov.runtime import SecretsLocked

app = typer.Typer(help="appgov: third-party app governance for Atlassian Cloud.", no_args_is_help=True)
app.add_typer(domains_app, name="domains")
app.add_typer(export_app, name="export")
app.add_typer(demo_app, name="demo")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(orgs_app, name="orgs")
app.add_typer(keys_app, name="keys")
app.command()(version)
app.command()(sync)
app.command()(serve)


def main() -> None:
    """The ``appgov`` command: every command refuses to start with a keyring that cannot read the
    database's secrets (CS-03), saying why and what to do."""
    try:
        app()
    except SecretsLocked as locked:
        console.print(f"[red]error:[/red] appgov cannot start: {locked}", highlight=False, soft_wrap=True)
        sys.exit(1)
