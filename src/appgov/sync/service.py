"""Sync one domain now: the one way the CLI, the background runner and the tests run a sync. It
finds the domain's connector, builds the domain's clients with it, runs the engine, closes
everything, and then tells people what the run means (notify.events)."""

from __future__ import annotations

from appgov.connectors import registry
from appgov.connectors.base import DomainError
from appgov.connectors.retry import RetryPolicy
from appgov.integrations.credentials import expired_credential
from appgov.notify import events
from appgov.runtime import Runtime
from appgov.storage.models import Domain, SyncRun
from appgov.sync.engine import Progress, SyncEngine
from appgov.sync.faults import fault_point


async def sync_domain(
    runtime: Runtime,
    domain_id: int,
    *,
    full: bool = False,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
    owner: str | None = None,
) -> SyncRun:
    """Run (or resume) the domain's sync, holding the domain's lease as ``owner`` (by default this
    process; a job's run holds it as that job). Raises ``AlreadyRunning`` when another run holds the
    domain, ``DomainError`` when the domain is gone or has no credentials, or one of them has expired
    (then no request is made: CS-08)."""
    with runtime.sessions() as session:
        domain = session.get(Domain, domain_id)
        if domain is None:
            raise DomainError(f"domain {domain_id} no longer exists")
        ended = expired_credential(session, domain_id, runtime.clock.now())
        if ended is not None:
            raise DomainError(f"{domain.name}: {ended.text}")
        connector = registry.connector(domain.platform)
        clients = connector.clients(runtime, session, domain, policy=policy)
        before = events.previous_outcome(session, domain_id)
    engine = SyncEngine(
        runtime.sessions,
        connector,
        clock=runtime.clock,
        owner=owner,
        progress=progress,
        concurrency=runtime.settings.sync_concurrency,
    )
    try:
        run = await engine.sync(domain_id, clients, full=full)
        fault_point("after_run_commit")  # the ready sweep (notify.events.repair_ready) covers a crash here
        events.run_finished(runtime, run, before)  # no await in it: a cancel cannot cut it in half
    finally:
        await clients.aclose()
    return run
