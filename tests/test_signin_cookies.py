"""WS-01: over https the console's cookies are ``__Host-`` prefixed, Secure, HttpOnly, Path=/, with no
Domain; on plain-http loopback (a local demo) they keep their bare names, which browsers require
without Secure. Signing in and out works under both names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from appgov.accounts.permissions import Role
from appgov.accounts.users import create_user
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.web.app import create_app
from support.clock import FakeClock
from support.console import csrf_of
from support.in_process import ADMIN, PASSWORD, START

HTTPS, LOOPBACK = "https://appgov.example.com", "http://127.0.0.1:8000"


@pytest.fixture(scope="module", params=[HTTPS, LOOPBACK])
def browser(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("cookies")
    settings = Settings(
        data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'appgov.db'}", public_url=request.param
    )
    runtime = Runtime.start(settings)
    runtime.clock = FakeClock(START)
    with runtime.sessions.begin() as session:
        create_user(session, ADMIN, "Ada", PASSWORD, START, role=Role.ADMIN)
    yield TestClient(create_app(runtime), base_url=request.param, follow_redirects=False)
    runtime.engine.dispose()


def set_cookies(headers: list[str]) -> dict[str, list[str]]:
    """Each Set-Cookie by cookie name: its attributes, lowercased (the value left out)."""
    found = {}
    for header in headers:
        name_value, *attributes = [part.strip() for part in header.split(";")]
        found[name_value.split("=", 1)[0]] = sorted(a.lower() for a in attributes)
    return found


def sign_in_cookies(browser: TestClient) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    page = browser.get("/login")
    form = {"email": ADMIN, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    answer = browser.post("/login", data=form)
    assert answer.status_code == 303
    return set_cookies(page.headers.get_list("set-cookie")), set_cookies(
        answer.headers.get_list("set-cookie")
    )


def test_cookies_are_host_prefixed_and_secure_over_https_and_bare_on_loopback_http(
    browser: TestClient,
) -> None:
    prefix, secure = ("__Host-", ["secure"]) if str(browser.base_url).startswith("https") else ("", [])
    form_page, signed_in = sign_in_cookies(browser)
    assert form_page == {
        f"{prefix}appgov_login_csrf": sorted(
            ["httponly", "max-age=3600", "path=/", "samesite=strict", *secure]
        )
    }
    session = signed_in[f"{prefix}appgov_session"]
    assert sorted(a for a in session if not a.startswith("max-age=")) == sorted(
        ["httponly", "path=/", "samesite=lax", *secure]
    )
    assert all(not attribute.startswith("domain") for cookie in signed_in.values() for attribute in cookie)
    assert set(signed_in) == {
        f"{prefix}appgov_session",
        f"{prefix}appgov_device",
        f"{prefix}appgov_login_csrf",
    }
    # the name written is the name read: the session works, and signing out ends it
    assert browser.get("/api/v1/session").json()["email"] == ADMIN
    csrf_token = browser.get("/api/v1/session").json()["csrf_token"]
    assert browser.post("/logout", data={"csrf_token": csrf_token}).status_code == 303
    assert browser.get("/api/v1/session").status_code == 401
