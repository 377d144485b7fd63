"""The in-process runner: claims due sync jobs, runs each as an asyncio task through
``sync.service.sync_domain``, and watches them.

- **Claims** are conditional UPDATEs (``jobs.queue.claim_job``): two runners, in one process or
  many, never run the same job. A claim is renewed while the job runs; when its process dies the
  claim lapses and another runner takes the job again, and the engine resumes the run from its
  checkpoints.
- **One run per domain** is the engine's lease: a job whose domain is busy elsewhere
  (``AlreadyRunning``) is queued again a little later.
- **Cancel**: about once a second the runner reads its jobs back; a job asked to stop
  (``cancel_requested``), whose row disappeared (the domain was deleted) or whose claim another
  runner took has its task cancelled, and the engine ends the run *cancelled* with its checkpoints.
- **Stop** (the process shutting down): running syncs are cancelled and their jobs queued again, so
  the next start resumes them.
- **Database outages** (SY-10): a tick that fails is tried again a second later; a run that the
  database left (``DatabaseUnavailable``) gives its job back, or, while the database is still away,
  lets its claim lapse: either way the job runs again and resumes from its checkpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from appgov.integrations.domains import DomainError, last_run
from appgov.jobs import queue
from appgov.outcomes import Code, Outcome
from appgov.runtime import Runtime
from appgov.storage.db import database_unavailable, log_failure, retried_on_disconnect
from appgov.storage.models import Domain, Job
from appgov.sync.engine import AlreadyRunning, worker_id
from appgov.sync.service import sync_domain

log = logging.getLogger(__name__)
CLAIM = timedelta(seconds=60)  # a dead runner's jobs are taken again after this
BUSY_RETRY = timedelta(seconds=30)  # a job whose domain another worker is syncing waits this long
POLL_SECONDS = 1.0  # how soon a cancel, a deletion or a new due job is noticed
SHUTDOWN = Outcome(Code.SHUTDOWN)


class _ProcessDomains:
    """Domains a runner of this process is syncing. The engine's lease is per process (its owner is
    host:pid), so runners sharing a process must also keep off each other's domains."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._domains: set[int] = set()

    def take(self, domain_id: int) -> bool:
        with self._lock:
            if domain_id in self._domains:
                return False
            self._domains.add(domain_id)
            return True

    def release(self, domain_id: int) -> None:
        with self._lock:
            self._domains.discard(domain_id)

    def busy(self) -> list[int]:
        with self._lock:
            return sorted(self._domains)


BUSY_HERE = _ProcessDomains()


@dataclass
class Running:
    job_id: int
    domain_id: int
    task: asyncio.Task[None] | None = None
    stop_reason: Outcome | None = None  # why the runner cancelled it, when it did

    def stop(self, reason: Outcome) -> None:
        if self.stop_reason is None and self.task is not None:
            self.stop_reason = reason
            self.task.cancel(reason)


