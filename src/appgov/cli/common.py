"""What the command groups share: the error exit, reading a secret from stdin, the operating-system
user as actor, expiry dates, and finding a domain."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console

from appgov.accounts.principal import Principal, cli_user
from appgov.integrations.credentials import expiry_of
from appgov.integrations.domains import DomainError, find_domain
from appgov.runtime import Runtime

console = Console(stderr=True)

SiteArgument = Annotated[str, typer.Argument(help="the site URL or the name `domains list` shows")]


def fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(1)


@contextmanager
def failing_on(*errors: type[Exception]) -> Iterator[None]:
    """Any of ``errors`` raised inside ends the command with its message and exit code 1."""
    try:
        yield
    except errors as err:
        raise fail(str(err)) from None


def secret_from_stdin(given: bool, refusal: str, prompt: str) -> str:
    """The secret on standard input, or fail with ``refusal`` when its ``--...-stdin`` flag is absent."""
    if not given:
        raise fail(refusal)
    # typed at a terminal, the secret is not echoed; piped, it is read from the first line
    return getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().strip()


def operator() -> Principal:
    """The operating-system user running the command, as the actor the audit trail records."""
    return cli_user(getpass.getuser())


def expiry(expires_on: datetime | None) -> datetime | None:
    return expiry_of(expires_on.date()) if expires_on else None


def domain_id(runtime: Runtime, site: str) -> int:
    with runtime.sessions() as session, failing_on(DomainError):
        return find_domain(session, site).id
