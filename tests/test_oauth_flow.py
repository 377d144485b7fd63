"""The browser half of 3LO over real HTTP: /authorize, the sign-in and consent pages, the callback."""

from __future__ import annotations

import pytest

from support.oauth_browser import (
    DEFAULT_SCOPES,
    Browser,
    callback_params,
    pkce_pair,
    the_form,
)
from support.simulator import Simulator


def test_full_flow_from_sign_in_to_a_jira_call_through_the_gateway(browser: Browser) -> None:
    sim = browser.sim
    sign_in = browser.authorize(state="st-123")
    assert sign_in.status_code == 200
    assert "sim_session" in sign_in.headers["set-cookie"]
    consent = browser.sign_in(sign_in)
    assert consent.status_code == 200
    for scope in DEFAULT_SCOPES.split():
        assert scope in consent.text
    assert "Jira users and groups: names, email addresses, avatars." in consent.text
    picker = the_form(consent.text).options["site"]
    assert picker == [sim.site("acme")["cloud_id"], sim.site("acme-eng")["cloud_id"]]  # Jira sites only

    callback = callback_params(browser.decide(consent, "allow", "acme"))
    assert callback["state"] == "st-123"
    tokens = browser.exchange(callback["code"])
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["expires_in"] == 3600
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"].startswith("v1.")
    assert set(body["scope"].split()) == set(DEFAULT_SCOPES.split())
    access = body["access_token"]

    resources = browser.bearer_get("/oauth/token/accessible-resources", access).json()
    assert [(r["id"], r["url"], r["name"]) for r in resources] == [
        (sim.site("acme")["cloud_id"], sim.site_url("acme"), "acme")
    ]
    jira = f"/ex/jira/{resources[0]['id']}/rest/api/3"
    server_info = browser.bearer_get(f"{jira}/serverInfo", access)
    assert server_info.status_code == 200
    assert server_info.json()["deploymentType"] == "Cloud"
    users = browser.bearer_get(f"{jira}/users/search", access)
    assert users.status_code == 200
    assert users.headers["X-AAccountId"] == sim.state["accounts"]["site_admin"]["account_id"]
    assert len(users.json()) > 0


def test_deny_redirects_to_the_callback_with_access_denied_and_the_state(browser: Browser) -> None:
    consent = browser.sign_in(browser.authorize(state="keep-me"))
    callback = callback_params(browser.decide(consent, "deny"))
    assert callback["error"] == "access_denied"
    assert callback["error_description"]
    assert callback["state"] == "keep-me"
    assert "code" not in callback


def test_wrong_password_shows_the_sign_in_page_again_with_an_error(browser: Browser) -> None:
    sign_in = browser.authorize()
    again = browser.sign_in(sign_in, password="not-the-password")
    assert again.status_code == 401
    assert "Incorrect email address and/or password." in again.text
    assert "password" in again.text
    assert browser.sign_in(again).status_code == 200  # the page it returned still works


def test_sign_in_page_escapes_what_the_user_typed(browser: Browser) -> None:
    sign_in = browser.authorize()
    again = browser.submit(sign_in, email='"><script>alert(1)</script>', password="x")
    assert "<script>alert(1)</script>" not in again.text
    assert "&lt;script&gt;" in again.text


def test_a_form_posted_without_the_sessions_csrf_token_is_refused(browser: Browser) -> None:
    sign_in = browser.authorize()
    account = browser.sim.state["accounts"]["site_admin"]
    forged = browser.submit(sign_in, csrf="forged", email=account["email"], password=account["password"])
    assert forged.status_code == 403
    assert "anti-CSRF" in forged.text


def test_a_consent_form_cannot_be_submitted_twice(browser: Browser) -> None:
    consent = browser.sign_in(browser.authorize())
    assert browser.decide(consent, "allow").status_code == 302
    replay = browser.decide(consent, "allow")
    assert replay.status_code == 400
    assert "location" not in replay.headers


def test_an_account_that_administers_no_site_gets_a_page_saying_so(browser: Browser) -> None:
    page = browser.sign_in(browser.authorize(state="s1"), who="ordinary")
    assert page.status_code == 403
    assert "is not an administrator of any" in page.text
    back = browser.submit(page, decision="deny")
    assert callback_params(back) == {
        "error": "access_denied",
        "error_description": "User did not authorize the request",
        "state": "s1",
    }


def test_confluence_scopes_offer_only_the_sites_with_confluence(browser: Browser) -> None:
    sim = browser.sim
    consent = browser.sign_in(browser.authorize(scope="read:confluence-groups"))
    assert the_form(consent.text).options["site"] == [
        sim.site("acme")["cloud_id"],
        sim.site("acme-wiki")["cloud_id"],
    ]


def test_unknown_client_gets_an_error_page_not_a_redirect(browser: Browser) -> None:
    response = browser.authorize(client_id="no-such-client")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "Unknown client_id" in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://attacker.example/callback",
        "http://127.0.0.1:8000/integrations/atlassian/callback/extra",
        "http://127.0.0.1:8000/integrations/atlassian/callback?next=x",
        "",
    ],
)
def test_a_redirect_uri_not_exactly_registered_gets_an_error_page(
    browser: Browser, redirect_uri: str
) -> None:
    response = browser.authorize(redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "redirect_uri does not match" in response.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"scope": "read:jira-user delete:everything"}, "invalid_scope"),
        ({"scope": None}, "invalid_scope"),
        ({"audience": "example.com"}, "invalid_request"),
        ({"code_challenge": pkce_pair()[1], "code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short", "code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
    ],
)
def test_a_bad_request_to_a_registered_callback_redirects_with_the_oauth_error(
    browser: Browser, overrides: dict[str, str | None], error: str
) -> None:
    callback = callback_params(browser.authorize(state="s2", **overrides))
    assert callback["error"] == error
    assert callback["state"] == "s2"


def test_registered_redirect_uris_must_be_https_except_loopback() -> None:
    with pytest.raises(RuntimeError, match="must use https"):
        Simulator("tiny", extra=["--redirect-uri", "http://app.example.com/callback"])
    allowed = Simulator(
        "tiny",
        extra=["--redirect-uri", "https://app.example.com/cb", "--redirect-uri", "http://localhost:9000/cb"],
    )
    try:
        browser = Browser(allowed)
        for uri in ("https://app.example.com/cb", "http://localhost:9000/cb"):
            assert browser.authorize(redirect_uri=uri).status_code == 200
    finally:
        allowed.stop()
