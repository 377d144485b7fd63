"""The one retry policy for every call a connector makes (Atlassian's rules, references §7.1, are the
model; reliability SY-05/SY-07).

- Only idempotent requests are retried: GET, HEAD, OPTIONS, PUT and DELETE, and a request its
  caller declares idempotent (a read-only GraphQL query sent by POST). A POST or PATCH that may have
  been sent is never sent again: on a 5xx, a 429, a timeout or a connection error after sending, or
  a garbled body, it fails with ``Unconfirmed`` and its caller decides. Atlassian's own backoff
  recipe says not to retry non-idempotent calls, and nothing it documents says a 429 was not
  processed. A connection that could not even be opened is retried whatever the method: nothing
  was sent.
- 429 and 503 with ``Retry-After``: never retry before it (seconds or an HTTP date), plus jitter.
- 429/5xx without it, connection resets and truncated bodies: exponential backoff with jitter.
- Other 4xx: not retried; the caller classifies them.
- A wait longer than ``defer_after`` is not slept: the run ends *deferred* with its resume time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from appgov.outcomes import Outcome

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# transport failures before any byte of the request left: safe to send again, whatever the method
NOT_SENT: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


def idempotent(method: str, declared: bool | None = None) -> bool:
    """Whether a request may be sent again after a failure that leaves its outcome unknown."""
    return declared if declared is not None else method.upper() in IDEMPOTENT_METHODS


class Deferred(Exception):
    """The platform asked us to wait longer than we are willing to sleep: resume at ``resume_at``;
    ``outcome``: why, as a reason code. The engine ends the run *deferred* with that resume time."""

    def __init__(self, resume_at: datetime, reason: str, outcome: Outcome) -> None:
        super().__init__(f"{reason}; resume at {resume_at.isoformat()}")
        self.resume_at = resume_at
        self.reason = reason
        self.outcome = outcome


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: tuple[float, float] = (0.7, 1.3)
    defer_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if retry_after is not None:
            return retry_after * rng.uniform(1.0, self.jitter[1])  # never earlier than asked
        backoff: float = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return backoff * rng.uniform(*self.jitter)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date; None if absent or garbage."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def resume_time(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
