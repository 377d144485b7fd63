"""The scheduler: queues the syncs nobody asked for. Its state is in the database, so a restart
changes nothing.

- **Periodic**: every domain is synced every ``sync_interval_minutes`` plus a random jitter of up to
  ``sync_jitter_minutes`` (spreading domains apart); the next time is ``Domain.next_sync_at``. A
  domain's first periodic time counts from its last run or its last job, whichever is newer, so a
  domain whose credentials are rejected is retried at the interval, never in a tight loop.
- **Deferred**: a run that ended *deferred* gets a job at its ``resume_at``, unless someone
  cancelled a job of it since it started (then the next periodic sync resumes it).
- **Expired credentials**: a domain whose API token or OAuth consent has ended gets no sync at all
  (``integrations.credentials``, CS-08): nothing would reach Atlassian but a refusal, so nothing is
  retried until the token is replaced or the domain reconnected.
- **Gaps only**: a brand-new domain gets its first sync from whoever adds it; a domain with a queued
  or running job gets no other; one never synced nor queued (added from the command line) is queued
  at once.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from appgov.accounts.principal import SCHEDULER
from appgov.integrations.credentials import expired_credential
from appgov.integrations.domains import last_run
from appgov.jobs.queue import SYNC, active_job, enqueue, sync_payload
from appgov.runtime import Runtime
from appgov.storage.models import Domain, Job, SyncRun


class Scheduler:
    def __init__(self, runtime: Runtime, rng: random.Random | None = None) -> None:
        self.runtime = runtime
        self.rng = rng or random.Random()

    def tick(self) -> list[Job]:
        """Queue what is due now; returns the jobs queued."""
        with self.runtime.sessions() as session:
            domain_ids = list(session.scalars(select(Domain.id).order_by(Domain.id)))
        queued = (self._plan(domain_id) for domain_id in domain_ids)
        return [job for job in queued if job is not None]

    def next_after(self, moment: datetime) -> datetime:
        settings = self.runtime.settings
        jitter = self.rng.uniform(0, settings.sync_jitter_minutes * 60)
        return moment + timedelta(minutes=settings.sync_interval_minutes, seconds=jitter)

    def _plan(self, domain_id: int) -> Job | None:
        now = self.runtime.clock.now()
        with self.runtime.sessions.begin() as session:
            domain = session.get(Domain, domain_id)
            if domain is None or active_job(session, domain_id) is not None:
                return None
            if expired_credential(session, domain_id, now) is not None:
                return None
            run = last_run(session, domain_id)
            if run is not None and run.resume_at is not None and _resumable(session, run):
                return _queue(session, domain_id, now, run_at=run.resume_at)
            return self._periodic(session, domain, run, now)

    def _periodic(self, session: Session, domain: Domain, run: SyncRun | None, now: datetime) -> Job | None:
        due = domain.next_sync_at or self._first_due(session, domain, run)
        if due is None or due <= now:
            if not self._move_next(session, domain, now):
                return None  # another scheduler queued it first
            return _queue(session, domain.id, now)
        if domain.next_sync_at is None:
            domain.next_sync_at = due
        return None

    def _first_due(self, session: Session, domain: Domain, run: SyncRun | None) -> datetime | None:
        """From the newest of the last run's start and the last job's creation; None if neither."""
        last_job = session.scalar(select(func.max(Job.created_at)).where(Job.domain_id == domain.id))
        moments = [m for m in (run.started_at if run else None, last_job) if m is not None]
        return self.next_after(max(moments)) if moments else None

    def _move_next(self, session: Session, domain: Domain, now: datetime) -> bool:
        """Set the next periodic time, on the condition that it is still what we read: of two
        schedulers, one moves it and queues, the other finds it moved."""
        current = (
            Domain.next_sync_at.is_(None)
            if domain.next_sync_at is None
            else Domain.next_sync_at == domain.next_sync_at
        )
        moved = session.execute(
            update(Domain).where(Domain.id == domain.id, current).values(next_sync_at=self.next_after(now))
        )
        return bool(getattr(moved, "rowcount", 0))


def _queue(session: Session, domain_id: int, now: datetime, run_at: datetime | None = None) -> Job:
    """A sync for a domain ``_plan`` found without an active job."""
    return enqueue(session, SYNC, SCHEDULER, now, domain_id=domain_id, payload=sync_payload(), run_at=run_at)


def _resumable(session: Session, run: SyncRun) -> bool:
    """A deferred run nobody cancelled a job of since it started."""
    cancelled = select(Job.id).where(
        Job.domain_id == run.domain_id, Job.status == "cancelled", Job.created_at >= run.started_at
    )
    return run.status == "deferred" and session.scalar(cancelled.limit(1)) is None
