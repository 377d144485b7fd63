"""The background runner and the scheduler, against the simulator over real HTTP, on SQLite and
PostgreSQL: jobs are claimed once, survive their runner's death, stop when cancelled or when their
domain is deleted; periodic and deferred syncs are queued when due and never twice (SY-03)."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from appgov.accounts.principal import cli_user
from appgov.config import Settings
from appgov.connectors.retry import RetryPolicy
from appgov.jobs import lifecycle
from appgov.jobs.queue import SYNC, cancel_jobs, enqueue, enqueue_sync, sync_payload, sync_run_id
from appgov.runtime import Runtime
from appgov.storage.models import DatasetState, Domain, Job, Record, SyncRun
from appgov.workers.runner import Runner
from appgov.workers.scheduler import Scheduler
from appgov_sim.tenant.generate import natural_digest
from support.clock import FakeClock
from support.jobs import job, job_status, queue_sync, run_until, run_worker_killed_at, wait_for
from support.product import connect, revoke_api_tokens, runtime_for, sync
from support.simulator import Simulator

USERS = "/rest/api/3/users/search"
FAST = RetryPolicy(max_attempts=6, base_delay=0.05, max_delay=0.2, defer_after=30)


def runs(runtime: Runtime, domain_id: int) -> list[SyncRun]:
    with runtime.sessions() as session:
        query = select(SyncRun).where(SyncRun.domain_id == domain_id).order_by(SyncRun.id)
        return list(session.scalars(query))


def user_keys(runtime: Runtime, domain_id: int) -> list[str]:
    with runtime.sessions() as session:
        query = select(Record.key).where(
            Record.domain_id == domain_id, Record.dataset == "jira.users", Record.removed_at.is_(None)
        )
        return list(session.scalars(query))


def users_checkpoint(runtime: Runtime, domain_id: int) -> dict[str, object] | None:
    with runtime.sessions() as session:
        state = session.get(DatasetState, (domain_id, "jira.users"))
        return state.checkpoint if state else None


def slow_users(sim: Simulator) -> None:
    """Users come 5 to a page, 2 s a page: a sync slow enough to be stopped mid-pass, with a
    checkpoint committed after the first page."""
    sim.fault("short_page", site="acme", path=USERS, params={"size": 5})
    sim.fault("latency", site="acme", path=USERS, params={"ms": 2000})


def sync_queued(sim: Simulator, tmp_path: Path, database_url: str) -> tuple[Runtime, Domain, int]:
    """acme connected, and a sync of it queued (the job's id)."""
    runtime = runtime_for(sim, tmp_path, database_url)
    domain = connect(runtime, sim)
    return runtime, domain, queue_sync(runtime, domain.id)


def assert_users_are_the_ground_truth(runtime: Runtime, sim: Simulator, domain_id: int) -> None:
    truth = sim.ground_truth()["sites"]["acme"]["products"]["jira"]
    assert natural_digest(user_keys(runtime, domain_id)) == truth["users"]["digest"]


# --- the runner -------------------------------------------------------------------------------


def test_a_queued_job_is_claimed_run_and_marked_done_with_its_run(
    sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime, domain, job_id = sync_queued(sim, tmp_path, database_url)
    runner = Runner(runtime)

    asyncio.run(run_until([runner], lambda: job_status(runtime, job_id) == "done"))

    done = job(runtime, job_id)
    [run] = runs(runtime, domain.id)
    assert (sync_run_id(done), done.claimed_by, run.status) == (run.id, runner.worker, "success")
    assert_users_are_the_ground_truth(runtime, sim, domain.id)


def test_two_runners_never_run_the_same_job(sim: Simulator, tmp_path: Path, database_url: str) -> None:
    runtime = runtime_for(sim, tmp_path, database_url)
    domains = [connect(runtime, sim, site) for site in ("acme", "acme-eng", "acme-wiki")]
    jobs = [queue_sync(runtime, domain.id) for domain in domains]
    first, second = Runner(runtime), Runner(runtime)

    def all_done() -> bool:
        return all(job_status(runtime, job_id) == "done" for job_id in jobs)

    asyncio.run(run_until([first, second], all_done))

    for domain, job_id in zip(domains, jobs, strict=True):
        [run] = runs(runtime, domain.id)  # one run per job: no job ran twice
        finished = job(runtime, job_id)
        assert (sync_run_id(finished), run.status) == (run.id, "success")
        assert finished.claimed_by in (first.worker, second.worker)


def test_two_jobs_of_one_domain_in_one_process_never_sync_it_at_once_the_second_waits_its_turn(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime, domain, first = sync_queued(fresh_sim, tmp_path, database_url)
    slow_users(fresh_sim)
    with (
        runtime.sessions.begin() as session
    ):  # enqueue_sync keeps one active job per domain: a row on purpose
        payload = sync_payload()
        second = enqueue(
            session, SYNC, cli_user("t"), runtime.clock.now(), domain_id=domain.id, payload=payload
        ).id
    runners = [
        Runner(runtime, concurrency=1),
        Runner(runtime, concurrency=1),
    ]  # one process, as BUSY_HERE was

    def one_given_back() -> bool:
        """one of the two jobs was given back for later"""
        return any(
            job(runtime, j).status == "queued" and job(runtime, j).run_at > runtime.clock.now()
            for j in (first, second)
        )

    asyncio.run(run_until(runners, one_given_back))

    waiting = next(j for j in (first, second) if job(runtime, j).status == "queued")
    ran = first if waiting == second else second
    assert job(runtime, waiting).claimed_by is None  # given back, due again later (BUSY_RETRY)
    assert job(runtime, ran).status == "queued"  # the runners stopped: given back to resume
    [run] = runs(runtime, domain.id)  # one run: the domain's lease kept the other job out
    assert run.status == "cancelled"


def test_of_two_racing_claimants_exactly_one_gets_each_job(tmp_path: Path, database_url: str) -> None:
    runtime = Runtime.start(Settings(data_dir=tmp_path, database_url=database_url))
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        domain = Domain(site_url="https://race.atlassian.net", name="race", products=["jira"], created_at=now,
                        created_by="tester", created_via="cli")  # fmt: skip
        session.add(domain)
        session.flush()
        ids = [enqueue_sync(session, domain.id, cli_user("tester"), now)[0].id]
        for _ in range(19):  # enqueue_sync keeps one active job per domain: these are rows on purpose
            extra = Job(
                domain_id=domain.id,
                status="queued",
                run_at=now,
                created_at=now,
                requested_by="t",
                requested_via="cli",
            )
            session.add(extra)
            session.flush()
            ids.append(extra.id)
    won: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def claimant(name: str) -> None:
        start.wait()
        for job_id in ids:
            if lifecycle.claim(runtime.sessions, job_id, name, now, now + timedelta(minutes=1)) is not None:
                won[name].append(job_id)

    threads = [threading.Thread(target=claimant, args=(name,)) for name in won]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(won["a"] + won["b"]) == sorted(ids)  # every job once, none twice


def test_a_job_whose_runner_died_is_taken_again_and_resumes_the_same_run(
    sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime, domain, job_id = sync_queued(sim, tmp_path, database_url)

    killed = run_worker_killed_at(sim, runtime, "after_page_commit:3", claim=timedelta(seconds=2))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert job_status(runtime, job_id) == "running"
    [interrupted] = runs(runtime, domain.id)
    assert interrupted.status == "running"

    runner = Runner(runtime)
    asyncio.run(run_until([runner], lambda: job_status(runtime, job_id) == "done"))

    taken = job(runtime, job_id)
    assert taken.claimed_by == runner.worker
    [run] = runs(runtime, domain.id)  # the same run, resumed from its checkpoints
    assert (run.id, run.status, sync_run_id(taken)) == (interrupted.id, "success", interrupted.id)
    assert_users_are_the_ground_truth(runtime, sim, domain.id)


def test_cancel_stops_a_running_sync_which_ends_cancelled_with_its_checkpoint_and_a_later_sync_resumes(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime, domain, job_id = sync_queued(fresh_sim, tmp_path, database_url)
    slow_users(fresh_sim)
    runner = Runner(runtime)

    async def cancel_mid_pass() -> None:
        task = asyncio.create_task(runner.run())
        try:
            await wait_for(lambda: users_checkpoint(runtime, domain.id) is not None)
            with runtime.sessions.begin() as session:
                assert cancel_jobs(session, domain.id, runtime.clock.now()) == 1
            asked = asyncio.get_running_loop().time()
            await wait_for(lambda: job_status(runtime, job_id) == "cancelled", timeout=10)
            assert asyncio.get_running_loop().time() - asked < 5  # noticed within about a second
        finally:
            runner.stop()
            await task

    asyncio.run(cancel_mid_pass())

    [run] = runs(runtime, domain.id)
    assert (run.status, run.message) == ("cancelled", "cancelled on request")
    checkpoint = users_checkpoint(runtime, domain.id)
    assert checkpoint is not None  # kept for the next sync
    with runtime.sessions() as session:
        assert session.get_one(Domain, domain.id).lease_owner is None
    assert sync_run_id(job(runtime, job_id)) == run.id

    fresh_sim.control("DELETE", "/faults")
    fresh_sim.control("DELETE", "/log")
    again = queue_sync(runtime, domain.id)
    asyncio.run(run_until([Runner(runtime)], lambda: job_status(runtime, again) == "done"))

    assert [r.status for r in runs(runtime, domain.id)] == ["cancelled", "success"]
    users_pages = [e for e in fresh_sim.control("GET", "/log").json() if e["path"].endswith(USERS)]
    assert "startAt=0" not in users_pages[0]["query"]  # resumed past the pages already in
    assert_users_are_the_ground_truth(runtime, fresh_sim, domain.id)


def test_deleting_a_domain_while_its_job_runs_stops_the_run_and_the_runner_carries_on(
    fresh_sim: Simulator, tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = runtime_for(fresh_sim, tmp_path, database_url)
    doomed = connect(runtime, fresh_sim)
    other = connect(runtime, fresh_sim, "acme-eng")
    slow_users(fresh_sim)
    queue_sync(runtime, doomed.id)
    runner = Runner(runtime, concurrency=1)

    async def delete_mid_run() -> None:
        task = asyncio.create_task(runner.run())
        try:
            await wait_for(lambda: users_checkpoint(runtime, doomed.id) is not None)
            with runtime.sessions.begin() as session:
                session.execute(delete(Domain).where(Domain.id == doomed.id))
            await wait_for(lambda: not runner.running, timeout=10)
            other_job = queue_sync(runtime, other.id)
            await wait_for(lambda: job_status(runtime, other_job) == "done")
        finally:
            runner.stop()
            await task

    with caplog.at_level(logging.WARNING, logger="appgov"):
        asyncio.run(delete_mid_run())

    with runtime.sessions() as session:  # its job went with it (SQLite may reuse the id: ask by domain)
        assert session.scalars(select(Job).where(Job.domain_id == doomed.id)).all() == []
    assert [r.status for r in runs(runtime, other.id)] == ["success"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_stopping_the_runner_gives_its_running_job_back_for_the_next_start(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime, domain, job_id = sync_queued(fresh_sim, tmp_path, database_url)
    slow_users(fresh_sim)

    asyncio.run(run_until([Runner(runtime)], lambda: users_checkpoint(runtime, domain.id) is not None))

    requeued = job(runtime, job_id)
    assert (requeued.status, requeued.claimed_by) == ("queued", None)
    fresh_sim.control("DELETE", "/faults")
    asyncio.run(run_until([Runner(runtime)], lambda: job_status(runtime, job_id) == "done"))
    assert [r.status for r in runs(runtime, domain.id)][-1] == "success"


# --- the scheduler ----------------------------------------------------------------------------


def scheduled(runtime: Runtime, interval: int = 60, jitter: int = 10) -> tuple[Scheduler, FakeClock]:
    runtime.settings = replace(runtime.settings, sync_interval_minutes=interval, sync_jitter_minutes=jitter)
    clock = FakeClock(datetime.now(UTC))
    runtime.clock = clock
    return Scheduler(runtime, random.Random(7)), clock


def finish_queued(runtime: Runtime) -> None:
    """Close every queued job as a runner would (claim, then done)."""
    now = runtime.clock.now()
    with runtime.sessions() as session:
        queued = session.scalars(select(Job.id).where(Job.status == "queued")).all()
    for job_id in queued:
        lifecycle.claim(runtime.sessions, job_id, "test-runner", now, now + timedelta(minutes=1))
        lifecycle.settle(runtime.sessions, job_id, "test-runner", "done", now)


def next_sync(runtime: Runtime, domain_id: int) -> datetime:
    with runtime.sessions() as session:
        moment = session.get_one(Domain, domain_id).next_sync_at
    assert moment is not None
    return moment


def job_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def test_domains_are_queued_every_interval_plus_jitter_and_never_twice(
    sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(sim, tmp_path, database_url)
    domains = [connect(runtime, sim, site) for site in ("acme", "acme-eng")]
    scheduler, clock = scheduled(runtime)

    first = scheduler.tick()  # never synced nor queued (added from the command line): at once
    assert sorted(j.domain_id for j in first) == sorted(d.id for d in domains)
    assert scheduler.tick() == []  # queued already: nothing more
    finish_queued(runtime)
    finished_at = clock.now()

    assert scheduler.tick() == []
    times = [next_sync(runtime, d.id) for d in domains]
    for moment in times:
        assert finished_at + timedelta(minutes=60) <= moment <= finished_at + timedelta(minutes=70)
    assert times[0] != times[1]  # the jitter spreads domains apart

    clock.moment = min(times) - timedelta(seconds=1)
    assert scheduler.tick() == []
    clock.moment = max(times)
    assert sorted(j.domain_id for j in scheduler.tick()) == sorted(d.id for d in domains)
    assert scheduler.tick() == []
    assert job_count(runtime) == 4
    for domain in domains:
        assert clock.now() + timedelta(minutes=60) <= next_sync(runtime, domain.id)


def test_a_deferred_run_is_queued_at_its_resume_time_once_unless_cancelled(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(fresh_sim, tmp_path, database_url)
    domain = connect(runtime, fresh_sim)
    fresh_sim.fault("rate_limit", site="acme", path="/rest/api/3/project/search", times=1,
                    params={"retry_after": 3600})  # fmt: skip
    deferred = sync(runtime, domain, policy=FAST)
    assert deferred.status == "deferred"
    assert deferred.resume_at is not None
    scheduler, clock = scheduled(runtime)

    [resume] = scheduler.tick()
    assert (resume.run_at, resume.requested_by) == (deferred.resume_at, "scheduler")
    assert scheduler.tick() == []
    runner = Runner(runtime)
    runner.tick()
    assert not runner.running  # not before its time

    with runtime.sessions.begin() as session:
        cancel_jobs(session, domain.id, clock.now())
    assert scheduler.tick() == []  # cancelled: the next periodic sync resumes it instead
    clock.moment = next_sync(runtime, domain.id)
    [periodic] = scheduler.tick()
    assert periodic.run_at == clock.now()


def test_a_domain_whose_credentials_are_rejected_is_retried_at_the_interval_not_at_once(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(fresh_sim, tmp_path, database_url)
    domain = connect(runtime, fresh_sim)
    revoke_api_tokens(fresh_sim)
    failed = sync(runtime, domain, policy=FAST)
    assert failed.status == "failed"
    scheduler, clock = scheduled(runtime)

    for _ in range(5):
        assert scheduler.tick() == []
        clock.advance(minutes=10)
    assert clock.now() < next_sync(runtime, domain.id)
    clock.moment = next_sync(runtime, domain.id)
    assert len(scheduler.tick()) == 1
