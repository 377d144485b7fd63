"""Ending sessions, one's own or (for an admin) another user's: each takes effect on the session's
next request (WS-02), and is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.accounts.sessions import end_sessions
from appgov.audit.trail import record_audit
from appgov.storage.models import User


def end_sessions_of(
    session: Session,
    user: User,
    by: Principal,
    now: datetime,
    handle: str | None = None,
    *,
    keep: str | None = None,
) -> int:
    """End one of ``user``'s sessions (by its handle) or all of them but ``keep`` (a session id); how
    many ended (audited when any did)."""
    ended = end_sessions(session, user.id, handle, keep=keep)
    if ended:
        scope = "one" if handle else "others" if keep else "all"
        record_audit(session, by, "user.sessions_ended", user.email, now, sessions=ended, scope=scope)
    return ended
