"""The job queue: rows in ``jobs``, so queued work survives a restart and a later distributed runner
(Celery) can take them from the same table. Queueing and cancelling a domain's jobs happen inside
the caller's transaction (with the action that asked for them); claiming, renewing and settling a
job are ``jobs.lifecycle``'s.

A job is *queued* until a runner claims it (a conditional UPDATE, so one claimant wins), *running*
while its claim is renewed, and *done* or *cancelled* at the end. A running job whose claim lapsed
(its process died) is due again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.storage.models import Job

ACTIVE = ("queued", "running")
SYNC = "sync"


def enqueue(
    session: Session,
    kind: str,
    requested_by: Principal,
    now: datetime,
    *,
    domain_id: int | None = None,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
) -> Job:
    """Queue a job of ``kind`` (at ``run_at``, by default now)."""
    job = Job(
        kind=kind, domain_id=domain_id, payload=payload or {}, status="queued", run_at=run_at or now,
        created_at=now, requested_by=requested_by.name, requested_by_user_id=requested_by.user_id,
        requested_via=requested_by.via,
    )  # fmt: skip
    session.add(job)
    session.flush()
    return job


def active_job(session: Session, domain_id: int) -> Job | None:
    """The domain's sync queued or running now, if any."""
    return session.scalar(
        select(Job)
        .where(Job.domain_id == domain_id, Job.kind == SYNC, Job.status.in_(ACTIVE))
        .order_by(Job.id)
        .limit(1)
    )


def enqueue_sync(
    session: Session,
    domain_id: int,
    requested_by: Principal,
    now: datetime,
    *,
    full: bool = False,
    run_at: datetime | None = None,
) -> tuple[Job, bool]:
    """Queue a sync (at ``run_at``, by default now): the job and True; or, when one is already
    queued or running for the domain, that one and False."""
    existing = active_job(session, domain_id)
    if existing is not None:
        return existing, False
    return enqueue(
        session, SYNC, requested_by, now, domain_id=domain_id, payload=sync_payload(full), run_at=run_at
    ), True


def sync_payload(full: bool = False) -> dict[str, Any]:
    return {"full": full}


def full_sync(job: Job) -> bool:
    """Whether a sync job ignores the audit-log bookmarks."""
    return bool(job.payload.get("full", False))


def sync_run_id(job: Job) -> int | None:
    """The run a finished sync job made or resumed."""
    run_id = (job.result or {}).get("run_id")
    return int(run_id) if run_id is not None else None


def cancel_jobs(session: Session, domain_id: int, now: datetime) -> int:
    """The domain's queued jobs are cancelled at once; a running one is asked to stop (its runner
    stops it within about a second). Returns how many jobs were affected."""
    return cancel_where(session, Job.domain_id == domain_id, now)


def cancel_where(session: Session, which: ColumnElement[bool], now: datetime) -> int:
    """Cancel the queued jobs ``which`` selects and ask the running ones to stop; how many."""
    queued = session.execute(
        update(Job).where(which, Job.status == "queued").values(status="cancelled", finished_at=now)
    )
    running = session.execute(update(Job).where(which, Job.status == "running").values(cancel_requested=True))
    return int(getattr(queued, "rowcount", 0)) + int(getattr(running, "rowcount", 0))
