"""The ``appgov`` command line: connect domains, sync them, export the app inventory and the audit
trail, manage users."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov import __version__
from appgov.accounts.passwords import PasswordRejected
from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal, cli_user
from appgov.accounts.sessions import sessions_of
from appgov.accounts.users import UserExists, create_user
from appgov.administration import keys as admin_keys
from appgov.administration import users as admin_users
from appgov.administration.sessions import end_sessions_of
from appgov.audit.listing import COLUMNS, AuditFilter, exported_rows
from appgov.config import Settings
from appgov.connectors.atlassian.sites import SiteURLError
from appgov.demo.cli import demo_app
from appgov.exports import FORMATS, export_chunks
from appgov.integrations import connect
from appgov.integrations import organizations as orgs
from appgov.integrations.credentials import Credential, expiry_of
from appgov.integrations.domains import (
    DomainError,
    add_domain,
    find_domain,
)
from appgov.integrations.status import domain_healths, domain_status
from appgov.inventory.export import export_text
from appgov.runtime import Runtime, SecretsLocked, configured_keyring
from appgov.security.secrets import new_key
from appgov.storage.db import DatabaseUnavailable
from appgov.storage.models import Domain, SyncRun, User
from appgov.sync.engine import AlreadyRunning
from appgov.sync.service import sync_domain

app = typer.Typer(help="appgov: third-party app governance for Atlassian Cloud.", no_args_is_help=True)
domains_app = typer.Typer(help="Connect and list Atlassian sites.", no_args_is_help=True)
export_app = typer.Typer(help="Export the inventory.", no_args_is_help=True)
app.add_typer(domains_app, name="domains")
app.add_typer(export_app, name="export")
app.add_typer(demo_app, name="demo")
users_app = typer.Typer(help="Console users.", no_args_is_help=True)
app.add_typer(users_app, name="users")
audit_app = typer.Typer(help="The audit trail (read-only).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
orgs_app = typer.Typer(help="The Atlassian organization (optional): its org API key.", no_args_is_help=True)
app.add_typer(orgs_app, name="orgs")
keys_app = typer.Typer(help="The keyring that encrypts stored secrets.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
console = Console(stderr=True)


def main() -> None:
    """The ``appgov`` command: every command refuses to start with a keyring that cannot read the
    database's secrets (CS-03), saying why and what to do."""
    try:
        app()
    except SecretsLocked as locked:
        console.print(f"[red]error:[/red] appgov cannot start: {locked}", highlight=False, soft_wrap=True)
        sys.exit(1)


def fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(1)


@app.command()
def version() -> None:
    """Print appgov's version."""
    typer.echo(__version__)


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
    if not api_token_stdin:
        raise fail("pass the API token on standard input with --api-token-stdin (never on the command line)")
    # typed at a terminal, the token is not echoed; piped, it is read from the first line
    return getpass.getpass("API token: ") if sys.stdin.isatty() else sys.stdin.readline().strip()


def _expiry(expires_on: datetime | None) -> datetime | None:
    return expiry_of(expires_on.date()) if expires_on else None


def _domain_id(runtime: Runtime, site: str) -> int:
    with runtime.sessions() as session:
        try:
            return find_domain(session, site).id
        except DomainError as err:
            raise fail(str(err)) from None


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
    added_by = cli_user(getpass.getuser())
    try:
        domain = asyncio.run(add_domain(runtime, site_url, email, token, added_by, _expiry(expires_on)))
    except (SiteURLError, DomainError) as err:
        raise fail(str(err)) from None
    console.print(f"Connected [bold]{domain.name}[/bold] ({domain.site_url}): {', '.join(domain.products)}")


@domains_app.command("replace-token")
def domains_replace_token(
    site: Annotated[str, typer.Argument(help="the site URL or the name `domains list` shows")],
    email: EmailOption,
    api_token_stdin: TokenStdinOption = False,
    expires_on: ExpiresOnOption = None,
) -> None:
    """Replace a domain's API token (validated first: on failure the current one stays); a sync is queued."""
    token = _token_from_stdin(api_token_stdin)
    runtime = Runtime.start()
    actor = cli_user(getpass.getuser())
    try:
        asyncio.run(
            connect.replace_api_token(
                runtime, _domain_id(runtime, site), email, token, actor, _expiry(expires_on)
            )
        )
    except DomainError as err:
        raise fail(str(err)) from None
    console.print(f"Replaced the API token of [bold]{site}[/bold]; a sync is queued")


