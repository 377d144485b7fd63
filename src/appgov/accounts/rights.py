"""The revocation right: granted to a named user for every domain or for chosen ones, withdrawn, listed
and checked. No role implies it (an admin without it cannot revoke); it is read from the database at
each check, so a withdrawal holds from the user's next request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.storage.models import Domain, RevocationRight, User

ALL_DOMAINS = None  # a right whose domain is None reaches every domain, present and future


@dataclass(frozen=True)
class Right:
    domain_id: int | None  # None: every domain
    domain_name: str | None
    granted_by: str
    granted_at: datetime


def may_revoke(session: Session, principal: Principal, domain_id: int) -> bool:
    """Whether the principal holds the revocation right for this domain (an enabled user only)."""
    if principal.user_id is None:
        return False
    query = (
        select(RevocationRight.id)
        .join(User, User.id == RevocationRight.user_id)
        .where(
            RevocationRight.user_id == principal.user_id,
            User.disabled_at.is_(None),
            or_(RevocationRight.domain_id.is_(None), RevocationRight.domain_id == domain_id),
        )
        .limit(1)
    )
    return session.scalar(query) is not None


def rights_of(session: Session, user_id: int) -> list[Right]:
    """The user's rights, the all-domains one first, then by domain name."""
    query = (
        select(RevocationRight, Domain.name)
        .outerjoin(Domain, Domain.id == RevocationRight.domain_id)
        .where(RevocationRight.user_id == user_id)
        .order_by(RevocationRight.domain_id.is_not(None), Domain.name)
    )
    return [Right(r.domain_id, name, r.granted_by, r.granted_at) for r, name in session.execute(query)]


def grant(session: Session, user_id: int, domain_id: int | None, by: Principal, now: datetime) -> bool:
    """Grant the right (``ALL_DOMAINS`` or one domain); False when the user already held it."""
    held = select(RevocationRight.id).where(
        RevocationRight.user_id == user_id,
        RevocationRight.domain_id.is_(None) if domain_id is None else RevocationRight.domain_id == domain_id,
    )
    if session.scalar(held) is not None:
        return False
    session.add(RevocationRight(user_id=user_id, domain_id=domain_id, granted_by=by.name, granted_at=now))
    session.flush()
    return True


def withdraw(session: Session, user_id: int, domain_id: int | None) -> bool:
    """Withdraw one right (``ALL_DOMAINS`` withdraws only the all-domains one); False when not held."""
    query = delete(RevocationRight).where(
        RevocationRight.user_id == user_id,
        RevocationRight.domain_id.is_(None) if domain_id is None else RevocationRight.domain_id == domain_id,
    )
    return bool(getattr(session.execute(query), "rowcount", 0))


def holders(session: Session, domain_id: int) -> list[tuple[User, bool]]:
    """The enabled users who may revoke apps on this domain, by email, each with whether their right
    reaches every domain."""
    query = (
        select(User, RevocationRight.domain_id.is_(None))
        .join(RevocationRight, RevocationRight.user_id == User.id)
        .where(
            User.disabled_at.is_(None),
            or_(RevocationRight.domain_id.is_(None), RevocationRight.domain_id == domain_id),
        )
        .order_by(User.email, RevocationRight.domain_id.is_not(None))
    )
    seen: dict[int, tuple[User, bool]] = {}
    for user, everywhere in session.execute(query):
        seen.setdefault(user.id, (user, bool(everywhere)))
    return list(seen.values())
