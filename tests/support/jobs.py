"""Drive the background runner in tests: run runners until a condition holds (polled, with a
deadline), and a runner in a process of its own that a fault point kills mid-sync."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta

from appgov.jobs.queue import enqueue_sync
from appgov.runtime import Runtime
from appgov.storage.models import Job
from appgov.workers.runner import Runner
from support.product import principal_for
from support.simulator import Simulator

DEADLINE = 90.0


async def run_until(runners: list[Runner], condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    """Run the runners until ``condition()`` holds; fail after ``timeout`` seconds."""
    tasks = [asyncio.create_task(runner.run()) for runner in runners]
    try:
        await wait_for(condition, timeout)
    finally:
        for runner in runners:
            runner.stop()
        await asyncio.gather(*tasks)


async def wait_for(condition: Callable[[], bool], timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout:.0f}s: {condition.__doc__ or condition}")
        await asyncio.sleep(0.1)  # polling a condition, not timing a result


def queue_sync(runtime: Runtime, domain_id: int, who: str = "tester") -> int:
    principal = principal_for(runtime, who)
    with runtime.sessions.begin() as session:
        return enqueue_sync(session, domain_id, principal, runtime.clock.now())[0].id


def job(runtime: Runtime, job_id: int) -> Job:
    with runtime.sessions() as session:
        return session.get_one(Job, job_id)


def job_status(runtime: Runtime, job_id: int) -> str | None:
    """The job's status; None once it is gone (with its domain)."""
    with runtime.sessions() as session:
        found = session.get(Job, job_id)
        return found.status if found else None


# a runner alone in its process, with a short claim so that its death shows soon
WORKER = """
import asyncio, datetime
from appgov.workers.runner import Runner
from appgov.runtime import Runtime
asyncio.run(Runner(Runtime.start(), claim=datetime.timedelta(seconds={claim})).run())
"""


def run_worker_killed_at(
    sim: Simulator, runtime: Runtime, fault: str, claim: timedelta
) -> subprocess.CompletedProcess[str]:
    """A runner process on the same database that SIGKILLs itself at the fault point."""
    settings = runtime.settings
    env = {
        **os.environ,
        "APPGOV_DATA_DIR": str(settings.data_dir),
        "APPGOV_DATABASE_URL": settings.database_url,
        "APPGOV_ALLOWED_HOSTS": ",".join(settings.allowed_hosts),
        "APPGOV_MARKETPLACE_URL": settings.atlassian.marketplace_url,
        "APPGOV_CA_BUNDLE": settings.ca_bundle or "",
        "APPGOV_FAULT_POINT": fault,
    }
    code = WORKER.format(claim=claim.total_seconds())
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
