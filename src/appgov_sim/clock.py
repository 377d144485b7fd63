"""The simulator's one clock: wall time plus an offset that the control API can move."""

import time
from datetime import UTC, datetime


class SimClock:
    """Every time the simulator reads goes through here, so tests can jump ahead in time."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset_seconds = offset_seconds

    def time(self) -> float:
        return time.time() + self.offset_seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> None:
        self.offset_seconds += seconds
