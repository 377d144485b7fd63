"""Personal API tokens: ``agv_`` and 256 random bits, stored only as a SHA-256 hash, shown once, with
an expiry; a token acts with its user's current role and rights (never more), and stops working when
it expires, is revoked, or its user is disabled."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from appgov.storage.models import PersonalToken, User

PREFIX = "agv_"
MAX_LIFETIME = timedelta(days=366)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, user: User, name: str, now: datetime, lifetime: timedelta
) -> tuple[str, PersonalToken]:
    """A new token for ``user``: the plaintext (to show once) and its row."""
    if not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise ValueError(f"a token lives between a day and {MAX_LIFETIME.days} days")
    token = PREFIX + secrets.token_urlsafe(32)
    row = PersonalToken(
        user_id=user.id, name=name.strip()[:100] or "API token", token_hash=_hash(token),
        prefix=token[: len(PREFIX) + 6], created_at=now, expires_at=now + lifetime,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return token, row


def find_token(session: Session, token: str, now: datetime) -> tuple[PersonalToken, User] | None:
    """The live token and its enabled user, touched (at most once a minute), or None."""
    if not token.startswith(PREFIX) or len(token) > 100 or not token.isascii():
        return None  # not one of ours; a non-ASCII one could not even be hashed (a lone surrogate)
    found = session.execute(
        select(PersonalToken, User)
        .join(User, User.id == PersonalToken.user_id)
        .where(PersonalToken.token_hash == _hash(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or row.expires_at <= now or user.disabled_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
    return row, user


def status_of(row: PersonalToken, now: datetime) -> str:
    """What a token's list shows: active, expired or revoked."""
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= now else "active"


def tokens_of(session: Session, user_id: int) -> list[PersonalToken]:
    query = (
        select(PersonalToken)
        .where(PersonalToken.user_id == user_id)
        .order_by(PersonalToken.created_at.desc())
    )
    return list(session.scalars(query))


def revoke_token(session: Session, user_id: int, token_id: int, now: datetime) -> PersonalToken | None:
    """Revoke one of the user's tokens; None when it is not theirs or was already revoked."""
    row = session.get(PersonalToken, token_id)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        return None
    row.revoked_at = now
    return row


def revoke_all_tokens(session: Session, user_id: int, now: datetime) -> int:
    query = update(PersonalToken).where(PersonalToken.user_id == user_id, PersonalToken.revoked_at.is_(None))
    return int(getattr(session.execute(query.values(revoked_at=now)), "rowcount", 0) or 0)
