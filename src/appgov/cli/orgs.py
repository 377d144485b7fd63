"""The ``orgs`` group: the Atlassian organization's org API key (connect, list, replace, delete)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from appgov.cli.common import console, fail, failing_on, operator, secret_from_stdin
from appgov.integrations import organizations as orgs
from appgov.integrations.domains import DomainError
from appgov.runtime import Runtime

orgs_app = typer.Typer(help="The Atlassian organization (optional): its org API key.", no_args_is_help=True)

KeyStdinOption = Annotated[
    bool, typer.Option("--api-key-stdin", help="read the organization API key from stdin")
]
OrgArgument = Annotated[str, typer.Argument(help="the organization's id or name (`orgs list`)")]


def _key_from_stdin(api_key_stdin: bool) -> str:
    return secret_from_stdin(
        api_key_stdin,
        "pass the organization API key on standard input with --api-key-stdin (never as an argument)",
        "Organization API key: ",
    )


def _organization_id(runtime: Runtime, identifier: str) -> int:
    with runtime.sessions() as session, failing_on(DomainError):
        return orgs.find_organization(session, identifier).id


@orgs_app.command("add")
def orgs_add(api_key_stdin: KeyStdinOption = False) -> None:
    """Connect the organization an org API key belongs to (validated first, stored encrypted); it is
    read in the background from then on."""
    key = _key_from_stdin(api_key_stdin)
    runtime = Runtime.start()
    with failing_on(DomainError):
        done = asyncio.run(orgs.add_organization(runtime, key, operator()))
    with runtime.sessions() as session:
        org = orgs.find_organization(session, str(done.organization_id))
        console.print(
            f"Connected the organization [bold]{org.name}[/bold] ({org.org_id}); its read is queued"
        )


@orgs_app.command("list")
def orgs_list() -> None:
    """Connected organizations with their masked key, connection and last read."""
    runtime = Runtime.start()
    table = Table()
    for column in ("Organization", "Id", "API key", "Connected", "Last read", "Error"):
        table.add_column(column, overflow="fold", no_wrap=column == "API key")
    with runtime.sessions() as session:
        for org in orgs.organizations(session):
            table.add_row(
                org.name,
                org.org_id,
                orgs.masked_key(org),
                f"{org.created_at:%Y-%m-%d %H:%M} by {org.created_by}",
                f"{org.synced_at:%Y-%m-%d %H:%M}" if org.synced_at else "N/A",
                org.sync_error or "-",
            )
    Console().print(table)


@orgs_app.command("replace-key")
def orgs_replace_key(
    organization: OrgArgument,
    api_key_stdin: KeyStdinOption = False,
    yes: Annotated[bool, typer.Option("--yes", help="confirm: the new key replaces the current one")] = False,
) -> None:
    """Replace the org API key with another of the same organization (validated first: on failure the
    current one stays); a read is queued."""
    if not yes:
        raise fail("add --yes to confirm that the new key replaces the current one")
    key = _key_from_stdin(api_key_stdin)
    runtime = Runtime.start()
    with failing_on(DomainError):
        asyncio.run(orgs.replace_org_key(runtime, _organization_id(runtime, organization), key, operator()))
    console.print(f"Replaced the API key of [bold]{organization}[/bold]; a read is queued")


@orgs_app.command("delete")
def orgs_delete(
    organization: OrgArgument,
    yes: Annotated[bool, typer.Option("--yes", help="confirm: the key and what was read with it go")] = False,
) -> None:
    """Delete the organization's key and everything read with it (the audit trail keeps a record)."""
    if not yes:
        raise fail("add --yes to confirm: the organization's key and what was read with it are deleted")
    runtime = Runtime.start()
    with failing_on(DomainError):
        orgs.delete_organization(runtime, _organization_id(runtime, organization), operator())
    console.print(f"Deleted the organization [bold]{organization}[/bold]")
