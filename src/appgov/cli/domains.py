"""The ``domains`` group (connect, list, replace a token, set its expiry) and ``sync``."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from appgov.cli.common import (
    SiteArgument,
    console,
    domain_id,
    expiry,
    fail,
    failing_on,
    operator,
    secret_from_stdin,
)
from appgov.connectors.atlassian.sites import SiteURLError
from appgov.integrations import connect
from appgov.integrations.credentials import Credential
from appgov.integrations.domains import DomainError, add_domain, find_domain
from appgov.integrations.status import domain_healths, domain_status
from appgov.runtime import Runtime
from appgov.storage.db import DatabaseUnavailable
from appgov.storage.models import Domain, SyncRun
from appgov.sync.engine import AlreadyRunning
from appgov.sync.service import sync_domain

domains_app = typer.Typer(help="Connect and list Atlassian sites.", no_args_is_help=True)

EmailOption = Annotated[str, typer.Option(help="the API token owner's Atlassian email (a site admin)")]
TokenStdinOption = Annotated[bool, typer.Option("--api-token-stdin", help="read the API token from stdin")]
ExpiresOnOption = Annotated[
    datetime | None,
    typer.Option(
        "--expires-on",
        formats=["%Y-%m-%d"],
        help="the API token's expiry date (YYYY-MM-DD), as chosen at Atlassian, which does not tell it: "
        "appgov warns before it and stops syncing on it",
    ),
]


def _token_from_stdin(api_token_stdin: bool) -> str:
    return secret_from_stdin(
        api_token_stdin,
        "pass the API token on standard input with --api-token-stdin (never on the command line)",
        "API token: ",
    )


@domains_app.command("add")
def domains_add(
    site_url: str,
    email: EmailOption,
    api_token_stdin: TokenStdinOption = False,
    expires_on: ExpiresOnOption = None,
) -> None:
    """Connect a site with an API token, validated against the site before it is stored (encrypted)."""
    token = _token_from_stdin(api_token_stdin)
    runtime = Runtime.start()
    with failing_on(SiteURLError, DomainError):
        domain = asyncio.run(add_domain(runtime, site_url, email, token, operator(), expiry(expires_on)))
    console.print(f"Connected [bold]{domain.name}[/bold] ({domain.site_url}): {', '.join(domain.products)}")


@domains_app.command("replace-token")
def domains_replace_token(
    site: SiteArgument,
    email: EmailOption,
    api_token_stdin: TokenStdinOption = False,
    expires_on: ExpiresOnOption = None,
) -> None:
    """Replace a domain's API token (validated first: on failure the current one stays); a sync is queued."""
    token = _token_from_stdin(api_token_stdin)
    runtime = Runtime.start()
    actor, domain = operator(), domain_id(runtime, site)
    with failing_on(DomainError):
        asyncio.run(connect.replace_api_token(runtime, domain, email, token, actor, expiry(expires_on)))
    console.print(f"Replaced the API token of [bold]{site}[/bold]; a sync is queued")


@domains_app.command("token-expiry")
def domains_token_expiry(site: SiteArgument, expires_on: ExpiresOnOption = None) -> None:
    """Set the API token's expiry date (without --expires-on: not known); the token is not asked for."""
    runtime = Runtime.start()
    actor = operator()
    with failing_on(DomainError):
        connect.set_api_token_expiry(runtime, domain_id(runtime, site), expiry(expires_on), actor)
    when = f"{expires_on:%Y-%m-%d}" if expires_on else "not known"
    console.print(f"The API token of [bold]{site}[/bold] expires: {when}")


def _expiries(credentials: tuple[Credential, ...]) -> str:
    """``API token 2027-01-05 (expires soon)``, one line per credential whose end is known."""
    lines = (
        f"{c.name} {c.expires_at:%Y-%m-%d}" + (f" ({c.note})" if c.note else "")
        for c in credentials
        if c.expires_at is not None
    )
    return "\n".join(lines)


@domains_app.command("list")
def domains_list() -> None:
    """Connected domains with their masked key, first connection, last sync and status."""
    runtime = Runtime.start()
    table = Table()
    columns = ("Domain", "Site", "Products", "API key", "Expires", "First connected", "Last synced", "Status")
    for column in columns:
        # wrap, never cut: a narrow terminal still shows it all; the masked key stays whole
        table.add_column(column, overflow="fold", no_wrap=column == "API key")
    with runtime.sessions() as session:
        for health in domain_healths(session, runtime.settings, runtime.clock.now()):
            domain, synced = health.domain, health.last_synced_at
            table.add_row(
                domain.name,
                domain.site_url,
                ", ".join(domain.products),
                health.api_key or "-",
                _expiries(health.credentials) or "-",
                f"{domain.created_at:%Y-%m-%d %H:%M} by {domain.created_by}",
                Text(f"{synced:%Y-%m-%d %H:%M}" if synced else "N/A", style="red" if health.late else ""),
                str(health.status),
            )
    Console().print(table)


def sync(
    site: Annotated[str | None, typer.Argument(help="the site URL or the name `domains list` shows")] = None,
    all_domains: Annotated[bool, typer.Option("--all", help="sync every connected domain")] = False,
    full: Annotated[bool, typer.Option(help="ignore audit-log bookmarks and read everything again")] = False,
) -> None:
    """Sync domains now, resuming an interrupted or deferred run from its checkpoint."""
    if not site and not all_domains:
        raise fail("name a site, or pass --all")
    runtime = Runtime.start()
    with runtime.sessions() as session, failing_on(DomainError):
        targets = list(session.scalars(select(Domain))) if all_domains else [find_domain(session, site or "")]
    worst = 0
    for domain in targets:
        try:
            run = asyncio.run(_sync_one(runtime, domain, full))
        except DatabaseUnavailable as err:
            raise fail(f"the database is unavailable ({err}); run `appgov sync` again to resume") from None
        worst = max(worst, _report(domain, run))
    raise typer.Exit(worst)


async def _sync_one(runtime: Runtime, domain: Domain, full: bool) -> SyncRun | None:
    with Progress(
        TextColumn("{task.description:<32}"),
        TextColumn("{task.completed:>9,} rows"),
        TextColumn("{task.fields[rate]:>10}"),
        TimeElapsedColumn(),
        console=console,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def progress(dataset: str, added: int) -> None:
            if dataset not in tasks:
                tasks[dataset] = bars.add_task(f"{domain.name} {dataset}", total=None, rate="")
            bars.advance(tasks[dataset], added)
            task = bars.tasks[tasks[dataset]]
            bars.update(tasks[dataset], rate=f"{task.speed or 0:,.0f}/s" if task.speed else "")

        try:
            return await sync_domain(runtime, domain.id, full=full, progress=progress)
        except (AlreadyRunning, DomainError) as err:
            console.print(f"[yellow]{err}[/yellow]")
            return None


def _report(domain: Domain, run: SyncRun | None) -> int:
    if run is None:
        return 1
    status = domain_status(run)
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    line = f"{domain.name}: {run.status} in {duration:.1f}s, {run.requests} requests, {run.retries} retries"
    if run.status == "deferred":
        console.print(
            f"[yellow]{line}; {status.reason}. Run `appgov sync {domain.name}` again to resume.[/yellow]"
        )
        return 75  # EX_TEMPFAIL
    unavailable = {k: v for k, v in (run.counts or {}).items() if not isinstance(v, int)}
    console.print(line + (f"; unavailable: {', '.join(sorted(unavailable))}" if unavailable else ""))
    if run.status in ("failed", "partial"):
        console.print(f"[red]{status.reason}[/red]")
        return 1
    return 0
