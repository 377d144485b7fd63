"""A job's life after it was queued, as plain functions of a session factory and ids: the in-process
runner calls them, and a Celery worker can call the same ones (claim, run the kind's handler,
settle) with nothing else in common.

- ``claim``: a conditional UPDATE on a due job, so of any number of claimants exactly one wins; the
  claim lasts until a moment the claimant renews while it works (``renew``).
- ``renew`` also reports what the claimant must stop for: a cancel asked for, a job deleted (with
  its domain), or a claim another claimant took over after this one's lapsed.
- ``settle`` closes the claimed job *done* or *cancelled* with its result; ``give_back`` queues it
  again for later (the process stopping, the domain busy, the database away).
- ``cancel``: a queued job is cancelled at once, a running one is asked to stop.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from appgov.jobs.kinds import ClaimedJob
from appgov.jobs.queue import cancel_where
from appgov.storage.db import retried_on_disconnect
from appgov.storage.models import Job

Sessions = sessionmaker[Session]


@dataclass(frozen=True)
class Watched:
    """A claimed job as its claimant sees it on renewing."""

    ours: bool  # False once another claimant took it over
    cancel_requested: bool


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Job.status == "queued", Job.run_at <= now),
        and_(Job.status == "running", Job.claimed_until < now),  # its claimant died
    )


def due_jobs(sessions: Sessions, now: datetime, kinds: Collection[str], limit: int) -> list[int]:
    """Jobs of these kinds a claimant may take now, oldest first."""
    with sessions() as session:
        query = select(Job.id).where(_due(now), Job.kind.in_(kinds)).order_by(Job.run_at, Job.id)
        return list(session.scalars(query.limit(limit)))


def claim(sessions: Sessions, job_id: int, worker: str, now: datetime, until: datetime) -> ClaimedJob | None:
    """Take a due job for ``worker`` until ``until``; None when another claimant was first."""
    with sessions.begin() as session:
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, _due(now))
            .values(status="running", claimed_by=worker, claimed_until=until)
        )
        if not getattr(taken, "rowcount", 0):
            return None
        job = session.get_one(Job, job_id, populate_existing=True)
        return ClaimedJob(
            job.id, job.kind, job.domain_id, dict(job.payload), job.requested_by, job.cancel_requested
        )


def renew(
    sessions: Sessions, job_ids: Collection[int], worker: str, now: datetime, claim: timedelta
) -> dict[int, Watched]:
    """Extend the claims that have less than half of ``claim`` left (a write every half claim, not on
    every call), and report each job still there."""
    with sessions.begin() as session:
        rows = session.execute(
            select(Job.id, Job.claimed_by, Job.claimed_until, Job.cancel_requested).where(Job.id.in_(job_ids))
        ).all()
        expiring = [row.id for row in rows if row.claimed_until and row.claimed_until < now + claim / 2]
        if expiring:
            session.execute(
                update(Job)
                .where(Job.id.in_(expiring), Job.claimed_by == worker, Job.status == "running")
                .values(claimed_until=now + claim)
            )
        return {row.id: Watched(row.claimed_by == worker, row.cancel_requested) for row in rows}


def give_back(sessions: Sessions, job_id: int, worker: str, run_at: datetime) -> None:
    """Queue a claimed job again, to be claimed at ``run_at`` (one that was settled stays so)."""
    with sessions.begin() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.claimed_by == worker, Job.status == "running")
            .values(status="queued", run_at=run_at, claimed_by=None, claimed_until=None)
        )


@retried_on_disconnect
def settle(
    sessions: Sessions,
    job_id: int,
    worker: str,
    status: str,
    now: datetime,
    result: dict[str, Any] | None = None,
) -> None:
    """Close a claimed job as *done* or *cancelled*, with its result (a job another claimant took
    over is left to that one)."""
    with sessions.begin() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.claimed_by == worker)
            .values(status=status, result=result, finished_at=now, claimed_until=None)
        )


def cancel(sessions: Sessions, job_id: int, now: datetime) -> bool:
    """Cancel a queued job at once, or ask a running one to stop; False when it had ended."""
    with sessions.begin() as session:
        return cancel_where(session, Job.id == job_id, now) > 0


def exists(sessions: Sessions, job_id: int) -> bool:
    """Whether the job is still there (it goes with its domain)."""
    with sessions() as session:
        return session.get(Job, job_id) is not None
