"""The ``sync`` kind: a job that runs (or resumes) its domain's sync through ``sync.service``."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from appgov.integrations.domains import DomainError, last_run
from appgov.jobs.kinds import ClaimedJob, JobEnd, JobKind, Later
from appgov.jobs.queue import SYNC
from appgov.runtime import Runtime, worker_id
from appgov.sync.engine import AlreadyRunning
from appgov.sync.service import sync_domain

log = logging.getLogger(__name__)
BUSY_RETRY = timedelta(seconds=30)  # a job whose domain another run is syncing waits this long


def lease_owner(job: ClaimedJob) -> str:
    """The domain's lease is held by the job, in this process: two jobs in one process keep off each
    other, and the same job taken again (after an outage) takes its own lease back at once."""
    return f"{worker_id()}:job-{job.id}"


async def run_sync(runtime: Runtime, job: ClaimedJob) -> JobEnd:
    if job.domain_id is None:
        raise ValueError(f"sync job {job.id} has no domain")
    full = bool(job.payload.get("full", False))
    try:
        run = await sync_domain(runtime, job.domain_id, full=full, owner=lease_owner(job))
    except AlreadyRunning as busy:
        raise Later(BUSY_RETRY, str(busy)) from busy
    except DomainError as err:  # deleted, or no credentials left
        log.warning("sync job %s: %s", job.id, err)
        return JobEnd("done")
    return JobEnd("cancelled" if run.status == "cancelled" else "done", {"run_id": run.id})


def cancelled_run(session: Session, job: ClaimedJob) -> dict[str, Any] | None:
    """The run a cancel ended, when the domain's last run is one."""
    run = last_run(session, job.domain_id) if job.domain_id is not None else None
    return {"run_id": run.id} if run is not None and run.status == "cancelled" else None


SYNC_KIND = JobKind(SYNC, run_sync, cancelled_result=cancelled_run)
