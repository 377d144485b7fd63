"""The OAuth control API over real HTTP: list and revoke grants, expire and revoke their tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from support.oauth_browser import Browser
from support.simulator import Simulator

SCOPES = ["read:jira-user", "offline_access"]


def resources(browser: Browser, access: str) -> int:
    return browser.bearer_get("/oauth/token/accessible-resources", access).status_code


def grant_of(sim: Simulator, grant_id: str) -> dict[str, Any]:
    return next(g for g in sim.control("GET", "/grants").json() if g["grant_id"] == grant_id)


def test_grants_are_listed_with_their_sites_scopes_and_live_tokens(browser: Browser) -> None:
    sim = browser.sim
    minted = sim.mint_grant(SCOPES, sites=["acme", "acme-wiki"])
    listed = grant_of(sim, minted["grant_id"])
    assert listed["account_id"] == sim.state["accounts"]["site_admin"]["account_id"]
    assert listed["client_id"] == sim.state["oauth_client"]["client_id"]
    assert listed["cloud_ids"] == [sim.site("acme")["cloud_id"], sim.site("acme-wiki")["cloud_id"]]
    assert listed["scopes"] == sorted(SCOPES)
    assert (listed["live_access_tokens"], listed["live_refresh_tokens"]) == (1, 1)
    assert listed["revoked"] is False


def test_revoking_a_grant_stops_its_access_and_refresh_tokens(browser: Browser) -> None:
    minted = browser.sim.mint_grant(SCOPES)
    browser.sim.control("DELETE", f"/grants/{minted['grant_id']}")
    assert resources(browser, minted["access_token"]) == 401
    assert browser.refresh(minted["refresh_token"]).status_code == 403
    assert grant_of(browser.sim, minted["grant_id"])["revoked"] is True


def test_expiring_one_grants_access_tokens_leaves_other_grants_alone(browser: Browser) -> None:
    sim = browser.sim
    mine = sim.mint_grant(SCOPES)
    other = sim.mint_grant(SCOPES, who="ordinary")
    expired = sim.control("POST", "/tokens/access/expire", {"grant_id": mine["grant_id"]}).json()
    assert expired == {"affected": 1}
    assert resources(browser, mine["access_token"]) == 401
    assert resources(browser, other["access_token"]) == 200
    assert browser.refresh(mine["refresh_token"]).status_code == 200  # the way back: refresh


def test_expiring_every_access_token_reaches_every_grant(browser: Browser) -> None:
    sim = browser.sim
    tokens = [sim.mint_grant(SCOPES)["access_token"], sim.mint_grant(SCOPES, who="ordinary")["access_token"]]
    sim.control("POST", "/tokens/access/expire")
    assert [resources(browser, t) for t in tokens] == [401, 401]


@pytest.mark.parametrize("action", ["expire", "revoke"])
def test_expired_or_revoked_refresh_tokens_are_refused_while_access_tokens_live_on(
    browser: Browser, action: str
) -> None:
    minted = browser.sim.mint_grant(SCOPES)
    browser.sim.control("POST", f"/tokens/refresh/{action}", {"grant_id": minted["grant_id"]})
    refused = browser.refresh(minted["refresh_token"])
    assert refused.status_code == 403
    assert refused.json()["error"] == "invalid_grant"
    assert resources(browser, minted["access_token"]) == 200


def test_unknown_grants_and_actions_are_404(oauth_sim: Simulator) -> None:
    for method, path, body in (
        ("DELETE", "/grants/nope", None),
        ("POST", "/tokens/access/expire", {"grant_id": "nope"}),
        ("POST", "/tokens/access/revoke", None),
    ):
        with pytest.raises(httpx.HTTPStatusError) as refused:
            oauth_sim.control(method, path, body)
        assert refused.value.response.status_code == 404


def test_the_oauth_control_api_needs_the_control_token(oauth_sim: Simulator) -> None:
    response = oauth_sim.get("/_sim/grants", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401


def test_grants_and_tokens_survive_a_restart_with_a_data_dir(tmp_path: Path) -> None:
    first = Simulator("tiny", data_dir=tmp_path)
    try:
        minted = first.mint_grant(SCOPES)
        rotated = Browser(first).refresh(minted["refresh_token"]).json()
    finally:
        first.stop()
    second = Simulator("tiny", data_dir=tmp_path)
    try:
        browser = Browser(second)
        assert resources(browser, rotated["access_token"]) == 200
        assert browser.refresh(rotated["refresh_token"]).status_code == 200
    finally:
        second.stop()