@domains_app.command("token-expiry")
def domains_token_expiry(
    site: Annotated[str, typer.Argument(help="the site URL or the name `domains list` shows")],
    expires_on: ExpiresOnOption = None,
) -> None:
    """Set the API token's expiry date (without --expires-on: not known); the token is not asked for."""
    runtime = Runtime.start()
    actor = cli_user(getpass.getuser())
    try:
        connect.set_api_token_expiry(runtime, _domain_id(runtime, site), _expiry(expires_on), actor)
    except DomainError as err:
        raise fail(str(err)) from None
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


KeyStdinOption = Annotated[
    bool, typer.Option("--api-key-stdin", help="read the organization API key from stdin")
]
OrgArgument = Annotated[str, typer.Argument(help="the organization's id or name (`orgs list`)")]


def _key_from_stdin(api_key_stdin: bool) -> str:
    if not api_key_stdin:
        raise fail(
            "pass the organization API key on standard input with --api-key-stdin (never as an argument)"
        )
    return getpass.getpass("Organization API key: ") if sys.stdin.isatty() else sys.stdin.readline().strip()


def _organization_id(runtime: Runtime, identifier: str) -> int:
    with runtime.sessions() as session:
        try:
            return orgs.find_organization(session, identifier).id
        except DomainError as err:
            raise fail(str(err)) from None


@orgs_app.command("add")
def orgs_add(api_key_stdin: KeyStdinOption = False) -> None:
    """Connect the organization an org API key belongs to (validated first, stored encrypted); it is
    read in the background from then on."""
    key = _key_from_stdin(api_key_stdin)
    runtime = Runtime.start()
    try:
        done = asyncio.run(orgs.add_organization(runtime, key, cli_user(getpass.getuser())))
    except DomainError as err:
        raise fail(str(err)) from None
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
    try:
        asyncio.run(
            orgs.replace_org_key(
                runtime, _organization_id(runtime, organization), key, cli_user(getpass.getuser())
            )
        )
    except DomainError as err:
        raise fail(str(err)) from None
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
    try:
        orgs.delete_organization(
            runtime, _organization_id(runtime, organization), cli_user(getpass.getuser())
        )
    except DomainError as err:
        raise fail(str(err)) from None
    console.print(f"Deleted the organization [bold]{organization}[/bold]")


@app.command()
def sync(
    site: Annotated[str | None, typer.Argument(help="the site URL or the name `domains list` shows")] = None,
    all_domains: Annotated[bool, typer.Option("--all", help="sync every connected domain")] = False,
    full: Annotated[bool, typer.Option(help="ignore audit-log bookmarks and read everything again")] = False,
) -> None:
    """Sync domains now, resuming an interrupted or deferred run from its checkpoint."""
    if not site and not all_domains:
        raise fail("name a site, or pass --all")
    runtime = Runtime.start()
    with runtime.sessions() as session:
        try:
            targets = (
                list(session.scalars(select(Domain))) if all_domains else [find_domain(session, site or "")]
            )
        except DomainError as err:
            raise fail(str(err)) from None
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


