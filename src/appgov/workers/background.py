"""The background work of ``appgov serve``, in its own thread and event loop (a sync's database
writes never hold up the console's requests): the runner, the scheduler with the "domain is ready"
repair sweep, and the mail sender. ``lifespan`` starts it with the web app and stops it with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from appgov.notify import events
from appgov.notify.mailer import MailSender
from appgov.runtime import Runtime
from appgov.storage.db import log_failure
from appgov.workers.grant_upkeep import grant_upkeep
from appgov.workers.org_sync_job import plan_org_syncs
from appgov.workers.runner import Runner
from appgov.workers.scheduler import Scheduler
from appgov.workers.token_expiry import warn_api_token_expiry

log = logging.getLogger(__name__)
SCHEDULE_SECONDS = 30.0  # how often due periodic and deferred syncs are queued
MAIL_SECONDS = 5.0  # how often the outbox is looked at
STOP_SECONDS = 60.0  # how long stopping waits for running syncs to record where they are


class BackgroundWork:
    def __init__(
        self,
        runtime: Runtime,
        *,
        schedule_seconds: float = SCHEDULE_SECONDS,
        mail_seconds: float = MAIL_SECONDS,
    ) -> None:
        self.runtime = runtime
        self.schedule_seconds = schedule_seconds
        self.mail_seconds = mail_seconds
        self.scheduler = Scheduler(runtime)
        self.mailer = MailSender(runtime)
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: Runner | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="appgov-background", daemon=True)
        self._thread.start()
        self._started.wait()

    def stop(self) -> None:
        """Stop claiming, cancel running syncs (their jobs are queued again) and wait for the thread."""
        if self._loop is not None and self._runner is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._runner.stop)
        if self._thread is not None:
            self._thread.join(STOP_SECONDS)

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        finally:
            self._started.set()  # never leave start() waiting, even if the loop could not start

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._runner = Runner(self.runtime)
        self._started.set()
        loops = [
            asyncio.create_task(self._every(self.schedule_seconds, self._schedule)),
            asyncio.create_task(self._every(self.mail_seconds, self.mailer.send_due)),
        ]
        try:
            await self._runner.run()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def _schedule(self) -> None:
        events.repair_ready(self.runtime)  # a crash between a run's commit and its ready transaction
        self.scheduler.tick()
        plan_org_syncs(self.runtime)  # connected organizations read at the same cadence
        await grant_upkeep(self.runtime)  # idle grants refreshed, ending consents announced
        warn_api_token_expiry(self.runtime)  # expiring API tokens announced

    async def _every(self, seconds: float, step: Callable[[], Awaitable[object]]) -> None:
        while True:
            try:
                await step()
            except Exception as err:  # a database outage must not end the loop: try again next time
                log_failure(log, f"background step {getattr(step, '__name__', step)} failed", err)
            await asyncio.sleep(seconds)


def lifespan(runtime: Runtime) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan running the background work while the app serves."""

    @asynccontextmanager
    async def running(_app: Any) -> AsyncIterator[None]:
        work = BackgroundWork(runtime)
        work.start()
        try:
            yield
        finally:
            await asyncio.to_thread(work.stop)

    return running
