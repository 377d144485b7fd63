"""The console's OAuth 2.0 (3LO) consent against the simulated authorization server, over real HTTP:
the state is session-bound, single-use and short-lived and every bad callback is refused before any
token request (OA-01); PKCE S256 with a per-flow verifier kept server-side (OA-02); the one
configured redirect URI and no open redirect (OA-03); nothing sensitive in URLs, referrers or logs
(CS-07)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest
from sqlalchemy import select

from appgov.integrations.connect import check_redirect_uri, state_hash
from appgov.integrations.domains import DomainError
from appgov.storage.models import OAuthFlow
from support.console import Console, SignedIn, console_db, csrf_of
from support.integrations import (
    consent,
    console_secrets,
    expire_flows,
    query_of,
    running_console,
    signed_in,
    start_add,
    token_requests,
)

CALLBACK = "/integrations/atlassian/callback"


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    yield from running_console()


@pytest.fixture
def signed(console: Console) -> Iterator[SignedIn]:
    yield from signed_in(console)


def answered(console: Console, signed: SignedIn) -> str:
    """A genuine answer from Atlassian (a real code and this session's state), the log cleared after it."""
    callback = consent(console.sim, start_add(signed), site="acme")
    console.sim.control("DELETE", "/log")
    return callback


def assert_refused(answer: httpx.Response, reason: str) -> None:
    assert answer.status_code == 400
    assert reason in answer.text
    assert "Nothing was changed." in answer.text


def test_oa01a_a_callback_without_state_is_refused_before_any_token_request(
    console: Console, signed: SignedIn
) -> None:
    code = query_of(answered(console, signed))["code"]
    answer = signed.get(CALLBACK, params={"code": code})
    assert_refused(answer, "carries no state")
    assert token_requests(console.sim) == 0


def test_oa01b_a_callback_with_a_wrong_state_is_refused_before_any_token_request(
    console: Console, signed: SignedIn
) -> None:
    code = query_of(answered(console, signed))["code"]
    answer = signed.get(CALLBACK, params={"code": code, "state": "A" * 32})
    assert_refused(answer, "does not match any consent started here")
    assert token_requests(console.sim) == 0


def test_oa01c_another_sessions_state_is_refused_before_any_token_request(
    console: Console, signed: SignedIn
) -> None:
    callback = answered(console, signed)
    other = console.sign_in()  # the same user, another browser
    answer = other.get(callback)
    assert_refused(answer, "started from another browser session")
    assert token_requests(console.sim) == 0
    assert signed.get(callback).status_code == 303  # it stays usable by the session that started it


def test_oa01d_a_replayed_state_is_refused_before_any_token_request(
    console: Console, signed: SignedIn
) -> None:
    callback = answered(console, signed)
    assert signed.get(callback).status_code == 303
    assert token_requests(console.sim) == 1
    answer = signed.get(callback)
    assert_refused(answer, "already used")
    assert token_requests(console.sim) == 1


def test_oa01e_a_state_past_its_ten_minutes_is_refused_before_any_token_request(
    console: Console, signed: SignedIn
) -> None:
    callback = answered(console, signed)
    expire_flows(console)
    answer = signed.get(callback)
    assert_refused(answer, "took longer than 10 minutes")
    assert token_requests(console.sim) == 0


def test_the_state_is_random_enough_and_stored_only_as_its_hash(console: Console, signed: SignedIn) -> None:
    states = [query_of(start_add(signed))["state"] for _ in range(2)]
    assert states[0] != states[1]
    for state in states:
        assert len(base64.urlsafe_b64decode(state + "=" * (-len(state) % 4))) >= 16  # 128 bits or more
    with console_db(console) as session:
        stored = {flow.state_hash for flow in session.scalars(select(OAuthFlow))}
    assert {state_hash(s) for s in states} <= stored
    assert not set(states) & stored


def test_oa02_pkce_s256_with_a_fresh_verifier_kept_encrypted_and_sent_with_the_code(
    console: Console, signed: SignedIn
) -> None:
    authorize_urls = [start_add(signed) for _ in range(2)]
    params = [query_of(url) for url in authorize_urls]
    assert [p["code_challenge_method"] for p in params] == ["S256", "S256"]
    assert params[0]["code_challenge"] != params[1]["code_challenge"]
    secrets = console_secrets(console)
    with console_db(console) as session:
        for p in params:
            flow = session.scalars(
                select(OAuthFlow).where(OAuthFlow.state_hash == state_hash(p["state"]))
            ).one()
            verifier = secrets.decrypt(flow.code_verifier, f"oauth_flow:{flow.state_hash}:code_verifier")
            assert verifier.encode() not in flow.code_verifier
            digest = hashlib.sha256(verifier.encode()).digest()
            assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == p["code_challenge"]
    callback = consent(console.sim, authorize_urls[1], site="acme")
    console.sim.control("DELETE", "/log")
    assert signed.get(callback).status_code == 303
    # the simulator refuses a PKCE code exchanged without its verifier (invalid_grant): this one passed
    exchanges = [
        e for e in console.sim.control("GET", "/log?limit=1000").json() if e["path"] == "/oauth/token"
    ]
    assert [e["status"] for e in exchanges] == [200]


def test_oa03_the_authorize_request_carries_exactly_the_configured_redirect_uri(
    console: Console, signed: SignedIn
) -> None:
    redirect_uri = query_of(start_add(signed))["redirect_uri"]
    assert redirect_uri == f"{console.url}{CALLBACK}"
    assert redirect_uri == console.sim.state["oauth_client"]["redirect_uris"][0]


def same_origin(console: Console, location: str) -> bool:
    """Where a browser goes from ``location`` (resolved as browsers do, backslashes as slashes)."""
    resolved = urlsplit(urljoin(f"{console.url}/login", location.replace("\\", "/")))
    return f"{resolved.scheme}://{resolved.netloc}" == console.url


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https:evil.example", "/\\evil.example", "https://evil.example/", "/%5Cevil.example",
     "%2F%2Fevil.example", "/%2F/evil.example", "\t//evil.example", "javascript:alert(1)"],
)  # fmt: skip
def test_oa03_sign_in_only_returns_to_same_origin_paths(console: Console, target: str) -> None:
    client = console.client()
    page = client.get("/login", params={"next": target})
    form = {"email": "admin@example.com", "password": "correct horse battery staple", "next": target}
    answer = client.post("/login", data={**form, "csrf_token": csrf_of(page.text)})
    assert answer.status_code == 303
    assert same_origin(console, answer.headers["location"])
    again = client.get("/login", params={"next": target})  # signed in now: straight on
    assert same_origin(console, again.headers["location"])
    encoded = client.get(f"/login?next={quote(target, safe='')}")  # the query as a browser encodes it
    assert same_origin(console, encoded.headers["location"])


def test_the_callback_must_be_https_except_on_loopback() -> None:
    check_redirect_uri("https://appgov.example.com/integrations/atlassian/callback")
    check_redirect_uri("http://127.0.0.1:8000/integrations/atlassian/callback")
    with pytest.raises(DomainError, match="must use https"):
        check_redirect_uri("http://appgov.example.com/integrations/atlassian/callback")


def test_cs07_the_callback_moves_on_at_once_and_code_and_state_go_nowhere(
    console: Console, signed: SignedIn
) -> None:
    callback = answered(console, signed)
    secret_params = query_of(callback)
    answer = signed.get(callback)
    assert answer.status_code == 303
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.content == b""
    onward = answer.headers["location"]
    assert re.fullmatch(r"/integrations/atlassian/connect\?flow=\d+", onward)
    picker = signed.get(onward)
    for value in (secret_params["code"], secret_params["state"]):
        assert value not in onward
        assert value not in picker.text
        assert value not in console.log()
    # a refused answer shows a page that loads nothing from elsewhere
    error_page = signed.get(callback)
    assert error_page.headers["referrer-policy"] == "no-referrer"
    for link in re.findall(r'(?:src|href)="([^"]+)"', error_page.text):
        assert link.startswith("/"), link
