"""The audit trail in the console (AZ-06), in process on both databases: sign-in, its failure, sign-out
and a denied request each write exactly one record, with the answer's request id and no secret; the
Audit page, its exports and ``/api/v1/audit`` show, filter and page it for administrators only, one
row per event and hostile text escaped; no route changes or deletes an event."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select
from starlette.testclient import TestClient

from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal, Via
from appgov.accounts.users import create_user
from appgov.audit.trail import AuditOutcome, record_audit
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import AuditEvent
from appgov.web.app import create_app
from support.console import csrf_of

PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "Tr0ub4dor&3 is not it"
EMAILS = {Role.ADMIN: "ada@example.com", Role.ANALYST: "ann@example.com", Role.VIEWER: "vic@example.com"}
TRAIL_PATHS = ("/audit", "/audit/export.csv", "/audit/export.json", "/api/v1/audit", "/api/v1/audit/export")


@pytest.fixture(scope="module")
def runtime(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """One console's runtime and users per database; each test reads only the events it wrote."""
    data_dir = tmp_path_factory.mktemp("data")
    runtime = Runtime.start(Settings(data_dir=data_dir, database_url=module_database_url))
    with runtime.sessions.begin() as session:
        for role, email in EMAILS.items():
            create_user(session, email, "", PASSWORD, runtime.clock.now(), role=role)
    return runtime


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Signs in; the session's CSRF token."""
    form = {"email": email, "password": password, "csrf_token": csrf_of(client.get("/login").text)}
    assert client.post("/login", data=form).status_code == 303
    token: str = client.get("/api/v1/session").json()["csrf_token"]
    return token


def events_after(runtime: Runtime, mark: int) -> list[AuditEvent]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.id > mark).order_by(AuditEvent.id)))


def last_id(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return max(session.scalars(select(AuditEvent.id)), default=0)


def the_one_record(runtime: Runtime, mark: int, answer: httpx.Response) -> AuditEvent:
    """The one record the request ``answer`` answered wrote: when, from where, and its request id."""
    (event,) = events_after(runtime, mark)
    assert event.request_id == answer.headers["x-request-id"]
    assert event.address == "testclient"  # the client's address as the server saw it
    assert event.at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - event.at) < timedelta(minutes=5)
    return event


def test_sign_in_its_failure_and_sign_out_each_write_one_record_without_the_password(
    runtime: Runtime, client: TestClient
) -> None:
    admin = EMAILS[Role.ADMIN]
    mark = last_id(runtime)
    form = {"email": admin, "password": WRONG_PASSWORD, "csrf_token": csrf_of(client.get("/login").text)}
    failed = client.post("/login", data=form)
    assert failed.status_code == 401
    event = the_one_record(runtime, mark, failed)
    assert (event.actor, event.actor_via, event.action, event.target, event.outcome) == (
        admin, "console", "signin.failed", admin, "failure"
    )  # fmt: skip
    with runtime.sessions() as session:
        stored = [str(value) for row in session.execute(select(AuditEvent.__table__)) for value in row]
    assert not any(WRONG_PASSWORD in value or PASSWORD in value for value in stored)

    mark = last_id(runtime)
    form = {"email": admin, "password": PASSWORD, "csrf_token": csrf_of(client.get("/login").text)}
    succeeded = client.post("/login", data=form)
    event = the_one_record(runtime, mark, succeeded)
    assert (event.actor, event.action, event.target, event.outcome) == (
        admin,
        "signin.succeeded",
        admin,
        "success",
    )
    assert event.actor_user_id is not None
    assert PASSWORD not in json.dumps(event.detail)

    csrf_token = client.get("/api/v1/session").json()["csrf_token"]
    mark = last_id(runtime)
    signed_out = client.post("/logout", data={"csrf_token": csrf_token})
    assert signed_out.status_code == 303
    event = the_one_record(runtime, mark, signed_out)
    assert (event.actor, event.action, event.outcome) == (admin, "signout", "success")


def test_a_viewer_posting_to_a_domains_manage_route_gets_403_and_one_denied_record(
    runtime: Runtime, client: TestClient
) -> None:
    csrf_token = sign_in(client, EMAILS[Role.VIEWER])
    mark = last_id(runtime)
    denied = client.post("/domains/1/delete", data={"csrf_token": csrf_token, "confirm": "true"})
    assert denied.status_code == 403
    event = the_one_record(runtime, mark, denied)
    assert (event.actor, event.action, event.target, event.outcome) == (
        EMAILS[Role.VIEWER], "access.denied", "POST /domains/1/delete", "denied"
    )  # fmt: skip
    assert event.detail == {"permission": "domains.manage"}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST])
def test_viewers_and_analysts_neither_see_nor_read_the_trail(
    runtime: Runtime, client: TestClient, role: Role
) -> None:
    sign_in(client, EMAILS[role])
    assert [client.get(path).status_code for path in TRAIL_PATHS] == [403] * len(TRAIL_PATHS)
    assert 'href="/audit"' not in client.get("/apps").text


