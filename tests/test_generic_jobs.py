"""Jobs of any kind: a kind registered with a handler, without a domain, runs through the same
functions as a sync (claim, renew, settle, cancel), on SQLite and PostgreSQL; and an outage retry
in a coroutine waits without holding up the event loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from appgov.accounts.principal import cli_user
from appgov.config import Settings
from appgov.jobs import lifecycle
from appgov.jobs.kinds import ClaimedJob, JobEnd, JobKind
from appgov.jobs.queue import enqueue
from appgov.runtime import Runtime
from appgov.storage.db import retried_on_disconnect
from appgov.workers.registry import KINDS, Registry
from appgov.workers.runner import Runner
from support.jobs import job, job_status, run_until, wait_for

ECHO, WAIT = "echo", "wait"


async def echo(runtime: Runtime, claimed: ClaimedJob) -> JobEnd:
    """A kind of job with no domain: it hands its payload back as its result."""
    return JobEnd("done", {"echoed": claimed.payload})


async def wait_forever(runtime: Runtime, claimed: ClaimedJob) -> JobEnd:
    await asyncio.Event().wait()  # until cancelled
    raise AssertionError("never set")


def stopped(session: Session, claimed: ClaimedJob) -> dict[str, Any]:
    return {"stopped": claimed.payload["n"]}


TEST_KINDS = Registry([*KINDS, JobKind(ECHO, echo), JobKind(WAIT, wait_forever, cancelled_result=stopped)])


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Runtime:
    return Runtime.start(Settings(data_dir=tmp_path, database_url=database_url))


def queue(runtime: Runtime, kind: str, payload: dict[str, Any]) -> int:
    with runtime.sessions.begin() as session:
        return enqueue(session, kind, cli_user("tester"), runtime.clock.now(), payload=payload).id


def test_a_job_of_a_kind_without_a_domain_is_run_by_the_runner_and_keeps_its_result(runtime: Runtime) -> None:
    job_id = queue(runtime, ECHO, {"n": 7})
    runner = Runner(runtime, kinds=TEST_KINDS)

    asyncio.run(run_until([runner], lambda: job_status(runtime, job_id) == "done"))

    done = job(runtime, job_id)
    assert (done.domain_id, done.result, done.claimed_by) == (None, {"echoed": {"n": 7}}, runner.worker)


def test_the_runner_stops_a_cancelled_job_without_a_domain_and_settles_it_cancelled(runtime: Runtime) -> None:
    job_id = queue(runtime, WAIT, {"n": 3})
    runner = Runner(runtime, kinds=TEST_KINDS)

    async def cancel_while_running() -> None:
        task = asyncio.create_task(runner.run())
        try:
            await wait_for(lambda: job_id in runner.running)
            assert lifecycle.cancel(runtime.sessions, job_id, runtime.clock.now())
            await wait_for(lambda: job_status(runtime, job_id) == "cancelled")
        finally:
            runner.stop()
            await task

    asyncio.run(cancel_while_running())

    assert job(runtime, job_id).result == {"stopped": 3}  # the kind's own account of the cancel


def test_claim_renew_cancel_and_settle_take_only_a_session_factory_and_ids(runtime: Runtime) -> None:
    job_id = queue(runtime, WAIT, {"n": 1})
    sessions, now, claim = runtime.sessions, runtime.clock.now(), timedelta(minutes=1)
    assert lifecycle.due_jobs(sessions, now, [WAIT], 10) == [job_id]
    assert lifecycle.due_jobs(sessions, now, [ECHO], 10) == []  # a claimant takes only kinds it knows

    claimed = lifecycle.claim(sessions, job_id, "a", now, now + claim / 4)
    assert claimed is not None
    assert (claimed.kind, claimed.domain_id, claimed.payload) == (WAIT, None, {"n": 1})
    assert lifecycle.claim(sessions, job_id, "b", now, now + claim) is None  # one claimant wins

    assert lifecycle.renew(sessions, [job_id], "a", now, claim) == {job_id: lifecycle.Watched(True, False)}
    assert job(runtime, job_id).claimed_until == now + claim  # less than half was left: renewed

    assert lifecycle.cancel(sessions, job_id, now)
    assert lifecycle.renew(sessions, [job_id], "a", now, claim) == {job_id: lifecycle.Watched(True, True)}

    lifecycle.settle(sessions, job_id, "b", "done", now)  # not b's: left alone
    assert job_status(runtime, job_id) == "running"
    lifecycle.settle(sessions, job_id, "a", "cancelled", now, {"stopped": 1})
    settled = job(runtime, job_id)
    assert (settled.status, settled.result, settled.finished_at) == ("cancelled", {"stopped": 1}, now)
    assert not lifecycle.cancel(sessions, job_id, now)  # it had ended


def test_a_lapsed_claim_is_taken_over_and_its_first_claimant_learns_it_on_renewing(runtime: Runtime) -> None:
    job_id = queue(runtime, ECHO, {})
    sessions, now, claim = runtime.sessions, runtime.clock.now(), timedelta(minutes=1)
    assert lifecycle.claim(sessions, job_id, "a", now, now + claim) is not None

    later = now + 2 * claim  # a's process died: its claim lapsed
    assert lifecycle.claim(sessions, job_id, "b", later, later + claim) is not None

    assert lifecycle.renew(sessions, [job_id], "a", later, claim) == {job_id: lifecycle.Watched(False, False)}
    lifecycle.give_back(sessions, job_id, "a", later)  # not a's any more: nothing happens
    assert job(runtime, job_id).claimed_by == "b"


def test_an_outage_retry_in_a_coroutine_lets_the_event_loop_run_while_it_waits() -> None:
    attempts: list[bool] = []

    async def main() -> None:
        other_ran = asyncio.Event()

        @retried_on_disconnect
        async def transaction() -> str:
            attempts.append(other_ran.is_set())
            if len(attempts) < 3:
                raise DBAPIError("COMMIT", None, psycopg.OperationalError("the server closed the connection"))
            return "committed"

        async def other() -> None:
            other_ran.set()

        work, other_task = asyncio.create_task(transaction()), asyncio.create_task(other())
        assert await work == "committed"
        await other_task

    asyncio.run(main())

    # the first attempt ran before the other task; the later ones after it had run, in the waits
    assert attempts == [False, True, True]
