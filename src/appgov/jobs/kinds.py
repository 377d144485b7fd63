"""What a kind of job is: a handler that does the work of one claimed job. ``workers.registry`` maps
each kind's name to its ``JobKind``; the runner (and later a Celery worker) looks the handler up
there, so a new kind (revoke, notify, watch, upkeep) is a handler and one line in the registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from appgov.runtime import Runtime


@dataclass(frozen=True)
class ClaimedJob:
    """A job as its claimant holds it: what the handler needs, read when it was claimed."""

    id: int
    kind: str
    domain_id: int | None
    payload: dict[str, Any]
    requested_by: str
    cancel_requested: bool


@dataclass(frozen=True)
class JobEnd:
    """How a handler ended: ``done`` or ``cancelled``, with what it made (kept on the job)."""

    status: str = "done"
    result: dict[str, Any] | None = field(default=None)


class Later(Exception):
    """The job cannot run now (what it works on is busy): give it back, due again after ``wait``."""

    def __init__(self, wait: timedelta, reason: str) -> None:
        super().__init__(reason)
        self.wait = wait


Handler = Callable[[Runtime, ClaimedJob], Awaitable[JobEnd]]
# the result of a job cancelled while it ran, read after the cancel (a sync's cancelled run)
CancelledResult = Callable[[Session, ClaimedJob], dict[str, Any] | None]


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    cancelled_result: CancelledResult | None = None