def test_no_route_changes_or_deletes_an_audit_event(runtime: Runtime) -> None:
    routes = [(c.path, c.original_route) for c in iter_route_contexts(create_app(runtime).routes)]
    trail = {
        (method, path) for path, route in routes if isinstance(route, APIRoute) and "audit" in path
        for method in route.methods
    }  # fmt: skip
    assert trail == {("GET", path) for path in TRAIL_PATHS}


def seeded(runtime: Runtime, count: int, actor: str) -> list[int]:
    """``count`` events by ``actor`` a minute apart, alternately a sign-in's and a domain's; their ids
    newest first."""
    who = Principal(actor, Via.API, user_id=9, role="admin", address="10.0.0.9", request_id="r")
    start = datetime(2026, 12, 1, tzinfo=UTC)
    with runtime.sessions.begin() as session:
        ids = [
            record_audit(
                session, who, "domain.added" if n % 2 else "signin.succeeded", f"https://site{n}.atlassian.net",
                start + timedelta(minutes=n),
            ).id
            for n in range(count)
        ]  # fmt: skip
    return ids[::-1]


def rows_of(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-event="(\d+)"', html)]


def test_the_page_filters_pages_and_exports_what_it_shows(runtime: Runtime, client: TestClient) -> None:
    sign_in(client, EMAILS[Role.ADMIN])
    newest = seeded(runtime, 120, "page@example.com")
    domains = newest[::2]  # the domain.added events, every other one, 60 in all
    page = client.get("/audit?actor=page@&action=domain.&until=2026-12-02")
    assert page.status_code == 200
    assert 'href="/audit" aria-current="page">Audit</a>' in page.text
    assert rows_of(page.text) == domains[:50]
    assert '<span id="total">60 events</span>' in page.text
    older = re.search(r'id="next-page" href="([^"]+)"', page.text)
    assert older is not None
    assert rows_of(client.get(older.group(1).replace("&amp;", "&")).text) == domains[50:]
    assert 'href="/audit/export.csv?actor=page%40&amp;action=domain.&amp;until=2026-12-02"' in page.text
    exported = client.get("/audit/export.csv?actor=page@&action=domain.&until=2026-12-02")
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert [int(row["id"]) for row in csv.DictReader(io.StringIO(exported.text))] == domains
    as_json = client.get("/audit/export.json?action=signin.succeeded&actor=page@").json()
    assert len(as_json) == 60
    assert {row["action"] for row in as_json} == {"signin.succeeded"}
    wrong = client.get("/audit?since=last+week")
    assert "since is a date" in wrong.text
    assert rows_of(wrong.text) == []
    assert client.get("/audit/export.csv?since=last+week").status_code == 400


HOSTILE = '"><script>alert(1)</script>\u202egnp.exe\r\n</td></tr><tr data-event="999">' + "x" * 400


def test_hostile_text_renders_escaped_clipped_and_one_row_per_event(
    runtime: Runtime, client: TestClient
) -> None:
    sign_in(client, EMAILS[Role.ADMIN])
    mark = last_id(runtime)
    with runtime.sessions.begin() as session:
        hostile = Principal("mallory@evil.example" + HOSTILE, Via.API, address="10.0.0.1", request_id="r")
        record_audit(session, hostile, "domain.added", HOSTILE, runtime.clock.now(), note=HOSTILE)
    page = client.get("/audit?actor=evil.example")
    assert rows_of(page.text) == [mark + 1]
    assert "<script>" not in page.text
    assert (
        page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 6
    )  # actor, target, detail: text and title
    clipped = re.findall(r'<span class="clip" title="([^"]*)"><bdi>', page.text)
    assert any(title.endswith("x" * 400) for title in clipped)  # the whole value on hover
    assert "\r" not in page.text
    assert "\n</td></tr>" not in page.text


def test_the_api_pages_filters_and_exports(runtime: Runtime, client: TestClient) -> None:
    sign_in(client, EMAILS[Role.ADMIN])
    newest = seeded(runtime, 5, "api@example.com")
    first = client.get("/api/v1/audit?actor=api@&per_page=2").json()
    assert [item["id"] for item in first["items"]] == newest[:2]
    assert (first["total"], first["newer_after"], first["older_before"]) == (5, None, newest[1])
    assert set(first["items"][0]) == {
        "id", "at", "actor", "actor_user_id", "via", "action", "target", "outcome", "address", "request_id",
        "detail",
    }  # fmt: skip
    second = client.get(f"/api/v1/audit?actor=api@&per_page=2&before={first['older_before']}").json()
    assert [item["id"] for item in second["items"]] == newest[2:4]
    back = client.get(f"/api/v1/audit?actor=api@&per_page=2&after={second['newer_after']}").json()
    assert back["items"] == first["items"]
    assert client.get("/api/v1/audit?per_page=101").status_code == 422
    assert client.get("/api/v1/audit?outcome=maybe").status_code == 400
    exported = client.get("/api/v1/audit/export?format=csv&actor=api@&action=domain.&outcome=success")
    assert [int(row["id"]) for row in csv.DictReader(io.StringIO(exported.text))] == newest[1::2]
    as_json = client.get(
        f"/api/v1/audit/export?actor=api@&outcome={AuditOutcome.SUCCESS}&target=site4"
    ).json()
    assert [row["id"] for row in as_json] == [newest[0]]
