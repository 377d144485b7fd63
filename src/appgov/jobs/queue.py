"""The job queue: rows in ``jobs``, so queued work survives a restart and a later distributed runner
(Celery) can take them from the same table.

A job is *queued* until a runner claims it (a conditional UPDATE, so one claimant wins), *running*
while its claim is renewed, and *done* or *cancelled* at the end. A running job whose claim lapsed
(its process died) is due again.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from appgov.storage.models import Job

ACTIVE = ("queued", "running")


def active_job(session: Session, domain_id: int) -> Job | None:
    return session.scalar(
        select(Job).where(Job.domain_id == domain_id, Job.status.in_(ACTIVE)).order_by(Job.id).limit(1)
    )


def enqueue_sync(
    session: Session,
    domain_id: int,
    requested_by: str,
    now: datetime,
    *,
    full: bool = False,
    run_at: datetime | None = None,
) -> Job:
    """Queue a sync (at ``run_at``, by default now) unless one is already queued or running for the
    domain (that one is returned)."""
    existing = active_job(session, domain_id)
    if existing is not None:
        return existing
    job = Job(
        domain_id=domain_id, kind="sync", full=full, status="queued", run_at=run_at or now, created_at=now,
        requested_by=requested_by,
    )  # fmt: skip
    session.add(job)
    session.flush()
    return job


def cancel_jobs(session: Session, domain_id: int, now: datetime) -> int:
    """Queued jobs are cancelled at once; a running one is asked to stop (the runner stops it within
    about a second). Returns how many jobs were affected."""
    queued = session.execute(
        update(Job)
        .where(Job.domain_id == domain_id, Job.status == "queued")
        .values(status="cancelled", finished_at=now)
    )
    running = session.execute(
        update(Job).where(Job.domain_id == domain_id, Job.status == "running").values(cancel_requested=True)
    )
    return int(getattr(queued, "rowcount", 0)) + int(getattr(running, "rowcount", 0))


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Job.status == "queued", Job.run_at <= now),
        and_(Job.status == "running", Job.claimed_until < now),  # its runner died
    )


def due_job_ids(session: Session, now: datetime, limit: int, skip_domains: Collection[int] = ()) -> list[int]:
    """Jobs a runner may claim now, oldest first."""
    query = select(Job.id).where(_due(now)).order_by(Job.run_at, Job.id).limit(limit)
    if skip_domains:
        query = query.where(Job.domain_id.not_in(skip_domains))
    return list(session.scalars(query))


def claim_job(session: Session, job_id: int, worker: str, now: datetime, until: datetime) -> Job | None:
    """Take a due job for ``worker`` until ``until``; None when another claimant was first."""
    taken = session.execute(
        update(Job)
        .where(Job.id == job_id, _due(now))
        .values(status="running", claimed_by=worker, claimed_until=until)
    )
    if not getattr(taken, "rowcount", 0):
        return None
    return session.get(Job, job_id, populate_existing=True)


def renew_claims(session: Session, job_ids: Collection[int], worker: str, until: datetime) -> None:
    session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.claimed_by == worker, Job.status == "running")
        .values(claimed_until=until)
    )


def requeue(session: Session, job_id: int, worker: str, run_at: datetime) -> None:
    """Give a claimed job back, to be claimed again at ``run_at``."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.claimed_by == worker)
        .values(status="queued", run_at=run_at, claimed_by=None, claimed_until=None)
    )


def finish_job(
    session: Session, job_id: int, worker: str, status: str, run_id: int | None, now: datetime
) -> None:
    """Close a claimed job as *done* or *cancelled*, with the run it made."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.claimed_by == worker)
        .values(status=status, run_id=run_id, finished_at=now, claimed_until=None)
    )
