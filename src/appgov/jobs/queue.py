"""The job queue: rows in ``jobs``, so queued work survives a restart and a later distributed runner
(Celery) can take them from the same table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from appgov.storage.models import Job

ACTIVE = ("queued", "running")


def active_job(session: Session, domain_id: int) -> Job | None:
    return session.scalar(
        select(Job).where(Job.domain_id == domain_id, Job.status.in_(ACTIVE)).order_by(Job.id).limit(1)
    )


def enqueue_sync(
    session: Session, domain_id: int, requested_by: str, now: datetime, *, full: bool = False
) -> Job:
    """Queue a sync unless one is already queued or running for the domain (that one is returned)."""
    existing = active_job(session, domain_id)
    if existing is not None:
        return existing
    job = Job(
        domain_id=domain_id, kind="sync", full=full, status="queued", run_at=now, created_at=now,
        requested_by=requested_by,
    )  # fmt: skip
    session.add(job)
    session.flush()
    return job


def cancel_jobs(session: Session, domain_id: int, now: datetime) -> int:
    """Queued jobs are cancelled at once; a running one is asked to stop (the runner stops it at its
    next checkpoint). Returns how many jobs were affected."""
    queued = session.execute(
        update(Job)
        .where(Job.domain_id == domain_id, Job.status == "queued")
        .values(status="cancelled", finished_at=now)
    )
    running = session.execute(
        update(Job).where(Job.domain_id == domain_id, Job.status == "running").values(cancel_requested=True)
    )
    return int(getattr(queued, "rowcount", 0)) + int(getattr(running, "rowcount", 0))
