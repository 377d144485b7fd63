"""The outside probe of issue 11, against the real ``appgov serve`` over HTTP, on SQLite and on
PostgreSQL: every route taking an id gets ids no database can hold, text carries NUL bytes and lone
surrogates, a secret arrives far too long, and a user is attacked from twelve addresses before signing
in from a thirteenth. No answer is a server error, nothing sent comes back, and the user gets in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from support.console import ADMIN_EMAIL, ADMIN_PASSWORD, Console, SignedIn, csrf_of
from support.simulator import Simulator

ROUTES = yaml.safe_load((Path(__file__).parent / "authz_matrix.yaml").read_text())["routes"]
ID_PARAM = re.compile(r"\{(?!session_id)\w+_id\}")  # a session's id is its handle, a string
BAD_IDS = ["0", "-1", str(2**31), str(2**63), str(2**64), "1" + "0" * 40, "1e3", "abc", "%00", "%ED%A0%80"]
CANARY = "probe-canary-" + "k" * 2100  # longer than any API token, password or field appgov takes


@pytest.fixture(scope="module")
def console(sim: Simulator, module_database_url: str) -> Iterator[Console]:
    # the proxy is trusted so that each attempt can come from an address of its own
    running = Console(sim, APPGOV_DATABASE_URL=module_database_url, APPGOV_TRUSTED_PROXIES="127.0.0.1")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(console: Console) -> SignedIn:
    return console.sign_in()


def assert_sound(answer: httpx.Response, *sent: str) -> None:
    """Not a server error, and none of ``sent`` in the answer."""
    assert answer.status_code < 500, (answer.request.method, str(answer.request.url), answer.text[:300])
    for value in sent:
        assert value not in answer.text
        assert value not in str(answer.headers)


def send(admin: SignedIn, method: str, path: str) -> httpx.Response:
    if path.startswith("/api/") or method == "GET":
        return admin.api(method, path, json={} if method != "GET" else None)
    return admin.post_form(path)


def test_ids_no_database_can_hold_are_refused_on_every_route_that_takes_one(admin: SignedIn) -> None:
    id_routes = [(row["method"], row["path"]) for row in ROUTES if ID_PARAM.search(row["path"])]
    assert len(id_routes) > 25
    for method, path in id_routes:
        for bad in BAD_IDS:
            answer = send(admin, method, ID_PARAM.sub(bad, path))
            assert_sound(answer)
            assert answer.status_code in (400, 404, 405, 422), (method, path, bad, answer.status_code)


@pytest.mark.parametrize(
    "path",
    ["/api/v1/apps?search=a%00b", "/apps?search=a%00b", "/api/v1/audit?actor=%00", "/audit?action=%00"],
)
def test_a_nul_byte_in_a_query_is_refused(admin: SignedIn, path: str) -> None:
    answer = admin.get(path)
    assert_sound(answer)
    assert answer.status_code in (400, 422)


@pytest.mark.parametrize(
    "path", ["/api/v1/apps?search=%ED%A0%80", "/apps?search=%ED%A0%80", "/audit?action=%ED%A0%80"]
)
def test_a_surrogate_encoded_in_a_query_is_no_server_error(admin: SignedIn, path: str) -> None:
    assert_sound(admin.get(path))  # not UTF-8: read as U+FFFD, which matches nothing


def test_a_lone_surrogate_in_a_json_body_is_refused(admin: SignedIn) -> None:
    body = '{"site_url": "https://acme.atlassian.net", "email": "\\ud800", "api_token": "x"}'
    answer = admin.api("POST", "/api/v1/domains", content=body, headers={"Content-Type": "application/json"})
    assert_sound(answer)
    assert answer.status_code in (400, 422)


def test_a_nul_in_the_sign_in_email_is_refused_before_any_account_is_read(console: Console) -> None:
    client = console.client()
    form = {
        "email": "ada\x00@example.com",
        "password": "x" * 20,
        "csrf_token": csrf_of(client.get("/login").text),
    }
    answer = client.post("/login", data=form)
    assert_sound(answer)
    assert answer.status_code in (400, 401, 422)


def test_a_lone_surrogate_in_a_bearer_token_is_unauthorized(console: Console) -> None:
    answer = console.client().get("/api/v1/domains", headers=[(b"Authorization", b"Bearer agv_\xed\xa0\x80")])
    assert answer.status_code == 401


def test_secrets_far_too_long_are_refused_and_never_sent_back(admin: SignedIn, console: Console) -> None:
    body = {"site_url": "https://acme.atlassian.net", "email": ADMIN_EMAIL, "api_token": CANARY}
    answer = admin.api("POST", "/api/v1/domains", json=body)
    assert answer.status_code == 422
    assert_sound(answer, CANARY, CANARY[:64])
    org_key = admin.api("POST", "/api/v1/organizations", json={"api_key": CANARY})
    assert org_key.status_code == 422
    assert_sound(org_key, CANARY, CANARY[:64])
    assert_sound(
        admin.post_form("/integrations/atlassian/organization", {"api_key": CANARY}), CANARY, CANARY[:64]
    )
    client = console.client()
    form = {"email": ADMIN_EMAIL, "password": CANARY, "csrf_token": csrf_of(client.get("/login").text)}
    assert_sound(client.post("/login", data=form), CANARY, CANARY[:64])
    bearer = console.client().get("/api/v1/domains", headers={"Authorization": f"Bearer agv_{CANARY}"})
    assert bearer.status_code == 401
    assert_sound(bearer, CANARY[:64])


def sign_in_from(console: Console, address: str, password: str) -> httpx.Response:
    client = console.client()
    form = {"email": ADMIN_EMAIL, "password": password, "csrf_token": csrf_of(client.get("/login").text)}
    return client.post("/login", data=form, headers={"X-Forwarded-For": address})


def test_twelve_addresses_failing_leave_the_right_password_from_a_thirteenth_signing_in(
    console: Console,
) -> None:
    for n in range(1, 13):
        assert sign_in_from(console, f"198.51.100.{n}", f"not the password {n}").status_code in (401, 429)
    assert sign_in_from(console, "198.51.100.13", ADMIN_PASSWORD).status_code == 303