class Runner:
    def __init__(
        self,
        runtime: Runtime,
        *,
        worker: str | None = None,
        concurrency: int | None = None,
        poll_seconds: float = POLL_SECONDS,
        claim: timedelta = CLAIM,
    ) -> None:
        self.runtime = runtime
        self.worker = worker or f"{worker_id()}:{uuid.uuid4().hex[:8]}"
        self.concurrency = concurrency or runtime.settings.runner_concurrency
        self.poll_seconds = poll_seconds
        self.claim = claim
        self.running: dict[int, Running] = {}
        self._wake = asyncio.Event()
        self._stopping = False

    async def run(self) -> None:
        """Claim and watch until ``stop()``; then stop the running syncs and give their jobs back."""
        try:
            while not self._stopping:
                try:
                    self.tick()
                except Exception as err:  # a database outage or hiccup: the next tick tries again
                    log_failure(log, "the runner's tick failed", err)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
        finally:
            await self._stop_all()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def tick(self) -> None:
        self._watch()
        self._claim_due()

    # --- claiming -------------------------------------------------------------------------------

    def _claim_due(self) -> None:
        free = self.concurrency - len(self.running)
        if free <= 0 or self._stopping:
            return
        now = self.runtime.clock.now()
        with self.runtime.sessions() as session:
            candidates = queue.due_job_ids(session, now, free * 2, skip_domains=BUSY_HERE.busy())
        for job_id in candidates:
            if len(self.running) >= self.concurrency:
                return
            with self.runtime.sessions.begin() as session:
                job = queue.claim_job(session, job_id, self.worker, now, now + self.claim)
                if job is not None and not BUSY_HERE.take(job.domain_id):
                    queue.requeue(session, job_id, self.worker, now + BUSY_RETRY)
                    job = None
            if job is not None:
                self._start(job)

    def _start(self, job: Job) -> None:
        entry = Running(job.id, job.domain_id)
        if job.cancel_requested:  # taken over from a dead runner after a cancel was asked for
            self._settle(entry, "cancelled")
            BUSY_HERE.release(job.domain_id)
            return
        self.running[job.id] = entry
        entry.task = asyncio.create_task(self._execute(entry, job.full), name=f"sync-job-{job.id}")

    async def _execute(self, entry: Running, full: bool) -> None:
        try:
            run = await sync_domain(self.runtime, entry.domain_id, full=full)
            self._settle(entry, "cancelled" if run.status == "cancelled" else "done", run.id)
        except AlreadyRunning:
            with self.runtime.sessions.begin() as session:
                queue.requeue(session, entry.job_id, self.worker, self.runtime.clock.now() + BUSY_RETRY)
        except asyncio.CancelledError:
            self._after_stop(entry)
            raise
        except DomainError as err:  # deleted, or no credentials left
            log.warning("sync job %s: %s", entry.job_id, err)
            self._settle(entry, "done")
        except Exception as err:
            if database_unavailable(err):
                self._after_outage(entry, err)
                return
            if self._domain_exists(entry.domain_id):
                log.exception("sync job %s failed", entry.job_id)
            else:  # deleted under the run, before the watch noticed: its job went with it
                log.info("sync job %s stopped: its domain was deleted", entry.job_id)
            self._settle(entry, "done")
        finally:
            self.running.pop(entry.job_id, None)
            BUSY_HERE.release(entry.domain_id)
            self._wake.set()

    def _after_outage(self, entry: Running, err: Exception) -> None:
        log_failure(log, f"sync job {entry.job_id} stopped; it runs again when the database is back", err)
        # while the database is still away the claim lapses instead, and the job is due again
        with contextlib.suppress(DBAPIError), self.runtime.sessions.begin() as session:
            queue.requeue(session, entry.job_id, self.worker, self.runtime.clock.now())

    def _domain_exists(self, domain_id: int) -> bool:
        with self.runtime.sessions() as session:
            return session.get(Domain, domain_id) is not None

    def _after_stop(self, entry: Running) -> None:
        if entry.stop_reason in (None, SHUTDOWN):  # the process is stopping: resume on the next start
            with self.runtime.sessions.begin() as session:
                queue.requeue(session, entry.job_id, self.worker, self.runtime.clock.now())
        else:  # cancelled on request; a deleted domain's job is gone, another runner's is not ours
            self._settle(entry, "cancelled")

    @retried_on_disconnect
    def _settle(self, entry: Running, status: str, run_id: int | None = None) -> None:
        with self.runtime.sessions.begin() as session:
            if run_id is None and status == "cancelled":
                run = last_run(session, entry.domain_id)
                run_id = run.id if run is not None and run.status == "cancelled" else None
            now = self.runtime.clock.now()
            queue.finish_job(session, entry.job_id, self.worker, status, run_id, now)

    # --- watching -------------------------------------------------------------------------------

    def _watch(self) -> None:
        """Renew our claims, and stop the runs whose job was cancelled, deleted or taken over."""
        if not self.running:
            return
        now = self.runtime.clock.now()
        with self.runtime.sessions.begin() as session:
            rows = session.execute(
                select(Job.id, Job.claimed_by, Job.claimed_until, Job.cancel_requested).where(
                    Job.id.in_(list(self.running))
                )
            )
            jobs = {row.id: row for row in rows}
            # renewed when half the claim is left: a write every half claim, not every second
            renew_before = now + self.claim / 2
            expiring = [j.id for j in jobs.values() if j.claimed_until and j.claimed_until < renew_before]
            if expiring:
                queue.renew_claims(session, expiring, self.worker, now + self.claim)
        for job_id, entry in list(self.running.items()):
            job = jobs.get(job_id)
            if job is None:
                entry.stop(Outcome(Code.DOMAIN_DELETED))
            elif job.claimed_by != self.worker:
                entry.stop(Outcome(Code.TAKEN_OVER))
            elif job.cancel_requested:
                entry.stop(Outcome(Code.CANCELLED_ON_REQUEST))

    async def _stop_all(self) -> None:
        entries = list(self.running.values())
        for entry in entries:
            entry.stop(SHUTDOWN)
        await asyncio.gather(*(e.task for e in entries if e.task is not None), return_exceptions=True)
