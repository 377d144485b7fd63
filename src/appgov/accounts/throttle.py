"""Sign-in throttling that slows guessing without letting anyone lock a user out (WS-05).

Failures are counted in a window per client address, per (account, address) pair and per account.
Once a count reaches its free failures, each further attempt under it waits longer (doubling, capped). The
address and pair counts slow whoever keeps failing from one address. The account-wide count slows
guessing at one account from many addresses, but it only holds back addresses that have themselves
failed recently (for any account) and browsers without the account's known-device cookie: failures
sent from elsewhere never stop the right password from a fresh address or a known browser."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from appgov.storage.models import LoginThrottle

WINDOW = timedelta(minutes=15)
MAX_BLOCK = timedelta(minutes=15)


class Count(StrEnum):
    ACCOUNT = "account"
    ADDRESS = "ip"
    PAIR = "pair"


FREE_FAILURES = {Count.ACCOUNT: 5, Count.ADDRESS: 20, Count.PAIR: 5}


def _client(address: str) -> str:
    """Whom an address counts as: itself, or for IPv6 its /64 network (one subscriber's usual
    allocation), so a guesser cannot pass for a fresh address by moving within it."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _keys(email: str, address: str) -> dict[Count, str]:
    account, address = email.strip().lower()[:320], _client(address)
    return {
        Count.ACCOUNT: f"account:{account}",
        Count.ADDRESS: f"ip:{address}",
        Count.PAIR: f"pair:{account}|{address}",
    }


def _wait(row: LoginThrottle | None, now: datetime) -> float:
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return 0.0
    return (row.blocked_until - now).total_seconds()


def blocked_for(session: Session, email: str, address: str, now: datetime, *, known_device: bool) -> float:
    """Seconds the caller must still wait (0 when it may try). ``known_device``: the browser carries
    the known-device cookie of this account, so the account-wide count does not hold it back."""
    keys = _keys(email, address)
    rows = {count: session.get(LoginThrottle, key) for count, key in keys.items()}
    wait = max(_wait(rows[Count.ADDRESS], now), _wait(rows[Count.PAIR], now))
    address_row = rows[Count.ADDRESS]
    failed_here = address_row is not None and address_row.window_started_at + WINDOW > now
    if failed_here and not known_device:
        wait = max(wait, _wait(rows[Count.ACCOUNT], now))
    return wait


def record_failure(session: Session, email: str, address: str, now: datetime) -> None:
    for count, key in _keys(email, address).items():
        row = session.get(LoginThrottle, key)
        if row is None or row.window_started_at + WINDOW <= now:
            if row is not None:
                session.delete(row)
                session.flush()
            row = LoginThrottle(key=key, failures=0, window_started_at=now)
            session.add(row)
        row.failures += 1
        excess = row.failures - FREE_FAILURES[count]
        if excess >= 0:  # 1 s, 2 s, 4 s...: capped before timedelta, which 2**excess would overflow
            row.blocked_until = now + timedelta(seconds=min(2**excess, MAX_BLOCK.total_seconds()))


def record_success(session: Session, email: str, address: str) -> None:
    """A right password clears the pair's count only: the address's stays (one valid account must not
    unlock guessing at others), and so does the account's (a guesser elsewhere is still slowed)."""
    row = session.get(LoginThrottle, _keys(email, address)[Count.PAIR])
    if row is not None:
        session.delete(row)
