"""Run the product's own code against a simulator: a runtime in a temporary data directory."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from appgov.config import Settings
from appgov.connectors.atlassian.retry import RetryPolicy
from appgov.integrations.domains import add_domain, clients_for, marketplace_for
from appgov.runtime import Runtime
from appgov.storage.models import Domain, SyncRun
from appgov.sync.engine import SyncEngine
from support.simulator import Simulator


def runtime_for(sim: Simulator, data_dir: Path, database_url: str | None = None) -> Runtime:
    host = sim.url.split("//", 1)[1]
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'appgov.db'}",
        allowed_hosts=(host,),
        ca_bundle=sim.state["certificate"],
        marketplace_url=sim.state["marketplace_url"],
    )
    return Runtime.start(settings)


def connect(runtime: Runtime, sim: Simulator, site: str = "acme", who: str = "site_admin") -> Domain:
    account = sim.state["accounts"][who]
    return asyncio.run(
        add_domain(runtime, sim.site_url(site), account["email"], account["api_token"], "tester")
    )


def sync(
    runtime: Runtime, domain: Domain, policy: RetryPolicy | None = None, **engine_options: Any
) -> SyncRun:
    async def run() -> SyncRun:
        with runtime.sessions() as session:
            clients = clients_for(runtime, session, domain, policy=policy)
        marketplace = marketplace_for(runtime)
        try:
            engine = SyncEngine(runtime.sessions, marketplace=marketplace, **engine_options)
            return await engine.sync(domain.id, clients)
        finally:
            await clients.aclose()
            await marketplace.client.aclose()

    return asyncio.run(run())
