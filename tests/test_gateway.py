"""api.atlassian.com over real HTTP: accessible-resources, /me, and bearer and scope checks at /ex/."""

from __future__ import annotations

import pytest

from support.oauth_browser import Browser
from support.simulator import Simulator

UNAUTHORIZED = {"code": 401, "message": "Unauthorized"}
SCOPE_MISMATCH = {"code": 401, "message": "Unauthorized; scope does not match"}
USERS_GRANULAR = ["read:user:jira", "read:application-role:jira", "read:avatar:jira", "read:group:jira"]


def users_search(browser: Browser, access: str, site: str = "acme") -> tuple[int, object]:
    cloud_id = browser.sim.site(site)["cloud_id"]
    response = browser.bearer_get(f"/ex/jira/{cloud_id}/rest/api/3/users/search", access)
    return response.status_code, response.json()


def test_accessible_resources_lists_each_granted_site_with_its_products_scopes(browser: Browser) -> None:
    sim = browser.sim
    scopes = ["read:jira-user", "read:confluence-groups", "offline_access"]
    access = sim.mint_grant(scopes, sites=["acme", "acme-eng"])["access_token"]
    response = browser.bearer_get("/oauth/token/accessible-resources", access)
    assert response.status_code == 200
    by_name = {entry["name"]: entry for entry in response.json()}
    assert by_name.keys() == {"acme", "acme-eng"}
    assert by_name["acme"] == {
        "id": sim.site("acme")["cloud_id"],
        "url": sim.site_url("acme"),
        "name": "acme",
        "scopes": ["read:confluence-groups", "read:jira-user"],
        "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/flag.png",
    }
    assert by_name["acme-eng"]["scopes"] == ["read:jira-user"]  # a Jira-only site


def test_me_returns_the_signed_in_account_profile(browser: Browser) -> None:
    admin = browser.sim.state["accounts"]["site_admin"]
    access = browser.tokens()["access_token"]
    response = browser.bearer_get("/me", access)
    assert response.status_code == 200
    profile = response.json()
    assert profile["account_id"] == admin["account_id"]
    assert profile["email"] == admin["email"]
    assert profile["name"] == admin["display_name"]
    assert profile["account_type"] == "atlassian"
    assert profile["account_status"] == "active"
    assert profile["locale"] == "en-GB"
    assert profile["zoneinfo"] == "Europe/London"
    assert {"picture", "nickname", "extended_profile"} <= profile.keys()


def test_me_without_read_me_is_a_scope_mismatch(browser: Browser) -> None:
    access = browser.sim.mint_grant(["read:jira-user"])["access_token"]
    response = browser.bearer_get("/me", access)
    assert response.status_code == 401
    assert response.json() == SCOPE_MISMATCH


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer not-a-token", "Basic Zm9vOmJhcg==", "bearer  x"])
def test_a_missing_or_unknown_bearer_token_is_401_unauthorized(oauth_sim: Simulator, header: str) -> None:
    headers = {"Authorization": header} if header else {}
    for path in (
        "/oauth/token/accessible-resources",
        "/me",
        f"/ex/jira/{oauth_sim.site()['cloud_id']}/rest/api/3/users/search",
    ):
        response = oauth_sim.get(path, headers=headers)
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED


def test_the_classic_scope_alone_is_enough(browser: Browser) -> None:
    access = browser.sim.mint_grant(["read:jira-user"])["access_token"]
    status, body = users_search(browser, access)
    assert status == 200
    assert isinstance(body, list)


def test_all_the_granular_scopes_are_enough_but_one_short_is_a_scope_mismatch(browser: Browser) -> None:
    every = browser.sim.mint_grant(USERS_GRANULAR)["access_token"]
    assert users_search(browser, every)[0] == 200
    one_short = browser.sim.mint_grant(USERS_GRANULAR[:-1], who="ordinary")["access_token"]
    assert users_search(browser, one_short) == (401, SCOPE_MISMATCH)


def test_a_scope_for_another_product_does_not_reach_jira(browser: Browser) -> None:
    access = browser.sim.mint_grant(["read:confluence-groups"])["access_token"]
    assert users_search(browser, access) == (401, SCOPE_MISMATCH)


def test_a_site_outside_the_grant_is_not_reachable(browser: Browser) -> None:
    access = browser.sim.mint_grant(["read:jira-user"], sites=["acme"])["access_token"]
    status, body = users_search(browser, access, site="acme-eng")
    assert status == 404
    assert body == {"code": 404, "message": "Not Found"}


def test_an_access_token_stops_working_after_its_hour(browser: Browser) -> None:
    access = browser.sim.mint_grant(["read:jira-user"])["access_token"]
    browser.sim.control("POST", "/clock", {"seconds": 3599})
    assert users_search(browser, access)[0] == 200
    browser.sim.control("POST", "/clock", {"seconds": 2})
    assert users_search(browser, access) == (401, UNAUTHORIZED)
    response = browser.bearer_get("/oauth/token/accessible-resources", access)
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_a_3lo_token_sent_to_the_site_host_is_refused(browser: Browser) -> None:
    access = browser.sim.mint_grant(["read:jira-user"])["access_token"]
    response = browser.http.get(
        browser.sim.site_url() + "/rest/api/3/users/search", headers={"Authorization": f"Bearer {access}"}
    )
    assert response.status_code == 401
