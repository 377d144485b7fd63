"""Sign-in: argon2id accounts created on the command line, sessions, throttling, CSRF on login."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.console import ADMIN_EMAIL, ADMIN_PASSWORD, Console, console_simulator, csrf_of, free_port


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    port = free_port()
    sim = console_simulator(port)
    running = Console(sim, port)
    yield running
    running.stop()
    sim.stop()


def test_pages_redirect_to_sign_in_and_the_api_answers_401(console: Console) -> None:
    client = console.client()
    page = client.get("/apps?page=2")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fapps%3Fpage%3D2"
    assert client.get("/api/v1/session").status_code == 401
    assert client.get("/api/openapi.json").status_code == 401


def test_the_admin_signs_in_and_the_password_is_stored_as_argon2id(console: Console) -> None:
    signed_in = console.sign_in()
    me = signed_in.get("/api/v1/session").json()
    assert me["email"] == ADMIN_EMAIL
    assert me["role"] == "admin"
    import sqlite3

    db = sqlite3.connect(console.data_dir / "appgov.db")
    (stored,) = db.execute("select password_hash from users").fetchone()
    assert stored.startswith("$argon2id$")
    assert ADMIN_PASSWORD not in stored


def test_session_cookie_is_httponly_and_samesite(console: Console) -> None:
    client = console.client()
    page = client.get("/login")
    response = client.post(
        "/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(console: Console) -> None:
    client = console.client()
    answers = []
    for email in (ADMIN_EMAIL, "nobody@example.com"):
        page = client.get("/login")
        answers.append(
            client.post(
                "/login",
                data={"email": email, "password": "wrong password!", "csrf_token": csrf_of(page.text)},
            )
        )
    assert [a.status_code for a in answers] == [401, 401]
    assert all("Wrong email or password." in a.text for a in answers)


def test_login_without_its_csrf_token_is_refused(console: Console) -> None:
    client = console.client()
    client.get("/login")
    response = client.post("/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 403
    assert "set-cookie" not in response.headers or "appgov_session" not in response.headers["set-cookie"]


def test_repeated_failures_are_slowed_with_retry_after(console: Console) -> None:
    client = console.client()
    victim = "throttled@example.com"
    statuses = []
    for _ in range(7):
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"email": victim, "password": "guess guess guess", "csrf_token": csrf_of(page.text)},
        )
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5
    assert 429 in statuses[5:]
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1


def test_signing_out_ends_the_session_for_good(console: Console) -> None:
    signed_in = console.sign_in()
    cookie = signed_in.client.cookies.get("appgov_session")
    assert signed_in.post_form("/logout").status_code == 303
    replay = console.client()
    replay.cookies.set("appgov_session", cookie or "")
    assert replay.get("/api/v1/session").status_code == 401


def test_create_admin_refuses_a_short_password(console: Console) -> None:
    done = console.run_cli("users", "create-admin", "second@example.com", stdin="short\n")
    assert done.returncode == 1
    assert "at least 12 characters" in done.stderr


def test_every_response_carries_the_security_headers(console: Console) -> None:
    response = console.client().get("/login")
    headers = response.headers
    assert "object-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
