"""WS-03: every state-changing route of the app, whoever added it, refuses a forged request (403)
with no side effect: without the CSRF token, with another session's token, or cross-site (an evil
``Origin`` or ``Sec-Fetch-Site: cross-site``). And no GET route changes the database.

The routes come from the application object itself (``create_app(...).routes``), so a route added
later is covered without touching this test; the requests go to the real ``appgov serve``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import Base, WebSession
from appgov.web.app import create_app
from appgov.web.auth import UNSAFE_METHODS
from support.console import Console, SignedIn, console_db
from support.integrations import domain_named, running_console, wait_idle


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    yield from running_console()


@pytest.fixture(scope="module")
def connected(console: Console) -> int:
    """A domain (with a sync finished) that a forged delete, reconnect or sync would touch."""
    signed = console.sign_in()
    admin = console.sim.state["accounts"]["site_admin"]
    body = {
        "site_url": console.sim.site_url("acme"),
        "email": admin["email"],
        "api_token": admin["api_token"],
    }
    assert signed.api("POST", "/api/v1/domains", json=body).status_code == 201
    domain = domain_named(console, "acme")
    assert domain is not None
    wait_idle(console, domain.id)
    return domain.id


@pytest.fixture(scope="module")
def every_route(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    """(method, path template) of every route the console serves."""
    data_dir = tmp_path_factory.mktemp("routes")
    app = create_app(
        Runtime.start(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'r.db'}"))
    )
    # included routers are flattened lazily: walk the effective routes, as request routing does
    return [
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path and route.methods
        for method in sorted(route.methods)
    ]


def filled(path: str, domain_id: int) -> str:
    """The path with every parameter naming the connected domain (or any other object by that id)."""
    return re.sub(r"\{[^}]+\}", str(domain_id), path)


def snapshot(console: Console) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (a session's last-seen time aside: reading a page renews it)."""
    rows = {}
    with console_db(console) as session:
        for table in Base.metadata.sorted_tables:
            columns = [
                c
                for c in table.columns
                if not (table.name == WebSession.__tablename__ and c.name == "last_seen_at")
            ]
            rows[table.name] = sorted(map(tuple, session.execute(select(*columns))), key=repr)
    return rows


def forgeries(signed: SignedIn, other: SignedIn) -> dict[str, dict[str, str]]:
    """The headers of each forged request; the session's own cookie is always there."""
    evil_origin = {"X-CSRF-Token": signed.csrf_token, "Origin": "https://evil.example"}
    return {
        "no token": {},
        "another session's token": {"X-CSRF-Token": other.csrf_token},
        "evil origin": evil_origin,
        "cross-site fetch": {"X-CSRF-Token": signed.csrf_token, "Sec-Fetch-Site": "cross-site"},
        "form token of another session": {"Content-Type": "application/x-www-form-urlencoded"},
    }


def test_the_routes_under_test_include_every_lifecycle_action(every_route: list[tuple[str, str]]) -> None:
    unsafe = {(m, p) for m, p in every_route if m in UNSAFE_METHODS}
    assert {
        ("POST", "/login"), ("POST", "/logout"), ("POST", "/integrations/atlassian/add"),
        ("POST", "/integrations/atlassian/connect"), ("POST", "/domains/{domain_id}/reconnect"),
        ("POST", "/domains/{domain_id}/api-key"), ("POST", "/domains/{domain_id}/delete"),
        ("POST", "/api/v1/domains"), ("PUT", "/api/v1/domains/{domain_id}/api-token"),
        ("DELETE", "/api/v1/domains/{domain_id}"),
    } <= unsafe  # fmt: skip


def test_every_unsafe_route_refuses_forged_requests_with_no_side_effect(
    console: Console, connected: int, every_route: list[tuple[str, str]]
) -> None:
    signed, other = console.sign_in(), console.sign_in()
    before = snapshot(console)
    refused = []
    for method, path in every_route:
        if method not in UNSAFE_METHODS:
            continue
        for kind, headers in forgeries(signed, other).items():
            body = f"csrf_token={other.csrf_token}" if "form" in kind else None
            answer = signed.client.request(method, filled(path, connected), headers=headers, content=body)
            assert answer.status_code == 403, (method, path, kind, answer.status_code, answer.text[:200])
            refused.append((method, path, kind))
    assert snapshot(console) == before
    assert signed.get("/api/v1/session").status_code == 200  # not even signed out
    assert len(refused) >= 10 * 5


def test_no_get_route_changes_the_database(
    console: Console, connected: int, every_route: list[tuple[str, str]]
) -> None:
    signed = console.sign_in()
    before = snapshot(console)
    for method, path in every_route:
        if method == "GET":
            answer = signed.get(filled(path, connected))
            assert answer.status_code < 500, (path, answer.status_code)
    assert snapshot(console) == before
