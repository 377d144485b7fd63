"""Atlassian's per-site burst limit: concurrent requests and requests per second.

Past either, the site answers 429 with ``Retry-After`` and the ``X-RateLimit-*`` headers
(references §7.1). Benchmarks derive their lower bound from these two numbers.
"""

from __future__ import annotations

import collections
import math
from datetime import UTC, datetime

from appgov_sim.clock import SimClock
from appgov_sim.tenant.model import BurstLimit


class BurstLimiter:
    """A token bucket of one second's worth of requests, plus an in-flight counter."""

    def __init__(self, limit: BurstLimit, clock: SimClock) -> None:
        self.limit = limit
        self.clock = clock
        self.tokens = limit.requests_per_second
        self.updated = clock.time()
        self.in_flight = 0

    def _refill(self) -> None:
        now = self.clock.time()
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(
            self.limit.requests_per_second, self.tokens + elapsed * self.limit.requests_per_second
        )
        self.updated = now

    def acquire(self) -> dict[str, str] | None:
        """Admit a request (and count it in flight), or return the 429's headers."""
        self._refill()
        if self.tokens >= 1 and self.in_flight < self.limit.concurrency:
            self.tokens -= 1
            self.in_flight += 1
            return None
        wait = 1.0 if self.tokens >= 1 else (1 - self.tokens) / self.limit.requests_per_second
        return self.headers(wait)

    def release(self) -> None:
        self.in_flight -= 1

    def headers(self, wait_seconds: float) -> dict[str, str]:
        reset = datetime.fromtimestamp(self.clock.time() + wait_seconds, tz=UTC)
        return {
            "Retry-After": str(max(1, math.ceil(wait_seconds))),
            "X-RateLimit-Limit": str(int(self.limit.requests_per_second)),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
            "X-RateLimit-NearLimit": "true",
            "RateLimit-Reason": "jira-burst-based",
        }


class WindowLimiter:
    """At most ``limit`` requests per ``seconds`` for each key, as a sliding log on the simulator clock.

    The organization API's ``/events`` allows 10 requests a minute (references §6); being on the
    simulator clock, a test moves time with the control API instead of waiting.
    """

    def __init__(self, limit: int, seconds: float, clock: SimClock) -> None:
        self.limit = limit
        self.seconds = seconds
        self.clock = clock
        self.hits: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    def acquire(self, key: str) -> int | None:
        """Admit one request (None), or return the whole seconds until the oldest hit leaves the window."""
        now = self.clock.time()
        hits = self.hits[key]
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.seconds - now))
        hits.append(now)
        return None
