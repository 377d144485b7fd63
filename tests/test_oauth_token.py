"""POST /oauth/token over real HTTP: code exchange, refresh-token rotation and its clock rules."""

from __future__ import annotations

import base64

import httpx
import pytest

from support.oauth_browser import Browser, pkce_pair
from support.simulator import Simulator

INVALID_REFRESH = {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}
DAY = 86_400


def advance(sim: Simulator, seconds: float) -> None:
    sim.control("POST", "/clock", {"seconds": seconds})


def refreshed(browser: Browser, refresh_token: str) -> str:
    """Refresh and return the new refresh token, asserting the refresh worked."""
    response = browser.refresh(refresh_token)
    assert response.status_code == 200, response.text
    return str(response.json()["refresh_token"])


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 403
    assert response.json() == INVALID_REFRESH


# --- authorization_code ----------------------------------------------------------------------------


def test_code_exchange_accepts_a_form_body_as_well_as_json(browser: Browser) -> None:
    by_form = browser.exchange(browser.code()["code"], form=True)
    assert by_form.status_code == 200
    assert by_form.headers["cache-control"] == "no-store"
    assert by_form.json()["token_type"] == "Bearer"
    assert browser.refresh(by_form.json()["refresh_token"], form=True).status_code == 200


def test_client_credentials_may_come_in_a_basic_header(browser: Browser) -> None:
    code = browser.code()["code"]
    client = browser.client
    basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
    response = browser.http.post(
        "/oauth/token",
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": client["redirect_uris"][0]},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200


def test_a_code_is_single_use_and_replaying_it_stops_its_tokens_refreshing(browser: Browser) -> None:
    code = browser.code()["code"]
    first = browser.exchange(code)
    assert first.status_code == 200
    replay = browser.exchange(code)
    assert replay.status_code == 403
    assert replay.json()["error"] == "invalid_grant"
    assert_refused(browser.refresh(first.json()["refresh_token"]))


def test_a_code_expires_after_ten_minutes(browser: Browser) -> None:
    code = browser.code()["code"]
    advance(browser.sim, 601)
    response = browser.exchange(code)
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_grant"


def test_the_redirect_uri_must_match_the_authorization_request(browser: Browser) -> None:
    code = browser.code()["code"]
    response = browser.exchange(code, redirect_uri="http://127.0.0.1:8000/other")
    assert response.status_code == 403
    assert response.json()["error"] == "invalid_grant"
    assert browser.exchange(code).status_code == 200  # a refused attempt does not burn the code


def test_a_wrong_client_secret_is_401_access_denied(browser: Browser) -> None:
    response = browser.exchange(browser.code()["code"], client_secret="wrong")
    assert response.status_code == 401
    assert response.json() == {"error": "access_denied", "error_description": "Unauthorized"}


def test_pkce_needs_the_verifier_that_matches_the_challenge(browser: Browser) -> None:
    verifier, challenge = pkce_pair()
    code = browser.code(code_challenge=challenge, code_challenge_method="S256")["code"]
    for wrong in ({}, {"code_verifier": pkce_pair()[0]}):
        response = browser.exchange(code, **wrong)
        assert response.status_code == 403
        assert response.json()["error"] == "invalid_grant"
    assert browser.exchange(code, code_verifier=verifier).status_code == 200


def test_a_verifier_without_a_challenge_is_refused(browser: Browser) -> None:
    response = browser.exchange(browser.code()["code"], code_verifier=pkce_pair()[0])
    assert response.status_code == 403


def test_without_offline_access_no_refresh_token_is_issued(browser: Browser) -> None:
    body = browser.tokens(scope="read:jira-user")
    assert "refresh_token" not in body
    assert body["scope"] == "read:jira-user"


@pytest.mark.parametrize(
    ("content", "headers", "status", "error"),
    [
        (b'{"grant_type": "password"}', {"content-type": "application/json"}, 400, "unsupported_grant_type"),
        (b"{}", {"content-type": "application/json"}, 400, "invalid_request"),
        (b"{not json", {"content-type": "application/json"}, 400, "invalid_request"),
        (b'["grant_type"]', {"content-type": "application/json"}, 400, "invalid_request"),
        (b'{"grant_type": 7}', {"content-type": "application/json"}, 400, "invalid_request"),
        (b"grant_type=refresh_token", {"content-type": "text/plain"}, 400, "invalid_request"),
        (
            b"grant_type=refresh_token",
            {"content-type": "application/x-www-form-urlencoded"},
            401,
            "access_denied",
        ),
    ],
)
def test_malformed_token_requests_get_oauth_errors_not_500s(
    oauth_sim: Simulator, content: bytes, headers: dict[str, str], status: int, error: str
) -> None:
    response = oauth_sim.http.post(f"{oauth_sim.url}/oauth/token", content=content, headers=headers)
    assert response.status_code == status
    assert response.json()["error"] == error


# --- refresh_token rotation ------------------------------------------------------------------------


def test_each_refresh_rotates_and_the_old_token_still_works_within_ten_minutes(browser: Browser) -> None:
    first = browser.tokens()["refresh_token"]
    second = refreshed(browser, first)
    assert second != first
    advance(browser.sim, 599)
    assert refreshed(browser, first)  # inside the leeway: concurrent refreshes are absorbed
    assert refreshed(browser, second)


def test_reusing_a_rotated_token_after_the_leeway_revokes_the_whole_family(browser: Browser) -> None:
    first = browser.tokens()["refresh_token"]
    second = refreshed(browser, first)
    advance(browser.sim, 601)
    assert_refused(browser.refresh(first))
    assert_refused(browser.refresh(second))  # the family died with the reuse


def test_a_refresh_token_dies_after_90_days_unused_and_using_one_resets_the_clock(browser: Browser) -> None:
    token = browser.tokens()["refresh_token"]
    advance(browser.sim, 89 * DAY)
    token = refreshed(browser, token)
    advance(browser.sim, 89 * DAY)
    token = refreshed(browser, token)
    advance(browser.sim, 90 * DAY + 1)
    assert_refused(browser.refresh(token))


def test_a_family_dies_365_days_after_consent_however_often_it_is_refreshed(browser: Browser) -> None:
    token = browser.tokens()["refresh_token"]
    for _ in range(4):
        advance(browser.sim, 80 * DAY)
        token = refreshed(browser, token)
    advance(browser.sim, 45 * DAY + 1)  # 365 days and a second since the consent
    assert_refused(browser.refresh(token))
    assert browser.tokens()["refresh_token"]  # consenting again starts a new year


def test_a_second_consent_adds_its_site_to_the_one_grant_and_replaces_the_family(browser: Browser) -> None:
    sim = browser.sim
    first = browser.tokens(site="acme")
    second = browser.tokens(site="acme-eng")
    grants = [g for g in sim.control("GET", "/grants").json() if not g["revoked"]]
    assert len(grants) == 1
    assert grants[0]["cloud_ids"] == [sim.site("acme")["cloud_id"], sim.site("acme-eng")["cloud_id"]]
    for access in (first["access_token"], second["access_token"]):  # old access tokens reach the new site
        listed = browser.bearer_get("/oauth/token/accessible-resources", access).json()
        assert sorted(r["name"] for r in listed) == ["acme", "acme-eng"]
    assert_refused(browser.refresh(first["refresh_token"]))
    assert refreshed(browser, second["refresh_token"])


def test_a_refresh_token_of_another_client_or_garbage_is_refused(browser: Browser) -> None:
    assert_refused(browser.refresh("v1.not-a-token"))
    assert_refused(browser.refresh(""))
