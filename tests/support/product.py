"""Run the product's own code against a simulator: a runtime in a temporary data directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from appgov.accounts.principal import Principal, Via, cli_user
from appgov.config import AtlassianSettings, Settings
from appgov.connectors.retry import RetryPolicy
from appgov.integrations.domains import add_domain
from appgov.runtime import Runtime
from appgov.storage.models import Domain, SyncRun, User
from appgov.sync.service import sync_domain
from support.simulator import Simulator


def runtime_for(sim: Simulator, data_dir: Path, database_url: str | None = None) -> Runtime:
    host = sim.url.split("//", 1)[1]
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'appgov.db'}",
        allowed_hosts=(host,),
        ca_bundle=sim.state["certificate"],
        atlassian=AtlassianSettings(
            marketplace_url=sim.state["marketplace_url"], admin_url=sim.state["api_url"]
        ),
        sync_concurrency=8,  # parents per chunk as the tests were written against (the engine's default)
    )
    return Runtime.start(settings)


def connect(
    runtime: Runtime, sim: Simulator, site: str = "acme", who: str = "site_admin", added_by: str = "tester"
) -> Domain:
    account = sim.state["accounts"][who]
    principal = principal_for(runtime, added_by)
    return asyncio.run(
        add_domain(runtime, sim.site_url(site), account["email"], account["api_token"], principal)
    )


def principal_for(runtime: Runtime, name: str) -> Principal:
    """The console user with this email when there is one (as the console acts), else a system user
    of the command line."""
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.email == name))
    return Principal.of_user(user, Via.CONSOLE) if user is not None else cli_user(name)


def sync(runtime: Runtime, domain: Domain, policy: RetryPolicy | None = None) -> SyncRun:
    """One sync through the product's own service (as the CLI and the background runner do)."""
    return asyncio.run(sync_domain(runtime, domain.id, policy=policy))


def revoke_api_tokens(sim: Simulator, who: str = "site_admin") -> None:
    """Revoke every API token of the account (the organization admin API): Basic auth then gets 401."""
    account = sim.state["accounts"][who]
    org_key = {"Authorization": f"Bearer {sim.state['org']['api_key']}"}
    tokens = f"{sim.url}/users/{account['account_id']}/manage/api-tokens"
    for token in sim.get(tokens, headers=org_key).json():
        sim.http.delete(f"{tokens}/{token['id']}", headers=org_key).raise_for_status()
