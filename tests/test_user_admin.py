"""The user administration services on SQLite and PostgreSQL: invitations work once and until they
expire, the last enabled admin stays, disabling ends sessions and tokens, every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.accounts.passwords import PasswordRejected
from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal, Via, cli_user
from appgov.accounts.rights import holders, may_revoke, rights_of
from appgov.accounts.sessions import find_session, open_session
from appgov.accounts.tokens import find_token, issue_token
from appgov.accounts.users import create_user
from appgov.administration import users
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import AuditEvent, Domain, User

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
ROOT = cli_user("root")


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Runtime:
    return Runtime.start(Settings(data_dir=tmp_path, database_url=database_url))


def _user(session: Session, email: str, role: Role = Role.VIEWER) -> User:
    return create_user(session, email, "", PASSWORD, NOW, role=role)


def _audit(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_an_invitation_creates_the_account_with_its_role_once(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        token, invitation = users.invite(session, "Bo@Example.com", Role.ANALYST, ROOT, NOW)
        assert invitation.expires_at == NOW + timedelta(hours=72)
        assert token not in invitation.token_hash
    with runtime.sessions.begin() as session:
        user = users.accept_invitation(session, token, "Bo", PASSWORD, NOW + timedelta(hours=1))
        assert (user.email, user.role) == ("bo@example.com", "analyst")
    with runtime.sessions.begin() as session, pytest.raises(users.InvitationInvalid):
        users.accept_invitation(session, token, "Bo again", PASSWORD, NOW + timedelta(hours=2))
    with runtime.sessions() as session:
        (invited,) = _audit(session, "user.invited")
        (joined,) = _audit(session, "user.joined")
        assert invited.detail["role"] == "analyst"
        assert token not in str(invited.detail) + str(joined.detail)
        assert joined.actor == "bo@example.com"


def test_an_expired_or_unknown_invitation_gets_the_same_answer(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        token, _ = users.invite(session, "late@example.com", Role.VIEWER, ROOT, NOW)
    answers = []
    for link, at in ((token, NOW + timedelta(hours=72)), ("not-a-token", NOW)):
        with runtime.sessions.begin() as session, pytest.raises(users.InvitationInvalid) as refused:
            users.accept_invitation(session, link, "Late", PASSWORD, at)
        answers.append(str(refused.value))
    assert answers == [users.INVALID_INVITATION] * 2


def test_a_weak_password_leaves_the_invitation_usable(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        token, _ = users.invite(session, "weak@example.com", Role.VIEWER, ROOT, NOW)
    with runtime.sessions.begin() as session, pytest.raises(PasswordRejected):
        users.accept_invitation(session, token, "Weak", "short", NOW)
    with runtime.sessions.begin() as session:
        assert users.accept_invitation(session, token, "Weak", PASSWORD, NOW).email == "weak@example.com"


def test_an_email_with_an_account_is_not_invited(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        _user(session, "taken@example.com")
        with pytest.raises(users.UserAdminError, match="already has an account"):
            users.invite(session, "TAKEN@example.com", Role.ADMIN, ROOT, NOW)


def test_the_last_enabled_admin_is_neither_demoted_nor_disabled(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        ada = _user(session, "ada@example.com", Role.ADMIN)
        with pytest.raises(users.UserAdminError, match="last enabled admin"):
            users.set_role(session, ada, Role.ANALYST, ROOT, NOW)
        with pytest.raises(users.UserAdminError, match="last enabled admin"):
            users.disable(session, ada, ROOT, NOW)
        bo = _user(session, "bo@example.com", Role.ADMIN)
        assert users.disable(session, bo, ROOT, NOW)
        with pytest.raises(users.UserAdminError):  # a disabled admin does not count
            users.set_role(session, ada, Role.VIEWER, ROOT, NOW)
        assert users.enable(session, bo, ROOT, NOW)
        assert users.set_role(session, ada, Role.VIEWER, ROOT, NOW)
        (changed,) = _audit(session, "user.role_changed")
        assert changed.detail == {"from_role": "admin", "to_role": "viewer"}
        assert [e.target for e in _audit(session, "user.enabled")] == ["bo@example.com"]


def test_disabling_ends_every_session_and_token_at_once(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        _user(session, "ada@example.com", Role.ADMIN)
        cy = _user(session, "cy@example.com", Role.ANALYST)
        cookie, _ = open_session(session, cy, NOW, timedelta(hours=12), "10.0.0.1", "test")
        token, _ = issue_token(session, cy, "ci", NOW, timedelta(days=30))
    with runtime.sessions.begin() as session:
        assert users.disable(session, users.find_user(session, "cy@example.com"), ROOT, NOW)
    with runtime.sessions.begin() as session:
        assert find_session(session, cookie, NOW, timedelta(hours=1)) is None
        assert find_token(session, token, NOW) is None
        (disabled,) = _audit(session, "user.disabled")
        assert disabled.detail == {"sessions_ended": 1, "tokens_revoked": 1}


def test_the_revocation_right_is_granted_and_withdrawn_per_domain_and_audited(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        domain = Domain(
            platform="atlassian", name="acme", site_url="https://acme.atlassian.net", products=[],
            created_at=NOW, created_by="root", created_via="cli",
        )  # fmt: skip
        session.add(domain)
        session.flush()
        dee = _user(session, "dee@example.com")
        assert users.grant_revocation(session, dee, domain.id, ROOT, NOW)
        assert not users.grant_revocation(session, dee, domain.id, ROOT, NOW)
        assert users.grant_revocation(session, dee, None, ROOT, NOW)
        assert [r.domain_name for r in rights_of(session, dee.id)] == [None, "acme"]
        assert holders(session, domain.id) == [(dee, True)]
        assert users.withdraw_revocation(session, dee, None, ROOT, NOW)
        assert users.withdraw_revocation(session, dee, domain.id, ROOT, NOW)
        assert not may_revoke(session, Principal.of_user(dee, Via.CONSOLE), domain.id)
        granted = [e.detail["domain"] for e in _audit(session, "right.granted")]
        withdrawn = [e.detail["domain"] for e in _audit(session, "right.withdrawn")]
        assert granted == ["acme", "all domains"]
        assert withdrawn == ["all domains", "acme"]
        with pytest.raises(users.UserAdminError, match="no such domain"):
            users.grant_revocation(session, dee, domain.id + 1, ROOT, NOW)
