"""Users as an administrator manages them: invitations (a one-time link, hashed at rest) and their
acceptance, roles, disabled accounts, and the revocation right. Each change is one audited call; an
admin can never demote or disable the last enabled admin."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from appgov.accounts import rights
from appgov.accounts.passwords import check_policy
from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal, Via
from appgov.accounts.sessions import end_sessions
from appgov.accounts.tokens import revoke_all_tokens
from appgov.accounts.users import UserExists, create_user, normalize_email
from appgov.audit.trail import record_audit
from appgov.storage.models import Domain, Invitation, User, WebSession

INVITATION_LIFETIME = timedelta(hours=72)
SETUP_LIFETIME = timedelta(hours=1)
FIRST_ADMIN = "the first administrator"  # the audit trail's target for the setup link
# one wording whatever the reason, so a link's state (unknown, used, expired) is not told apart
INVALID_INVITATION = "This invitation link is not valid: it is unknown, used or expired. Ask for a new one."
ALL_DOMAINS_LABEL = "all domains"


class UserAdminError(ValueError):
    """A refused change; the message says why, in a sentence for the person who asked."""


class NoSuchDomain(UserAdminError):
    def __init__(self) -> None:
        super().__init__("no such domain")


class InvitationInvalid(UserAdminError):
    def __init__(self) -> None:
        super().__init__(INVALID_INVITATION)


@dataclass(frozen=True)
class UserSummary:
    """A user as the Users list shows them."""

    user: User
    rights: list[rights.Right]
    live_sessions: int

    @property
    def status(self) -> str:
        return "disabled" if self.user.disabled_at else "active"


def invitation_link(public_url: str, token: str) -> str:
    """The link the invited person opens (the console's ``/invitations/{token}`` page)."""
    return f"{public_url}/invitations/{token}"


def setup_link(public_url: str, token: str) -> str:
    """The first administrator's setup link (the console's ``/setup/{token}`` page)."""
    return f"{public_url}/setup/{token}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise UserAdminError(f"no user {email.strip()}")
    return user


def user_summaries(session: Session, now: datetime) -> list[UserSummary]:
    """Every user by email, with their revocation rights and how many live sessions they have."""
    live = dict(
        session.execute(
            select(WebSession.user_id, func.count())
            .where(WebSession.expires_at > now)
            .group_by(WebSession.user_id)
        ).all()
    )
    users = session.scalars(select(User).order_by(User.email))
    return [UserSummary(u, rights.rights_of(session, u.id), int(live.get(u.id, 0))) for u in users]


def pending_invitations(session: Session, now: datetime) -> list[Invitation]:
    query = (
        select(Invitation)
        .where(Invitation.email.is_not(None), Invitation.used_at.is_(None), Invitation.expires_at > now)
        .order_by(Invitation.expires_at)
    )
    return list(session.scalars(query))


def invite(
    session: Session,
    email: str,
    role: Role,
    by: Principal,
    now: datetime,
    lifetime: timedelta = INVITATION_LIFETIME,
) -> tuple[str, Invitation]:
    """A one-time link token for ``email`` to create an account with ``role``: the plaintext, to show
    once (only its hash is stored), and the invitation."""
    email = normalize_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserAdminError(f"{email} already has an account")
    return _issue(session, email, Role(role), by, now, lifetime)


def invite_first_admin(session: Session, by: Principal, now: datetime) -> str | None:
    """While no user exists: the token of a one-time setup link (WS-08), an admin invitation the
    system makes for whoever opens it within ``SETUP_LIFETIME``; None once any user exists."""
    if _any_user(session):
        return None
    token, _ = _issue(session, None, Role.ADMIN, by, now, SETUP_LIFETIME)
    return token


def _any_user(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def _issue(
    session: Session, email: str | None, role: Role, by: Principal, now: datetime, lifetime: timedelta
) -> tuple[str, Invitation]:
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=_hash(token), email=email, role=role, invited_by=by.name, created_at=now,
        expires_at=now + lifetime,
    )  # fmt: skip
    session.add(invitation)
    session.flush()
    record_audit(
        session, by, "user.invited", email or FIRST_ADMIN, now, role=str(role),
        expires_at=invitation.expires_at.isoformat(),
    )  # fmt: skip
    return token, invitation


def open_invitation(session: Session, token: str, now: datetime) -> Invitation:
    """The unused, unexpired invitation for a link's token (a setup link: while no user exists)."""
    if not token or len(token) > 100:
        raise InvitationInvalid
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token)))
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= now:
        raise InvitationInvalid
    if invitation.email is None and _any_user(session):
        raise InvitationInvalid
    return invitation


