"""A clock a test moves by hand (``Runtime.clock``): the scheduler and the mail sender read time
through it, so intervals and back-offs are tested without waiting."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.advance(seconds=seconds)

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment
