"""The authorization matrix's world: tests/authz_matrix.yaml read into rows, the product app with one
test-only route behind the real revocation check, two domains inserted directly, users of every kind
signed in through the real sign-in form, and a snapshot of the database to prove a denial changed
nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient

from appgov.accounts.permissions import Permission, Role
from appgov.accounts.principal import Principal, Via
from appgov.accounts.rights import ALL_DOMAINS, grant
from appgov.accounts.sessions import open_session
from appgov.accounts.users import create_user
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import AuditEvent, Base, Domain, User
from appgov.web.app import create_app
from appgov.web.auth import SESSION_COOKIE, Viewer, require

MATRIX = Path(__file__).parent.parent / "authz_matrix.yaml"
LEVELS = ("public", "viewer", "analyst", "admin")  # in order; "revoker" stands apart
PASSWORD = "correct horse battery staple"
# what a request may change without being a write: the audit trail (a denial adds its record), when a
# session or an API token was last used, and the sign-in throttle
VOLATILE_TABLES = frozenset({"audit_events", "login_throttles"})
VOLATILE_COLUMNS = frozenset({("web_sessions", "last_seen_at"), ("personal_tokens", "last_used_at")})


@dataclass(frozen=True)
class Row:
    """One route of the matrix and the least it needs."""

    method: str
    path: str
    needs: str  # one of LEVELS, or "revoker"
    signed_out: int | None = None  # the answer signed out, when not the sign-in redirect or 401

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def unsafe(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")

    def yaml(self) -> str:
        return f"  - {{method: {self.method}, path: {_quoted(self.path)}, needs: ?}}"


def _quoted(path: str) -> str:
    return f'"{path}"' if "{" in path else path


def load_matrix(section: str = "routes") -> list[Row]:
    document = yaml.safe_load(MATRIX.read_text())
    return [Row(**entry) for entry in document[section]]


@dataclass(frozen=True)
class Actor:
    """Who asks: a role (None: signed out) and the domains they hold the revocation right for."""

    name: str
    role: Role | None
    revokes: tuple[str, ...] = ()  # domain labels ("A"), or ("*",) for every domain

    def may(self, row: Row, domain: str = "A") -> bool:
        if row.needs == "public":
            return True
        if self.role is None:
            return False
        if row.needs == "revoker":
            return "*" in self.revokes or domain in self.revokes
        return LEVELS.index(self.role.value) >= LEVELS.index(row.needs)


ANONYMOUS = Actor("anonymous", None)
ACTORS = (
    ANONYMOUS,
    Actor("viewer", Role.VIEWER),
    Actor("analyst", Role.ANALYST),
    Actor("admin", Role.ADMIN),  # no revocation right: the role does not imply it
    Actor("revoker-of-A", Role.VIEWER, ("A",)),
    Actor("admin-revoking-all", Role.ADMIN, ("*",)),
)

revocation_check = APIRouter()


@revocation_check.post("/api/v1/domains/{domain_id}/revocation-check")
def may_revoke_here(
    domain_id: int,
    _: Annotated[Viewer, require(Permission.APPS_REVOKE, domain_param="domain_id")],
) -> dict[str, int]:
    """Test-only: answers when the caller holds the revocation right for the domain in the path."""
    return {"domain_id": domain_id}


def app_with_revocation_check(runtime: Runtime) -> FastAPI:
    """The product app with the test-only revocation route: the same CSRF guard, sign-in handling and
    ``require`` as every product route."""
    app = create_app(runtime)
    app.include_router(revocation_check)
    return app


def insert_domain(runtime: Runtime, label: str) -> int:
    with runtime.sessions.begin() as session:
        domain = Domain(
            site_url=f"https://{label.lower()}.atlassian.net", name=label.lower(), products=["jira"],
            created_at=datetime.now(UTC), created_by="tester", created_via="cli",
        )  # fmt: skip
        session.add(domain)
        session.flush()
        return domain.id


def add_user(runtime: Runtime, email: str, role: Role) -> int:
    with runtime.sessions.begin() as session:
        return create_user(session, email, email, PASSWORD, datetime.now(UTC), role=role).id


def grant_right(runtime: Runtime, user_id: int, domain_id: int | None) -> None:
    granter = Principal("granter@example.com", Via.CLI)
    with runtime.sessions.begin() as session:
        grant(session, user_id, domain_id, granter, datetime.now(UTC))


LOGIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_out_client(app: FastAPI) -> TestClient:
    """A browser that opened the sign-in page: it holds the sign-in form's CSRF cookie and sends its
    token on every request, so unsafe requests reach the permission check instead of the CSRF guard."""
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    found = LOGIN_TOKEN.search(page.text)
    assert found, page.text
    client.headers["X-CSRF-Token"] = found.group(1)
    return client


def signed_in_client(app: FastAPI, email: str) -> TestClient:
    """A browser signed in through the real sign-in form, sending its session's CSRF token."""
    client = signed_out_client(app)
    form = {"email": email, "password": PASSWORD, "csrf_token": client.headers.pop("X-CSRF-Token")}
    signed_in = client.post("/login", data=form)
    assert signed_in.status_code == 303, signed_in.text
    session = client.get("/api/v1/session")
    assert session.status_code == 200, session.text
    client.headers["X-CSRF-Token"] = session.json()["csrf_token"]
    return client


