"""A token refresh is never replayed after an ambiguous failure: when the token endpoint rotates the
refresh token and then loses its answer (a 5xx or a dropped connection after processing), that
refresh token is never sent again, by this run, a later one or any other process, however many data
sets need a token: the grant is marked expired and the domain asks for a reconnect, which recovers
it. The grant is re-read instead: a pair stored meanwhile (a reconnect) is used."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from appgov.connectors.atlassian.clients import authorization_server
from appgov.connectors.atlassian.grants import GrantTokens, store_grant
from appgov.connectors.atlassian.oauth import READ_SCOPES, TokenSet
from appgov.runtime import Runtime
from appgov.storage.models import Domain, OAuthGrant
from support.grants import consent, expire_access_tokens, oauth_runtime
from support.product import sync
from support.simulator import Simulator


def refreshes(sim: Simulator) -> int:
    return int(sim.control("GET", "/counters").json()["refresh_requests"])


@pytest.mark.parametrize(
    ("kind", "params"),
    [("server_error", {"status": 503, "processed": True}), ("reset", {"processed": True})],
)
def test_a_refresh_whose_answer_is_lost_is_never_sent_again_and_a_reconnect_recovers_the_grant(
    fresh_sim: Simulator, tmp_path: Path, kind: str, params: dict[str, Any]
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    expire_access_tokens(runtime)
    with runtime.sessions() as session:
        stored = session.get_one(OAuthGrant, grant_id).refresh_token
        domain = session.query(Domain).one()
    fresh_sim.control("DELETE", "/log")
    fresh_sim.fault(kind, site="auth", path="/oauth/token", times=1, params=params)

    failed = sync(runtime, domain)
    assert failed.status == "failed"
    assert failed.reason_code == "refresh_unconfirmed"
    assert refreshes(fresh_sim) == 1  # every data set needed a token; one refresh went out
    with runtime.sessions() as session:
        grant = session.get_one(OAuthGrant, grant_id)
    assert (grant.status, grant.refresh_token, grant.refresh_lock_owner) == ("expired", stored, None)

    again = sync(runtime, domain)  # a later run (or any process) does not send it either
    assert again.status == "failed"
    assert again.reason_code == "grant_expired"
    assert refreshes(fresh_sim) == 1

    reconnect(fresh_sim, runtime, grant_id)
    recovered = sync(runtime, domain)
    assert recovered.status == "success", recovered.errors
    with runtime.sessions() as session:
        assert session.get_one(OAuthGrant, grant_id).status == "active"


def reconnect(sim: Simulator, runtime: Runtime, grant_id: int) -> str:
    """A new consent for the grant's account, stored as the console stores it; its access token."""
    minted = sim.mint_grant(list(READ_SCOPES), ["acme"])
    with runtime.sessions() as session:
        grant = session.get_one(OAuthGrant, grant_id)
    now = runtime.clock.now()
    tokens = TokenSet(
        minted["access_token"], minted["refresh_token"], now + timedelta(hours=1), minted["scope"].split()
    )
    store_grant(
        runtime.sessions, runtime.secrets, grant.client_id, grant.account_id, grant.account_email, tokens, now
    )
    return str(minted["access_token"])


def test_a_pair_stored_meanwhile_is_used_after_an_unconfirmed_refresh(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    expire_access_tokens(runtime)
    fresh_sim.control("DELETE", "/log")
    # the refresh is held at the token endpoint while the grant is reconnected, then its answer lost
    held = fresh_sim.fault("latency", site="auth", path="/oauth/token", times=1, params={"ms": 3000})
    fresh_sim.fault("server_error", site="auth", path="/oauth/token", params={"processed": True})
    server = authorization_server(runtime)
    tokens = GrantTokens(runtime.sessions, runtime.secrets, grant_id, server, clock=runtime.clock)

    async def refresh_during_a_reconnect() -> tuple[str, str]:
        refresh = asyncio.create_task(tokens.access_token())
        while not any(
            f["hits"] for f in fresh_sim.control("GET", "/faults").json() if f["fault_id"] == held["fault_id"]
        ):
            await asyncio.sleep(0.02)  # waiting for the refresh to reach the endpoint, not timing it
        stored = await asyncio.to_thread(reconnect, fresh_sim, runtime, grant_id)
        try:
            return await refresh, stored
        finally:
            await server.aclose()

    token, stored = asyncio.run(refresh_during_a_reconnect())
    assert token == stored
    assert refreshes(fresh_sim) == 1
