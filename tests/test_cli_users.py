"""``appgov users ...`` as an operator meets it: inviting (the link printed once), roles, disabling,
the revocation right by domain name, sessions; the last enabled admin stays; each change is audited
as the operating-system user."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from appgov.accounts.permissions import Role
from appgov.accounts.sessions import open_session
from appgov.accounts.users import create_user
from appgov.cli import app
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import AuditEvent, Domain, User

PASSWORD = "a long enough password"


def appgov(data_dir: Path, *args: str) -> Result:
    """The command line in-process (as ``appgov ...`` would run it), wide enough not to fold a table."""
    env = {"APPGOV_DATA_DIR": str(data_dir), "APPGOV_DATABASE_URL": "", "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def _seed(data_dir: Path, email: str, role: Role = Role.ANALYST) -> Runtime:
    runtime = Runtime.start(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'appgov.db'}"))
    with runtime.sessions.begin() as session:
        create_user(session, email, "", PASSWORD, datetime.now(UTC), role=role)
    return runtime


def test_invite_prints_the_link_once_and_list_shows_it_pending(tmp_path: Path) -> None:
    _seed(tmp_path, "ada@example.com", Role.ADMIN)
    invited = appgov(tmp_path, "users", "invite", "bo@example.com", "--role", "analyst")
    assert invited.exit_code == 0, invited.stderr
    (link,) = invited.stdout.split()  # the link alone on standard output; the words on standard error
    assert "/invitations/" in link
    listed = appgov(tmp_path, "users", "list").output
    assert "bo@example.com" in listed
    assert link.rsplit("/", 1)[1] not in listed
    taken = appgov(tmp_path, "users", "invite", "ada@example.com")
    assert taken.exit_code == 1
    assert "already has an account" in taken.stderr


def test_roles_and_accounts_change_but_the_last_admin_stays(tmp_path: Path) -> None:
    runtime = _seed(tmp_path, "ada@example.com", Role.ADMIN)
    refused = appgov(tmp_path, "users", "set-role", "ada@example.com", "viewer")
    assert refused.exit_code == 1
    assert "last enabled admin" in refused.stderr
    assert appgov(tmp_path, "users", "disable", "ada@example.com").exit_code == 1
    _seed(tmp_path, "cy@example.com")
    assert appgov(tmp_path, "users", "set-role", "cy@example.com", "admin").exit_code == 0
    assert appgov(tmp_path, "users", "disable", "ada@example.com").exit_code == 0
    assert "disabled" in appgov(tmp_path, "users", "list").output
    assert appgov(tmp_path, "users", "enable", "ada@example.com").exit_code == 0
    assert appgov(tmp_path, "users", "disable", "nobody@example.com").exit_code == 1
    with runtime.sessions() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action.like("user.%"))))
    assert [e.action for e in events] == ["user.role_changed", "user.disabled", "user.enabled"]
    assert {e.actor for e in events} == {getpass.getuser()}


def test_the_revocation_right_is_granted_by_domain_name_or_for_all(tmp_path: Path) -> None:
    runtime = _seed(tmp_path, "dee@example.com")
    with runtime.sessions.begin() as session:
        session.add(Domain(
            name="acme", site_url="https://acme.atlassian.net", products=[], created_at=datetime.now(UTC),
            created_by="root", created_via="cli",
        ))  # fmt: skip
    neither = appgov(tmp_path, "users", "grant-revocation", "dee@example.com")
    assert neither.exit_code == 1
    assert "--domain NAME or --all-domains" in neither.stderr
    assert appgov(tmp_path, "users", "grant-revocation", "dee@example.com", "--domain", "acme").exit_code == 0
    assert "acme" in appgov(tmp_path, "users", "list").output
    unknown = appgov(tmp_path, "users", "grant-revocation", "dee@example.com", "--domain", "nope")
    assert unknown.exit_code == 1
    assert appgov(tmp_path, "users", "grant-revocation", "dee@example.com", "--all-domains").exit_code == 0
    assert "all domains" in appgov(tmp_path, "users", "list").output
    withdrawn = appgov(tmp_path, "users", "withdraw-revocation", "dee@example.com", "--all-domains")
    assert "no longer" in withdrawn.stderr


def test_end_sessions_signs_the_user_out_everywhere(tmp_path: Path) -> None:
    runtime = _seed(tmp_path, "eve@example.com")
    with runtime.sessions.begin() as session:
        eve = session.scalars(select(User).where(User.email == "eve@example.com")).one()
        open_session(session, eve, datetime.now(UTC), timedelta(hours=1), "192.0.2.7", "Firefox")
    assert "192.0.2.7" in appgov(tmp_path, "users", "sessions", "eve@example.com").output
    ended = appgov(tmp_path, "users", "end-sessions", "eve@example.com")
    assert "Ended 1 session of eve@example.com" in ended.stderr
    assert "192.0.2.7" not in appgov(tmp_path, "users", "sessions", "eve@example.com").output
