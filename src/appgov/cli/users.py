"""The ``users`` group: console accounts, invitations, roles, revocation rights and sessions."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from appgov.accounts.passwords import PasswordRejected
from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal
from appgov.accounts.sessions import sessions_of
from appgov.accounts.users import UserExists, create_user
from appgov.administration import users as admin_users
from appgov.administration.sessions import end_sessions_of
from appgov.cli.common import console, fail, failing_on, operator
from appgov.integrations.domains import DomainError, find_domain
from appgov.runtime import Runtime
from appgov.storage.models import User

users_app = typer.Typer(help="Console users.", no_args_is_help=True)

T = TypeVar("T")


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
    with failing_on(ValueError, UserExists, PasswordRejected), runtime.sessions.begin() as session:
        user = create_user(session, email, name, password, runtime.clock.now(), role=Role.ADMIN)
    console.print(f"Created administrator [bold]{user.email}[/bold]")


def _on_user(email: str, service: Callable[..., T], *args: object) -> T:
    """Call one ``administration`` service on the user with ``email``, as the operating-system user:
    ``service(session, user, *args, by=..., now=...)``; what it returns."""
    runtime = Runtime.start()
    with failing_on(admin_users.UserAdminError, DomainError), runtime.sessions.begin() as session:
        user = admin_users.find_user(session, email)
        return service(session, user, *args, by=operator(), now=runtime.clock.now())


def _change_user(email: str, service: Callable[..., object], *args: object) -> bool:
    """Call ``service`` on the user with ``email`` (as ``_on_user``); whether it changed something."""
    return bool(_on_user(email, service, *args))


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
    with failing_on(ValueError), runtime.sessions.begin() as session:
        token, invitation = admin_users.invite(session, email, role, operator(), runtime.clock.now())
        expires_at = invitation.expires_at
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


def _change_right(
    email: str, service: Callable[..., bool], domain: str | None, all_domains: bool, done: str
) -> None:
    """Grant or withdraw the revocation right on the domain named ``domain``, or on all domains, and
    say ``EMAIL done DOMAIN.`` when it changed."""
    if (domain is None) != all_domains:
        raise fail("pass --domain NAME or --all-domains")

    def on_the_domain(session: Session, user: User, by: Principal, now: datetime) -> bool:
        return service(session, user, None if domain is None else find_domain(session, domain).id, by, now)

    _said(_change_user(email, on_the_domain), f"{email} {done} {domain or admin_users.ALL_DOMAINS_LABEL}.")


@users_app.command("grant-revocation")
def users_grant_revocation(
    email: str, domain: DomainOption = None, all_domains: AllDomainsOption = False
) -> None:
    """Let EMAIL revoke, disable or ban apps on one domain or on all of them."""
    _change_right(email, admin_users.grant_revocation, domain, all_domains, "may now revoke apps on")


@users_app.command("withdraw-revocation")
def users_withdraw_revocation(
    email: str, domain: DomainOption = None, all_domains: AllDomainsOption = False
) -> None:
    """Withdraw EMAIL's revocation right on one domain, or their all-domains right."""
    _change_right(email, admin_users.withdraw_revocation, domain, all_domains, "may no longer revoke apps on")


@users_app.command("sessions")
def users_sessions(email: str) -> None:
    """EMAIL's live console sessions."""
    runtime = Runtime.start()
    table = Table()
    for column in ("Signed in", "Last seen", "Address", "Browser"):
        table.add_column(column, overflow="fold")
    with runtime.sessions() as session:
        with failing_on(admin_users.UserAdminError):
            user = admin_users.find_user(session, email)
        for web in sessions_of(session, user.id, runtime.clock.now()):
            table.add_row(
                f"{web.created_at:%Y-%m-%d %H:%M}", f"{web.last_seen_at:%Y-%m-%d %H:%M}", web.address or "-",
                web.user_agent or "-",
            )  # fmt: skip
    Console().print(table)


@users_app.command("end-sessions")
def users_end_sessions(email: str) -> None:
    """End every console session of EMAIL: their next request is signed out."""
    ended = _on_user(email, end_sessions_of)
    console.print(f"Ended {ended} session{'' if ended == 1 else 's'} of {email}.")