def accept_invitation(
    session: Session,
    token: str,
    name: str,
    password: str,
    now: datetime,
    *,
    email: str = "",
    address: str | None = None,
    request_id: str | None = None,
) -> User:
    """Create the invited account with the invitation's role; the link works once. A setup link's
    account takes ``email``. Raises ``InvitationInvalid``, or ``ValueError`` (the link stays usable)
    for a weak password (``PasswordRejected``) or a malformed email."""
    invitation = open_invitation(session, token, now)
    email = invitation.email or normalize_email(email)
    check_policy(password, email)  # before the claim: a weak password leaves the link usable
    # single use even when two requests race: only one UPDATE finds it unused
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise InvitationInvalid
    try:
        user = create_user(session, email, name, password, now, role=Role(invitation.role))
    except UserExists:
        raise InvitationInvalid from None
    joined = Principal.of_user(user, Via.CONSOLE, address, request_id)
    record_audit(
        session, joined, "user.joined", user.email, now, role=user.role, invited_by=invitation.invited_by
    )
    return user


def _keep_an_admin(session: Session, user: User, change: str) -> None:
    """Refuse ``change`` when ``user`` is the last enabled admin. The enabled admins' rows are locked
    (PostgreSQL), so two admins demoting each other at once cannot both succeed."""
    if user.role != Role.ADMIN or user.disabled_at is not None:
        return
    admins = session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.disabled_at.is_(None)).with_for_update()
    ).all()
    if set(admins) <= {user.id}:
        raise UserAdminError(
            f"{user.email} is the last enabled admin: make another user an admin before you {change} them"
        )


def set_role(session: Session, user: User, role: Role, by: Principal, now: datetime) -> bool:
    """Give ``user`` another role, which holds from their next request; False when it was theirs."""
    role = Role(role)
    if user.role == role:
        return False
    if role != Role.ADMIN:
        _keep_an_admin(session, user, "demote")
    previous, user.role = user.role, role
    record_audit(session, by, "user.role_changed", user.email, now, from_role=previous, to_role=str(role))
    return True


def disable(session: Session, user: User, by: Principal, now: datetime) -> bool:
    """Disable the account: no sign-in, every session ended and every API token revoked, at once."""
    if user.disabled_at is not None:
        return False
    _keep_an_admin(session, user, "disable")
    user.disabled_at = now
    ended = end_sessions(session, user.id)
    revoked = revoke_all_tokens(session, user.id, now)
    record_audit(session, by, "user.disabled", user.email, now, sessions_ended=ended, tokens_revoked=revoked)
    return True


def enable(session: Session, user: User, by: Principal, now: datetime) -> bool:
    """Let a disabled user sign in again (their revoked API tokens stay revoked)."""
    if user.disabled_at is None:
        return False
    user.disabled_at = None
    record_audit(session, by, "user.enabled", user.email, now)
    return True


def _domain_label(session: Session, domain_id: int | None) -> str:
    if domain_id is None:
        return ALL_DOMAINS_LABEL
    domain = session.get(Domain, domain_id)
    if domain is None:
        raise NoSuchDomain
    return domain.name


def grant_revocation(
    session: Session, user: User, domain_id: int | None, by: Principal, now: datetime
) -> bool:
    """Grant ``user`` the revocation right on one domain, or on all (``None``); False when held."""
    label = _domain_label(session, domain_id)
    granted = rights.grant(session, user.id, domain_id, by, now)
    if granted:
        record_audit(session, by, "right.granted", user.email, now, right="apps.revoke", domain=label)
    return granted


def withdraw_revocation(
    session: Session, user: User, domain_id: int | None, by: Principal, now: datetime
) -> bool:
    """Withdraw one of ``user``'s revocation rights; False when it was not held."""
    label = _domain_label(session, domain_id)
    withdrawn = rights.withdraw(session, user.id, domain_id)
    if withdrawn:
        record_audit(session, by, "right.withdrawn", user.email, now, right="apps.revoke", domain=label)
    return withdrawn
