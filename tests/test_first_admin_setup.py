"""WS-08: there is no default account. ``appgov serve`` on a database without users prints a one-time
setup link, valid an hour, that creates the first administrator: it is an admin invitation the system
makes (its token hashed at rest), which names no email, and dies once used or once any user exists."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from appgov.accounts.principal import cli_user
from appgov.accounts.users import create_user
from appgov.administration import users
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import Invitation, User
from appgov.web.app import create_app
from support.clock import FakeClock
from support.console import csrf_of, free_port
from support.in_process import PASSWORD, START

ROOT = cli_user("root")
FORM = {"email": "Ada@Example.com", "name": "Ada", "password": PASSWORD, "password_again": PASSWORD}


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Iterator[Runtime]:
    running = Runtime.start(Settings(data_dir=tmp_path, database_url=database_url))
    running.clock = FakeClock(START)
    yield running
    running.engine.dispose()


def setup_token(runtime: Runtime) -> str | None:
    with runtime.sessions.begin() as session:
        return users.invite_first_admin(session, ROOT, runtime.clock.now())


def post_setup(browser: TestClient, token: str, **form: str) -> httpx.Response:
    page = browser.get(f"/setup/{token}")
    assert page.status_code == 200, page.text[:300]
    return browser.post(f"/setup/{token}", data={**FORM, **form, "csrf_token": csrf_of(page.text)})


def test_the_setup_link_creates_the_first_admin_once(runtime: Runtime) -> None:
    token = setup_token(runtime)
    assert token is not None
    with runtime.sessions() as session:
        (invitation,) = session.scalars(select(Invitation))
        assert (invitation.email, invitation.role) == (None, "admin")
        assert token not in invitation.token_hash
        assert invitation.expires_at == START + timedelta(hours=1)
    browser = TestClient(create_app(runtime), follow_redirects=False)
    weak = post_setup(browser, token, password="password1234", password_again="password1234")
    assert weak.status_code == 400  # refused, and the link still works
    assert "most common" in weak.text
    assert "password1234" not in weak.text
    assert post_setup(browser, token).status_code == 303
    me = browser.get("/api/v1/session").json()
    assert (me["email"], me["role"]) == ("ada@example.com", "admin")
    assert TestClient(create_app(runtime)).get(f"/setup/{token}").status_code == 404
    assert browser.post(f"/setup/{token}", data={**FORM, "csrf_token": me["csrf_token"]}).status_code == 404
    assert setup_token(runtime) is None
    with runtime.sessions() as session:
        assert session.scalars(select(User.email)).all() == ["ada@example.com"]


def test_a_setup_link_is_dead_once_any_user_exists(runtime: Runtime) -> None:
    token = setup_token(runtime)
    assert token is not None
    with runtime.sessions.begin() as session:  # appgov users create-admin, meanwhile
        create_user(session, "bo@example.com", "Bo", PASSWORD, START)
    with runtime.sessions() as session:
        assert users.pending_invitations(session, START) == []
    assert TestClient(create_app(runtime)).get(f"/setup/{token}").status_code == 404


def test_a_setup_link_is_dead_after_an_hour(runtime: Runtime) -> None:
    token = setup_token(runtime)
    assert isinstance(runtime.clock, FakeClock)
    runtime.clock.advance(minutes=61)
    assert TestClient(create_app(runtime)).get(f"/setup/{token}").status_code == 404


def serve(data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    """``appgov serve`` on ``port``, once it answers; its console output goes to a file."""
    output = data_dir / f"serve-{time.monotonic_ns()}.out"
    env = {**os.environ, "APPGOV_DATA_DIR": str(data_dir), "APPGOV_PUBLIC_URL": f"http://127.0.0.1:{port}"}
    env.pop("APPGOV_DATABASE_URL", None)
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "appgov", "serve", "--port", str(port)], env=env, stdout=sink, stderr=sink
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, output.read_text()
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            return process, output
        except httpx.TransportError:
            time.sleep(0.1)  # polling for the server to listen, not a timing assumption
    process.kill()
    raise AssertionError(f"appgov serve did not start:\n{output.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


@pytest.mark.slow
def test_appgov_serve_prints_a_setup_link_only_while_no_user_exists(tmp_path: Path) -> None:
    port = free_port()
    process, output = serve(tmp_path, port)
    try:
        (link,) = re.findall(rf"http://127\.0\.0\.1:{port}/setup/\S+", output.read_text())
        with httpx.Client(follow_redirects=False, timeout=60) as browser:
            page = browser.get(link)
            form = {**FORM, "csrf_token": csrf_of(page.text)}
            assert browser.post(link, data=form).status_code == 303
            assert browser.get(f"http://127.0.0.1:{port}/api/v1/session").json()["role"] == "admin"
    finally:
        stop(process)
    process, output = serve(tmp_path, port)
    stop(process)
    assert "/setup/" not in output.read_text()
