"""Sign-in throttling per account and per client address: past a few failures in a window, each
further attempt waits longer (doubling, capped), so guessing is slow and the real user is never
locked out for good."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from appgov.storage.models import LoginThrottle

WINDOW = timedelta(minutes=15)
FREE_FAILURES = {"account": 5, "ip": 20}
MAX_BLOCK = timedelta(minutes=15)


def _keys(email: str, address: str) -> list[tuple[str, str]]:
    return [("account", f"account:{email.strip().lower()[:320]}"), ("ip", f"ip:{address[:64]}")]


def blocked_for(session: Session, email: str, address: str, now: datetime) -> float:
    """Seconds the caller must still wait (0 when it may try)."""
    wait = 0.0
    for _, key in _keys(email, address):
        row = session.get(LoginThrottle, key)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            wait = max(wait, (row.blocked_until - now).total_seconds())
    return wait


def record_failure(session: Session, email: str, address: str, now: datetime) -> None:
    for kind, key in _keys(email, address):
        row = session.get(LoginThrottle, key)
        if row is None or row.window_started_at + WINDOW <= now:
            if row is not None:
                session.delete(row)
                session.flush()
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            session.add(row)
        row.failures += 1
        excess = row.failures - FREE_FAILURES[kind]
        if excess > 0:
            row.blocked_until = now + min(timedelta(seconds=2**excess), MAX_BLOCK)


def record_success(session: Session, email: str) -> None:
    """A right password clears the account's count (not the address's: one valid account must not
    unlock guessing at others)."""
    row = session.get(LoginThrottle, _keys(email, "")[0][1])
    if row is not None:
        session.delete(row)
