"""Reading a domain through the API gateway with an OAuth 2.0 (3LO) grant: discovery, refresh ahead
of expiry with rotated tokens persisted, a dead grant reported in words, and the plugin manager still
needing an API token (reliability OA-04, OA-07, OA-09)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from appgov.connectors.atlassian.client import AtlassianError
from appgov.connectors.atlassian.clients import authorization_server
from appgov.connectors.atlassian.grants import accessible_resources
from appgov.connectors.atlassian.oauth import READ_SCOPES, AuthorizationServer, GrantGone, TokenSet
from appgov.integrations.status import domain_status
from appgov.outcomes import Code, Outcome
from appgov.storage.models import DatasetState, Domain, OAuthGrant
from support.grants import consent, expire_access_tokens, oauth_runtime
from support.oauth_browser import Browser, callback_params
from support.product import connect, sync
from support.simulator import Simulator


def gateway_requests(sim: Simulator) -> int:
    return sum(1 for e in sim.control("GET", "/log?limit=10000").json() if e["surface"] == "gateway")


def test_an_oauth_only_domain_is_read_through_the_gateway_and_apps_need_an_api_token(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path)
    consent(fresh_sim, runtime, ["acme"])
    with runtime.sessions() as session:
        domain = session.query(Domain).one()
    fresh_sim.control("DELETE", "/log")
    run = sync(runtime, domain)
    truth = fresh_sim.ground_truth()["sites"]["acme"]["products"]
    assert run.status == "success", run.errors
    assert gateway_requests(fresh_sim) > 10
    assert run.counts["jira.users"] == truth["jira"]["users"]["count"]
    assert run.counts["confluence.groups"] == truth["confluence"]["groups"]["count"]
    with runtime.sessions() as session:
        apps = session.get_one(DatasetState, (domain.id, "jira.apps"))
    assert apps.status == "unavailable"
    assert "needs an API token" in (apps.reason or "")
    assert apps.reason_code == "needs_api_token"


def test_an_api_token_added_to_an_oauth_domain_brings_the_app_inventory(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path)
    consent(fresh_sim, runtime, ["acme"])
    domain = connect(runtime, fresh_sim)  # the API key box after the consent
    run = sync(runtime, domain)
    truth = fresh_sim.ground_truth()["sites"]["acme"]["products"]
    assert run.status == "success", run.errors
    assert run.counts["jira.apps"] == truth["jira"]["apps"]["count"]


def test_an_access_token_near_expiry_is_refreshed_once_and_the_rotated_pair_is_stored(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    with runtime.sessions.begin() as session:
        before = session.get_one(OAuthGrant, grant_id).refresh_token
        session.execute(update(OAuthGrant).values(access_expires_at=datetime.now(UTC) + timedelta(minutes=2)))
        domain = session.query(Domain).one()
    fresh_sim.control("DELETE", "/log")
    assert sync(runtime, domain).status == "success"
    assert fresh_sim.control("GET", "/counters").json()["refresh_requests"] == 1
    with runtime.sessions() as session:
        grant = session.get_one(OAuthGrant, grant_id)
    assert grant.refresh_token is not None
    assert grant.refresh_token != before
    assert grant.access_expires_at is not None
    assert grant.access_expires_at > datetime.now(UTC) + timedelta(minutes=50)


def test_a_revoked_grant_fails_the_run_and_says_grant_expired(fresh_sim: Simulator, tmp_path: Path) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    for grant in fresh_sim.control("GET", "/grants").json():
        fresh_sim.control("DELETE", f"/grants/{grant['grant_id']}")
    with runtime.sessions() as session:
        domain = session.query(Domain).one()
    run = sync(runtime, domain)
    assert run.status == "failed"
    assert "Grant expired" in (run.message or "")
    assert run.reason_code == "grant_expired"
    with runtime.sessions() as session:
        grant = session.get_one(OAuthGrant, grant_id)
    assert grant.status == "expired"
    assert grant.refresh_token is not None  # kept for the record, never nulled


def test_a_token_that_no_longer_decrypts_fails_the_run_as_secret_unreadable(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """A stored token the secret key cannot open (the key changed, the row was copied) fails the run
    with its own reason, not a bare failure."""
    runtime = oauth_runtime(fresh_sim, tmp_path)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    with runtime.sessions.begin() as session:
        grant = session.get_one(OAuthGrant, grant_id)
        grant.access_token = runtime.secrets.encrypt("a token", "another record")
        domain = session.query(Domain).one()
    run = sync(runtime, domain)
    assert (run.status, run.reason_code) == ("failed", "secret_unreadable")
    status = domain_status(run)
    assert (status.label, status.reason) == ("Error", Outcome(Code.SECRET_UNREADABLE).text)


def test_four_processes_of_four_threads_needing_a_refresh_at_once_make_exactly_one(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    expire_access_tokens(runtime)
    fresh_sim.control("DELETE", "/log")
    settings = runtime.settings
    config = {
        "settings": {
            "data_dir": str(settings.data_dir),
            "database_url": settings.database_url,
            "allowed_hosts": list(settings.allowed_hosts),
            "ca_bundle": settings.ca_bundle,
        },
        "atlassian": {"auth_url": settings.atlassian.auth_url, "api_url": settings.atlassian.api_url},
        "client_id": settings.atlassian.oauth_client_id,
        "client_secret": settings.atlassian.oauth_client_secret,
        "grant_id": grant_id,
        "threads": 4,
        "barrier": str(tmp_path / "go"),
    }
    script = Path(__file__).parent / "support" / "refresh_race.py"
    racers = [
        subprocess.Popen(
            [sys.executable, str(script), json.dumps({**config, "name": n})],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    while len(list(tmp_path.glob("ready-*"))) < len(racers):
        assert all(r.poll() is None for r in racers), "a racer died before the start"
        time.sleep(0.02)  # waiting for the racers to line up, not timing the result
    (tmp_path / "go").touch()
    tokens = [token for racer in racers for token in json.loads(racer.communicate(timeout=120)[0])]
    assert fresh_sim.control("GET", "/counters").json()["refresh_requests"] == 1
    assert len(tokens) == 16
    assert len(set(tokens)) == 1


def test_a_refresh_lock_left_by_a_dead_holder_does_not_wedge_the_grant(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    with runtime.sessions.begin() as session:
        session.execute(
            update(OAuthGrant).values(
                access_expires_at=datetime.now(UTC) - timedelta(seconds=1),
                refresh_lock_owner="a-worker-that-was-killed",
                refresh_lock_expires_at=datetime.now(UTC) - timedelta(seconds=1),
            )
        )
        domain = session.query(Domain).one()
    fresh_sim.control("DELETE", "/log")
    assert sync(runtime, domain).status == "success"
    assert fresh_sim.control("GET", "/counters").json()["refresh_requests"] == 1
    with runtime.sessions() as session:
        assert session.get_one(OAuthGrant, grant_id).refresh_lock_owner is None


def test_the_consent_url_and_code_exchange_work_against_the_authorization_server(
    oauth_sim: Simulator, browser: Browser, tmp_path: Path
) -> None:
    runtime = oauth_runtime(oauth_sim, tmp_path)
    redirect_uri = oauth_sim.state["oauth_client"]["redirect_uris"][0]
    server = authorization_server(runtime)
    request = server.authorization_request(redirect_uri)
    signed_in = browser.sign_in(browser.http.get(request.url))
    callback = callback_params(browser.decide(signed_in, "allow", "acme"))
    assert callback["state"] == request.state

    async def exchange() -> TokenSet:
        try:
            return await server.exchange_code(callback["code"], redirect_uri, request.code_verifier)
        finally:
            await server.aclose()

    tokens = asyncio.run(exchange())
    assert tokens.refresh_token
    assert set(READ_SCOPES) <= set(tokens.scopes)
    assert not any(scope.startswith(("write:", "manage:", "delete:")) for scope in tokens.scopes)
    resources = asyncio.run(
        accessible_resources(runtime.settings.atlassian.api_url, tokens.access_token, runtime.verify)
    )
    assert [r["id"] for r in resources] == [oauth_sim.site("acme")["cloud_id"]]


def test_a_token_request_refused_as_malformed_is_not_taken_for_a_dead_grant(sim: Simulator) -> None:
    client = sim.state["oauth_client"]
    server = AuthorizationServer(
        sim.state["auth_url"], client["client_id"], client["client_secret"], verify=sim.verify
    )

    async def malformed() -> None:
        try:
            await server._token({})  # no grant_type: 400 invalid_request, appgov's own mistake
        finally:
            await server.aclose()

    with pytest.raises(AtlassianError, match="invalid_request") as raised:
        asyncio.run(malformed())
    assert not isinstance(raised.value, GrantGone)
