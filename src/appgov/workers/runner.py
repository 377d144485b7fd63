"""The in-process runner: claims due jobs of the kinds its registry knows, runs each as an asyncio
task through its kind's handler (``workers.registry``), and watches them. Every step is a function of
``jobs.lifecycle``, which a Celery worker can call the same way.

- **Claims** are conditional UPDATEs (``lifecycle.claim``): two runners, in one process or many,
  never run the same job. A claim is renewed while the job runs; when its process dies the claim
  lapses and another runner takes the job again (a sync resumes its run from its checkpoints).
- **What a job works on** is guarded by the job itself, not by the process: a sync holds its
  domain's lease as its job (``workers.sync_job``); a job whose domain another run holds is given back
  and claimed again a little later (``Later``).
- **Cancel**: about once a second the runner reads its jobs back; a job asked to stop
  (``cancel_requested``), whose row disappeared (the domain was deleted) or whose claim another
  runner took has its task cancelled, and a sync ends its run *cancelled* with its checkpoints.
- **Stop** (the process shutting down): running jobs are cancelled and queued again, so the next
  start resumes them.
- **Database outages** (SY-10): a tick that fails is tried again a second later; a job that the
  database left (``DatabaseUnavailable``) is given back, or, while the database is still away, its
  claim lapses: either way it runs again (a sync resumes from its checkpoints).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError

from appgov.jobs import lifecycle
from appgov.jobs.kinds import ClaimedJob, JobEnd, Later
from appgov.outcomes import Code, Outcome
from appgov.runtime import Runtime, worker_id
from appgov.storage.db import database_unavailable, log_failure
from appgov.workers.registry import KINDS, Registry

log = logging.getLogger(__name__)
CLAIM = timedelta(seconds=60)  # a dead runner's jobs are taken again after this
POLL_SECONDS = 1.0  # how soon a cancel, a deletion or a new due job is noticed
SHUTDOWN = Outcome(Code.SHUTDOWN)


@dataclass
class Running:
    job: ClaimedJob
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
        kinds: Registry = KINDS,
    ) -> None:
        self.runtime = runtime
        self.worker = worker or f"{worker_id()}:{uuid.uuid4().hex[:8]}"
        self.concurrency = concurrency or runtime.settings.runner_concurrency
        self.poll_seconds = poll_seconds
        self.claim = claim
        self.kinds = kinds
        self.running: dict[int, Running] = {}
        self._wake = asyncio.Event()
        self._stopping = False

    async def run(self) -> None:
        """Claim and watch until ``stop()``; then stop the running jobs and give them back."""
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
        sessions, now = self.runtime.sessions, self.runtime.clock.now()
        for job_id in lifecycle.due_jobs(sessions, now, self.kinds.names(), free * 2):
            if len(self.running) >= self.concurrency:
                return
            job = lifecycle.claim(sessions, job_id, self.worker, now, now + self.claim)
            if job is not None:
                entry = self.running[job.id] = Running(job)
                entry.task = asyncio.create_task(self._execute(entry), name=f"{job.kind}-job-{job.id}")

    async def _execute(self, entry: Running) -> None:
        job = entry.job
        try:
            if job.cancel_requested:  # taken over from a dead runner after a cancel was asked for
                await self._settle_cancelled(job)
                return
            end = await self.kinds[job.kind].handler(self.runtime, job)
            await self._settle(job, end)
        except Later as later:
            log.info("%s job %s runs later: %s", job.kind, job.id, later)
            self._give_back(job, self.runtime.clock.now() + later.wait)
        except asyncio.CancelledError:
            await self._after_stop(entry)
            raise
        except Exception as err:
            if database_unavailable(err):
                log_failure(
                    log, f"{job.kind} job {job.id} stopped; it runs again when the database is back", err
                )
                with contextlib.suppress(DBAPIError):  # still away: the claim lapses and it is due again
                    self._give_back(job, self.runtime.clock.now())
                return
            if lifecycle.exists(self.runtime.sessions, job.id):
                log.exception("%s job %s failed", job.kind, job.id)
            else:  # deleted under the run (with its domain), before the watch noticed
                log.info("%s job %s stopped: it was deleted", job.kind, job.id)
            await self._settle(job, JobEnd("done"))
        finally:
            self.running.pop(job.id, None)
            self._wake.set()

    def _give_back(self, job: ClaimedJob, run_at: datetime) -> None:
        lifecycle.give_back(self.runtime.sessions, job.id, self.worker, run_at)

    async def _after_stop(self, entry: Running) -> None:
        if entry.stop_reason in (None, SHUTDOWN):  # the process is stopping: resume on the next start
            self._give_back(entry.job, self.runtime.clock.now())
        else:  # cancelled on request; a deleted job is gone, another runner's is not ours
            await self._settle_cancelled(entry.job)

    async def _settle_cancelled(self, job: ClaimedJob) -> None:
        result_of = self.kinds[job.kind].cancelled_result
        result = None
        if result_of is not None:
            with self.runtime.sessions() as session:
                result = result_of(session, job)
        await self._settle(job, JobEnd("cancelled", result))

    async def _settle(self, job: ClaimedJob, end: JobEnd) -> None:
        """Settled in a thread: ``lifecycle.settle`` waits out a database outage, never on the loop."""
        await asyncio.to_thread(
            lifecycle.settle, self.runtime.sessions, job.id, self.worker, end.status,
            self.runtime.clock.now(), end.result,
        )  # fmt: skip

    # --- watching -------------------------------------------------------------------------------

    def _watch(self) -> None:
        """Renew our claims, and stop the jobs that were cancelled, deleted or taken over."""
        if not self.running:
            return
        now = self.runtime.clock.now()
        jobs = lifecycle.renew(self.runtime.sessions, list(self.running), self.worker, now, self.claim)
        for job_id, entry in list(self.running.items()):
            job = jobs.get(job_id)
            if job is None:
                entry.stop(Outcome(Code.DOMAIN_DELETED))
            elif not job.ours:
                entry.stop(Outcome(Code.TAKEN_OVER))
            elif job.cancel_requested:
                entry.stop(Outcome(Code.CANCELLED_ON_REQUEST))

    async def _stop_all(self) -> None:
        entries = list(self.running.values())
        for entry in entries:
            entry.stop(SHUTDOWN)
        await asyncio.gather(*(e.task for e in entries if e.task is not None), return_exceptions=True)
