"""Console sessions: a 256-bit random cookie token whose SHA-256 is the row's key, an idle and an
absolute timeout enforced here, and a CSRF token per session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from appgov.storage.models import User, WebSession


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session, user: User, now: datetime, max_age: timedelta, address: str, user_agent: str
) -> tuple[str, WebSession]:
    """A new session (a new id at every sign-in: no fixation); returns the cookie token."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        id=_key(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + max_age,
        address=address[:64],
        user_agent=user_agent[:200] or None,
    )
    session.add(row)
    return token, row


def find_session(session: Session, token: str, now: datetime, idle: timedelta) -> WebSession | None:
    """The live session for a cookie token, touched; expired ones are deleted."""
    if not token or len(token) > 200:
        return None
    row = session.get(WebSession, _key(token))
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at + idle <= now:
        session.delete(row)
        return None
    if now - row.last_seen_at > timedelta(seconds=30):  # spare a write per request
        row.last_seen_at = now
    return row


def close_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == _key(token)))


def sessions_of(
    session: Session, user_id: int, now: datetime, idle: timedelta | None = None
) -> list[WebSession]:
    """The user's live sessions, the most recently used first; with ``idle``, not those idle that long
    (their next request would find them ended)."""
    query = (
        select(WebSession)
        .where(WebSession.user_id == user_id, WebSession.expires_at > now)
        .order_by(WebSession.last_seen_at.desc())
    )
    if idle is not None:
        query = query.where(WebSession.last_seen_at > now - idle)
    return list(session.scalars(query))


def session_handle(session_id: str) -> str:
    """How lists name a session, so that one can be ended: derived from its key, never the key itself
    (the key is the cookie token's hash)."""
    return hashlib.sha256(f"handle:{session_id}".encode()).hexdigest()[:16]


def end_sessions(
    session: Session, user_id: int, handle: str | None = None, *, keep: str | None = None
) -> int:
    """End one of the user's sessions (named by its ``session_handle``) or all of them but ``keep`` (the
    caller's own session id, for "end all other sessions"); how many ended. The next request with an
    ended session's cookie is signed out."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if handle is not None:
        ids = session.scalars(select(WebSession.id).where(WebSession.user_id == user_id))
        query = query.where(WebSession.id.in_([key for key in ids if session_handle(key) == handle]))
    if keep is not None:
        query = query.where(WebSession.id != keep)
    return int(getattr(session.execute(query), "rowcount", 0) or 0)
