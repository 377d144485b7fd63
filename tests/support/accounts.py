"""The console in-process (``TestClient`` over the real app) with an admin and a viewer, on a clock
the test moves: for the account, token and session tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from starlette.testclient import TestClient

from appgov.accounts.permissions import Role
from appgov.accounts.sessions import open_session
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import AuditEvent, User
from appgov.web.app import create_app
from appgov.web.auth import SESSION_COOKIE
from support.clock import FakeClock

SESSION_AGE = timedelta(hours=12)
ADMIN, VIEWER = "ada@example.com", "vic@example.com"
URL = "http://127.0.0.1:8000"  # the default public URL: plain-http loopback, so cookies are not Secure


class AccountConsole:
    """The app in-process with an admin and a viewer, on a clock the test moves."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.runtime = Runtime.start(Settings(data_dir=data_dir, database_url=database_url))
        self.clock = FakeClock(datetime.now(UTC))
        self.runtime.clock = self.clock
        self.app = create_app(self.runtime)
        with self.runtime.sessions.begin() as session:
            for email, name, role in ((ADMIN, "Ada", Role.ADMIN), (VIEWER, "Vic", Role.VIEWER)):
                # no password: these users never use the sign-in form
                session.add(
                    User(email=email, name=name, password_hash="!", role=role, created_at=self.clock.now())
                )

    def bearer(self, token: str | bytes) -> TestClient:
        return TestClient(self.app, base_url=URL, follow_redirects=False, headers={"Authorization": token})

    def sign_in(self, email: str, user_agent: str = "testclient") -> SignedIn:
        """A new browser session, as signing in opens it (the sign-in form has its own tests)."""
        with self.runtime.sessions.begin() as session:
            user = session.scalars(select(User).where(User.email == email)).one()
            cookie, row = open_session(session, user, self.clock.now(), SESSION_AGE, "127.0.0.1", user_agent)
        client = TestClient(self.app, base_url=URL, follow_redirects=False, cookies={SESSION_COOKIE: cookie})
        return SignedIn(client, row.csrf_token)

    def user_id(self, email: str) -> int:
        with self.runtime.sessions() as session:
            return session.scalars(select(User.id).where(User.email == email)).one()

    def set_user(self, email: str, **values: Any) -> None:
        """What an admin's change would do to the user's row."""
        with self.runtime.sessions.begin() as session:
            session.execute(update(User).where(User.email == email).values(**values))

    def audit(self, action: str) -> list[AuditEvent]:
        with self.runtime.sessions() as session:
            return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


class SignedIn:
    """A browser's session: form posts and API calls carry its CSRF token."""

    def __init__(self, client: TestClient, csrf_token: str) -> None:
        self.client, self.csrf_token = client, csrf_token

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.request(method, path, headers={"X-CSRF-Token": self.csrf_token}, **kwargs)

    def post_form(self, path: str, **data: str) -> Any:
        return self.client.post(path, data={**data, "csrf_token": self.csrf_token})

    def new_token(self, name: str = "ci", days: int = 30) -> dict[str, Any]:
        created = self.api("POST", "/api/v1/tokens", json={"name": name, "days": days})
        assert created.status_code == 201, created.text
        answer: dict[str, Any] = created.json()
        return answer