@users_app.command("create-admin")
def users_create_admin(
    email: str,
    name: Annotated[str, typer.Option(help="the name the console shows")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
) -> None:
    """Create a console administrator (there is no default account)."""
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise fail("the two passwords differ")
    runtime = Runtime.start()
    try:
        with runtime.sessions.begin() as session:
            user = create_user(session, email, name, password, runtime.clock.now(), role=Role.ADMIN)
    except (ValueError, UserExists, PasswordRejected) as err:
        raise fail(str(err)) from None
    console.print(f"Created administrator [bold]{user.email}[/bold]")


def _change_user(email: str, service: Callable[..., object], *args: object) -> bool:
    """Call one ``administration`` service on the user with ``email``, as the operating-system user:
    ``service(session, user, *args, by=..., now=...)``; whether it changed something."""
    runtime = Runtime.start()
    try:
        with runtime.sessions.begin() as session:
            user = admin_users.find_user(session, email)
            by, now = cli_user(getpass.getuser()), runtime.clock.now()
            return bool(service(session, user, *args, by=by, now=now))
    except (admin_users.UserAdminError, DomainError) as err:
        raise fail(str(err)) from None


def _said(changed: bool, done: str) -> None:
    console.print(done if changed else "Nothing changed: it already was so.")


@users_app.command("list")
def users_list() -> None:
    """Every user with role, status, revocation right, last sign-in and live sessions; then the
    pending invitations."""
    runtime = Runtime.start()
    now = runtime.clock.now()
    users = Table()
    for column in ("Email", "Name", "Role", "Status", "May revoke apps on", "Last sign-in", "Sessions"):
        users.add_column(column, overflow="fold")
    invitations = Table(title="Pending invitations")
    for column in ("Email", "Role", "Expires", "Invited by"):
        invitations.add_column(column, overflow="fold")
    with runtime.sessions() as session:
        for row in admin_users.user_summaries(session, now):
            user = row.user
            reach = ", ".join(r.domain_name or admin_users.ALL_DOMAINS_LABEL for r in row.rights) or "none"
            signed_in = f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never"
            sessions = str(row.live_sessions)
            users.add_row(user.email, user.name, user.role, row.status, reach, signed_in, sessions)
        for invitation in admin_users.pending_invitations(session, now):
            expires = f"{invitation.expires_at:%Y-%m-%d %H:%M}"
            invitations.add_row(invitation.email, invitation.role, expires, invitation.invited_by)
    Console().print(users)
    if invitations.row_count:
        Console().print(invitations)


@users_app.command("invite")
def users_invite(
    email: str, role: Annotated[Role, typer.Option(help="the role the account gets")] = Role.VIEWER
) -> None:
    """Make a one-time link for EMAIL to create an account (printed once, on standard output)."""
    runtime = Runtime.start()
    try:
        with runtime.sessions.begin() as session:
            now = runtime.clock.now()
            token, invitation = admin_users.invite(session, email, role, cli_user(getpass.getuser()), now)
            expires_at = invitation.expires_at
    except ValueError as err:
        raise fail(str(err)) from None
    console.print(f"Send this link to {email.strip()}: it works once, until {expires_at:%Y-%m-%d %H:%M} UTC.")
    typer.echo(admin_users.invitation_link(runtime.settings.public_url, token))


@users_app.command("set-role")
def users_set_role(email: str, role: Role) -> None:
    """Give EMAIL another role (it holds from their next request)."""
    _said(_change_user(email, admin_users.set_role, role), f"{email} is now {role}.")


@users_app.command("disable")
def users_disable(email: str) -> None:
    """Disable EMAIL: no sign-in; their sessions end and their API tokens are revoked at once."""
    _said(_change_user(email, admin_users.disable), f"{email} is disabled.")


@users_app.command("enable")
def users_enable(email: str) -> None:
    """Let a disabled EMAIL sign in again."""
    _said(_change_user(email, admin_users.enable), f"{email} is enabled.")


DomainOption = Annotated[str | None, typer.Option("--domain", help="a domain's name or site URL")]
AllDomainsOption = Annotated[bool, typer.Option("--all-domains", help="every domain, present and future")]


def _change_right(email: str, service: Callable[..., bool], domain: str | None, all_domains: bool) -> bool:
    """Grant or withdraw the revocation right on the domain named ``domain``, or on all domains."""
    if (domain is None) != all_domains:
        raise fail("pass --domain NAME or --all-domains")

    def on_the_domain(session: Session, user: User, by: Principal, now: datetime) -> bool:
        return service(session, user, None if domain is None else find_domain(session, domain).id, by, now)

    return _change_user(email, on_the_domain)


@users_app.command("grant-revocation")
def users_grant_revocation(
    email: str, domain: DomainOption = None, all_domains: AllDomainsOption = False
) -> None:
    """Let EMAIL revoke, disable or ban apps on one domain or on all of them."""
    changed = _change_right(email, admin_users.grant_revocation, domain, all_domains)
    _said(changed, f"{email} may now revoke apps on {domain or admin_users.ALL_DOMAINS_LABEL}.")


@users_app.command("withdraw-revocation")
def users_withdraw_revocation(
    email: str, domain: DomainOption = None, all_domains: AllDomainsOption = False
) -> None:
    """Withdraw EMAIL's revocation right on one domain, or their all-domains right."""
    changed = _change_right(email, admin_users.withdraw_revocation, domain, all_domains)
    _said(changed, f"{email} may no longer revoke apps on {domain or admin_users.ALL_DOMAINS_LABEL}.")


@users_app.command("sessions")
def users_sessions(email: str) -> None:
    """EMAIL's live console sessions."""
    runtime = Runtime.start()
    table = Table()
    for column in ("Signed in", "Last seen", "Address", "Browser"):
        table.add_column(column, overflow="fold")
    with runtime.sessions() as session:
        try:
            user = admin_users.find_user(session, email)
        except admin_users.UserAdminError as err:
            raise fail(str(err)) from None
        for web in sessions_of(session, user.id, runtime.clock.now()):
            table.add_row(
                f"{web.created_at:%Y-%m-%d %H:%M}", f"{web.last_seen_at:%Y-%m-%d %H:%M}", web.address or "-",
                web.user_agent or "-",
            )  # fmt: skip
    Console().print(table)


@users_app.command("end-sessions")
def users_end_sessions(email: str) -> None:
    """End every console session of EMAIL: their next request is signed out."""
    runtime = Runtime.start()
    try:
        with runtime.sessions.begin() as session:
            user = admin_users.find_user(session, email)
            ended = end_sessions_of(session, user, cli_user(getpass.getuser()), runtime.clock.now())
    except admin_users.UserAdminError as err:
        raise fail(str(err)) from None
    console.print(f"Ended {ended} session{'' if ended == 1 else 's'} of {email}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Run the console, the REST API and the background work (runner, scheduler, email)."""
    import uvicorn

    from appgov.web.app import create_app
    from appgov.web.server import server_config

    runtime = Runtime.start()
    _offer_setup(runtime)
    uvicorn.Server(server_config(create_app(runtime, background=True), runtime.settings, host, port)).run()


def _offer_setup(runtime: Runtime) -> None:
    """With no user yet, print (here, never to the log) a one-time link that creates the first admin."""
    with runtime.sessions.begin() as session:
        token = admin_users.invite_first_admin(session, cli_user(getpass.getuser()), runtime.clock.now())
    if token is not None:
        link = admin_users.setup_link(runtime.settings.public_url, token)
        hours = int(admin_users.SETUP_LIFETIME.total_seconds() // 3600)
        say = f"No user yet. Create the first administrator within {hours} hour, once, at:\n{link}"
        console.print(say, soft_wrap=True, highlight=False, markup=False)


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
    try:
        where = AuditFilter.parse(actor, action, outcome, target, since, until)
    except ValueError as err:
        raise fail(str(err)) from None
    runtime = Runtime.start()
    chunks = export_chunks(format, COLUMNS, exported_rows(runtime.sessions, where))
    with output.open("w", encoding="utf-8", newline="") if output else nullcontext(sys.stdout) as out:
        out.writelines(chunks)


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new key, id:base64key, to put first in the keyring (then run `appgov keys rotate`)."""
    configured = configured_keyring(Settings.from_env())
    key_id = max(configured[0].key_ids) + 1 if configured else 1
    if key_id > 255:
        raise fail("key ids end at 255: start a new ring from key 1 once no secret uses it")
    typer.echo(f"{key_id}:{new_key()}")
    console.print(
        "Put it first in APPGOV_SECRET_KEYS (or first in the data directory's secret.key), keep the "
        "older keys after it, restart every appgov process, then run `appgov keys rotate`.",
        highlight=False,
    )


@keys_app.command("rotate")
def keys_rotate(
    batch_size: Annotated[int, typer.Option(min=1, help="rows per transaction")] = admin_keys.BATCH_SIZE,
) -> None:
    """Re-encrypt every stored secret with the keyring's newest key, online, in small transactions;
    run it again after an interruption (rows already on the newest key are skipped)."""
    runtime = Runtime.start()

    def batch_done(moved: admin_keys.Moved) -> None:
        typer.echo(f"... {moved.line()}")  # flushed at once: a watcher sees each batch commit

    report = admin_keys.rotate(runtime, cli_user(getpass.getuser()), batch_size, batch_done)
    typer.echo(f"Rotated to key {runtime.secrets.key_id}:")
    for moved in report:
        typer.echo(f"  {moved.line()}")
    if any(m.unreadable for m in report):
        raise fail("some secrets decrypt with no key of the keyring: their domains need new credentials")