@dataclass
class World:
    """One app on one database: domains A and B, a user per actor and their browsers."""

    runtime: Runtime
    app: FastAPI
    domains: dict[str, int]
    users: dict[str, int] = field(default_factory=dict)  # actor name -> user id
    clients: dict[str, TestClient] = field(default_factory=dict)

    @classmethod
    def start(cls, data_dir: Path, database_url: str) -> World:
        runtime = Runtime.start(Settings(data_dir=data_dir, database_url=database_url))
        domains = {label: insert_domain(runtime, label) for label in "AB"}
        world = cls(runtime, app_with_revocation_check(runtime), domains)
        for actor in ACTORS:
            world.clients[actor.name] = world.enrol(actor)
        return world

    def email(self, actor: Actor) -> str:
        return f"{actor.name.lower()}@example.com"

    def enrol(self, actor: Actor) -> TestClient:
        """The actor's user with their rights, signed in (or a signed-out browser for anonymous)."""
        if actor.role is None:
            return signed_out_client(self.app)
        user_id = add_user(self.runtime, self.email(actor), actor.role)
        self.users[actor.name] = user_id
        for label in actor.revokes:
            grant_right(self.runtime, user_id, ALL_DOMAINS if label == "*" else self.domains[label])
        return signed_in_client(self.app, self.email(actor))

    def fresh_client(self, actor: Actor) -> TestClient:
        """A browser of its own for the actor, in a new session opened directly: the sign-in form is
        proven once per actor, in ``enrol``, and its password hashing is slow."""
        if actor.role is None:
            return signed_out_client(self.app)
        with self.runtime.sessions.begin() as session:
            user = session.get_one(User, self.users[actor.name])
            token, row = open_session(session, user, datetime.now(UTC), timedelta(hours=1), "testclient", "")
            csrf_token = row.csrf_token
        client = TestClient(self.app, follow_redirects=False, headers={"X-CSRF-Token": csrf_token})
        client.cookies.set(SESSION_COOKIE, token)
        return client

    def denials(self) -> int:
        with self.runtime.sessions() as session:
            query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "access.denied")
            return session.scalar(query) or 0

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, but what a request may change without writing (VOLATILE_*)."""
        tables: dict[str, list[tuple[Any, ...]]] = {}
        with self.runtime.engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                if table.name in VOLATILE_TABLES:
                    continue
                columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE_COLUMNS]
                rows = connection.execute(select(*columns)).all()
                tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return tables
