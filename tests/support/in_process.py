"""The real app in-process with a clock a test moves, an administrator, and browsers (each its own
cookies) that sign in and post forms with their session's CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from appgov.accounts.permissions import Role
from appgov.accounts.users import create_user
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.web.app import create_app
from support.clock import FakeClock
from support.console import csrf_of

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
ADMIN = "ada@example.com"


def started(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on SQLite with a ``FakeClock`` at ``START`` and the administrator ``ADMIN``."""
    runtime = Runtime.start(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'appgov.db'}"))
    runtime.clock = FakeClock(START)
    with runtime.sessions.begin() as session:
        create_user(session, ADMIN, "Ada", PASSWORD, START, role=Role.ADMIN)
    yield runtime
    runtime.engine.dispose()


class Browser:
    """One browser: its own cookies, and the CSRF token of its session once signed in."""

    def __init__(self, runtime: Runtime) -> None:
        self.client = TestClient(create_app(runtime), follow_redirects=False)
        self.csrf = ""

    def sign_in(self, email: str) -> Browser:
        form = {"email": email, "password": PASSWORD, "csrf_token": csrf_of(self.client.get("/login").text)}
        assert self.client.post("/login", data=form).status_code == 303
        self.csrf = self.client.get("/api/v1/session").json()["csrf_token"]
        return self

    def post(self, path: str, **form: str) -> str:
        """Post a form; where the answer redirects to."""
        response = self.client.post(path, data={**form, "csrf_token": self.csrf})
        assert response.status_code == 303, response.text[:400]
        return str(response.headers["location"])

    def role(self) -> str | None:
        answer = self.client.get("/api/v1/session")
        return str(answer.json()["role"]) if answer.status_code == 200 else None


def member(runtime: Runtime, email: str, role: Role = Role.ANALYST) -> int:
    """A user with ``PASSWORD``; their id."""
    with runtime.sessions.begin() as session:
        return create_user(session, email, email.split("@")[0], PASSWORD, START, role=role).id
