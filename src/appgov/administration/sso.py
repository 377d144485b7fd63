"""Who a sign-in through the identity provider is: the user linked to the provider's (issuer, subject),
never found by email alone. A first sign-in links the local account with the same email only when
the provider says that email is verified, or creates the user (just in time). With a role claim
configured, the role it maps to is applied at every sign-in, audited, and never demotes the last
enabled admin (reliability WS-08)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.accounts.oidc import Identity, SsoRefused
from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal, Via
from appgov.accounts.users import create_sso_user, normalize_email
from appgov.administration.users import UserAdminError, set_role
from appgov.audit.trail import AuditOutcome, record_audit
from appgov.config import OidcSettings
from appgov.outcomes import Code
from appgov.storage.models import User

RANK = {Role.VIEWER: 0, Role.ANALYST: 1, Role.ADMIN: 2}


def mapped_role(oidc: OidcSettings, values: tuple[str, ...]) -> Role | None:
    """The highest role the role claim's values map to: through APPGOV_OIDC_ROLE_MAP, or, without a
    map, values that are role names themselves; None when none maps."""
    mapping = dict(oidc.role_map) if oidc.role_map else {role.value: role.value for role in Role}
    roles = [Role(mapping[v]) for v in values if v in mapping]
    return max(roles, key=RANK.__getitem__) if roles else None


def _role(oidc: OidcSettings, identity: Identity) -> Role:
    return mapped_role(oidc, identity.role_values) or Role(oidc.default_role)


def _email(identity: Identity) -> str | None:
    try:
        return normalize_email(identity.email) if identity.email else None
    except ValueError:
        return None


def _first_sign_in(
    session: Session, identity: Identity, oidc: OidcSettings, now: datetime, address: str | None,
    request_id: str | None,
) -> User:  # fmt: skip
    """Link the account with the identity's email (verified only), or create one."""
    email = _email(identity)
    if email is None:
        raise SsoRefused(Code.SSO_NO_EMAIL)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        role = _role(oidc, identity)
        user = create_sso_user(
            session, email, identity.name, identity.issuer, identity.subject, now, role=role
        )
        who = Principal.of_user(user, Via.SSO, address, request_id)
        record_audit(session, who, "user.joined", email, now, role=user.role, issuer=identity.issuer)
        return user
    if user.disabled_at is not None:
        raise SsoRefused(Code.SSO_USER_DISABLED)
    if user.sso_subject is not None:
        raise SsoRefused(Code.SSO_ACCOUNT_CONFLICT)
    if not identity.email_verified:
        raise SsoRefused(Code.SSO_EMAIL_UNVERIFIED)
    user.sso_issuer, user.sso_subject = identity.issuer, identity.subject
    who = Principal.of_user(user, Via.SSO, address, request_id)
    record_audit(session, who, "user.sso_linked", email, now, issuer=identity.issuer)
    return user


def _follow_email(session: Session, user: User, identity: Identity, who: Principal, now: datetime) -> None:
    """The provider's verified email, when it changed and no other account has it."""
    email = _email(identity)
    if email is None or email == user.email or not identity.email_verified:
        return
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        return
    previous, user.email = user.email, email
    record_audit(session, who, "user.email_changed", email, now, from_email=previous)


def _follow_role(session: Session, user: User, role: Role, who: Principal, now: datetime) -> None:
    try:
        set_role(session, user, role, who, now)
    except UserAdminError:
        # the last enabled admin keeps the role: demoting them would leave nobody to manage users
        record_audit(
            session, who, "user.role_changed", user.email, now, AuditOutcome.FAILURE, from_role=user.role,
            to_role=str(role), reason="last_admin",
        )  # fmt: skip


def sso_user(
    session: Session,
    identity: Identity,
    oidc: OidcSettings,
    now: datetime,
    address: str | None,
    request_id: str | None,
) -> User:
    """The enabled user ``identity`` signs in as, linked or created at the first sign-in, with the
    role claim's role applied. Raises ``SsoRefused``."""
    user = session.scalar(
        select(User).where(User.sso_issuer == identity.issuer, User.sso_subject == identity.subject)
    )
    if user is None:
        user = _first_sign_in(session, identity, oidc, now, address, request_id)
    if user.disabled_at is not None:
        raise SsoRefused(Code.SSO_USER_DISABLED)
    who = Principal.of_user(user, Via.SSO, address, request_id)
    _follow_email(session, user, identity, who, now)
    if oidc.role_claim:
        _follow_role(session, user, _role(oidc, identity), who, now)
    user.last_login_at = now
    return user
