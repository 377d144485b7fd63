"""appgov reading sites through OAuth against a simulator: a runtime configured with the simulator's
OAuth app, and a consent stored as appgov stores it after the callback."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from appgov.accounts.principal import Principal
from appgov.connectors.atlassian.grants import accessible_resources, consenting_account, store_grant
from appgov.connectors.atlassian.oauth import READ_SCOPES, TokenSet
from appgov.connectors.atlassian.site_rows import atlassian_site
from appgov.connectors.atlassian.sites import normalize_site_url
from appgov.integrations.domains import domain_row
from appgov.runtime import Runtime
from appgov.storage.models import OAuthGrant
from support.product import principal_for, runtime_for
from support.simulator import Simulator


def oauth_runtime(sim: Simulator, data_dir: Path, database_url: str | None = None) -> Runtime:
    runtime = runtime_for(sim, data_dir, database_url)
    client = sim.state["oauth_client"]
    runtime.settings = replace(
        runtime.settings,
        atlassian=replace(
            runtime.settings.atlassian,
            oauth_client_id=client["client_id"],
            oauth_client_secret=client["client_secret"],
            auth_url=sim.state["auth_url"],
            api_url=sim.state["api_url"],
        ),
    )
    return runtime


def consent(sim: Simulator, runtime: Runtime, sites: list[str], added_by: str = "tester") -> int:
    """A consent minted by the simulator, then what appgov does after its callback, at the runtime's
    clock: the grant stored and the sites it reaches connected. Returns the grant's id."""
    minted = sim.mint_grant(list(READ_SCOPES), sites)
    now = runtime.clock.now()
    tokens = TokenSet(
        minted["access_token"],
        minted["refresh_token"],
        now + timedelta(seconds=minted["expires_in"]),
        minted["scope"].split(),
    )
    me = asyncio.run(
        consenting_account(runtime.settings.atlassian.api_url, tokens.access_token, runtime.verify)
    )
    grant = store_grant(
        runtime.sessions,
        runtime.secrets,
        sim.state["oauth_client"]["client_id"],
        me["account_id"],
        me.get("email"),
        tokens,
        now,
    )
    resources = asyncio.run(
        accessible_resources(runtime.settings.atlassian.api_url, tokens.access_token, runtime.verify)
    )
    for resource in resources:
        _connect_with_oauth_only(runtime, grant.id, resource, principal_for(runtime, added_by))
    return grant.id


def _connect_with_oauth_only(
    runtime: Runtime, grant_id: int, resource: dict[str, Any], added_by: Principal
) -> None:
    """A domain read through the grant alone: appgov's Add always asks for an API token too, so
    this is the state of a domain whose token is not there (yet)."""
    site_url = normalize_site_url(str(resource["url"]), runtime.settings.allowed_hosts)
    scopes = [str(s) for s in resource.get("scopes") or []]
    products = [
        p for p in ("jira", "confluence") if any(s.endswith(f":{p}") or f":{p}-" in s for s in scopes)
    ]
    with runtime.sessions.begin() as session:
        domain = domain_row(session, site_url, products, added_by, runtime.clock.now())
        session.flush()
        site = atlassian_site(session, domain.id)
        site.cloud_id, site.oauth_grant_id = str(resource["id"]), grant_id


def expire_access_tokens(runtime: Runtime) -> None:
    """Every stored access token as expired a second ago: the next call refreshes its grant."""
    with runtime.sessions.begin() as session:
        session.execute(update(OAuthGrant).values(access_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
