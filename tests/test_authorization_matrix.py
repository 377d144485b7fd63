"""AZ-02: every actor against every route of tests/authz_matrix.yaml, on SQLite and PostgreSQL. A
signed-out caller is sent to sign-in (401 on the API), one below the route's need gets 403 and one
record in the audit trail, and a denied write changes no row; one at or above it is let through to
the route, whatever the route then answers of the minimal request (but never a server error).
AZ-04: the revocation right for one domain reaches no other. AZ-05: a lowered role, a disabled
account or a withdrawn right holds from the very next request."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.testclient import TestClient

from appgov.accounts.permissions import Role
from appgov.accounts.principal import Principal, Via
from appgov.accounts.rights import may_revoke, withdraw
from appgov.accounts.tokens import issue_token
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import User
from appgov.web.app import create_app
from support.authz import ACTORS, LEVELS, MATRIX, Actor, Row, World, app_with_revocation_check, load_matrix

ROWS = load_matrix("routes")
TEST_ROWS = load_matrix("test_routes")
ACTOR = {actor.name: actor for actor in ACTORS}
UNKNOWN_ID = "987654321"  # a job, flow or other object no test made: the route answers 404 itself


def routes_of(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, context.path)
        for context in iter_route_contexts(app.routes)  # the included routers' routes too
        if isinstance(context.original_route, APIRoute)
        for method in context.original_route.methods
    }


def test_the_matrix_names_every_route_of_the_app_and_nothing_else(tmp_path: Path) -> None:
    runtime = Runtime.start(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'db'}"))
    product, tested = routes_of(create_app(runtime)), routes_of(app_with_revocation_check(runtime))
    specified = {row.key for row in ROWS}

    unspecified = [Row(method, path, "?").yaml() for method, path in sorted(product - specified)]
    gone = [row.yaml() for row in ROWS if row.key not in product]
    assert unspecified + gone == [], (
        f"{MATRIX.name} and the app's routes differ.\nAdd under `routes:`, each with the least it needs"
        " (public, viewer, analyst, admin or revoker) as docs/security.md says:\n"
        + "\n".join(unspecified)
        + "\nRemove (the app has no such route):\n"
        + "\n".join(gone)
    )
    assert {row.key for row in TEST_ROWS} == tested - product


def test_each_route_is_named_once_with_a_need_the_table_has() -> None:
    keys = [row.key for row in ROWS + TEST_ROWS]
    assert sorted(k for k in keys if keys.count(k) > 1) == []
    assert {row.needs for row in ROWS + TEST_ROWS} <= {*LEVELS, "revoker"}


@pytest.fixture(scope="module")
def world(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = World.start(tmp_path_factory.mktemp("authz"), module_database_url)
    yield world
    world.runtime.engine.dispose()


def url_of(world: World, row: Row) -> str:
    """The route's path for domain A (a real domain, job or flow where the route needs one)."""
    values = {"domain_id": str(world.domains["A"]), "platform": "atlassian"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), UNKNOWN_ID), row.path)


def minimal_request(row: Row) -> dict[str, Any]:
    """An empty body of the kind the route reads. None confirms anything, so an allowed delete or
    replacement asks for its confirmation, and the domains stay for the cases after it."""
    if not row.unsafe:
        return {}
    return {"json": {}} if row.path.startswith("/api/") else {"data": {}}


CASES = [
    pytest.param(actor, row, id=f"{actor.name}:{row.method} {row.path}")
    for row in ROWS + TEST_ROWS
    for actor in ACTORS
]


@pytest.mark.parametrize(("actor", "row"), CASES)
def test_each_actor_gets_exactly_what_the_matrix_grants(world: World, actor: Actor, row: Row) -> None:
    allowed = actor.may(row)
    # each case rides a session of its own: one that signs out or ends its user's sessions cannot
    # sign the next case out (signed out, opening the sign-in page changes the browser's CSRF token)
    client = world.fresh_client(actor)
    before = world.snapshot() if row.unsafe and not allowed else None
    denials = world.denials()

    response = client.request(row.method, url_of(world, row), **minimal_request(row))

    if allowed:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
        return
    if actor.role is not None:
        assert response.status_code == 403, response.text
    elif row.signed_out is not None:
        assert response.status_code == row.signed_out, response.text
    elif row.path.startswith("/api/"):
        assert response.status_code == 401, response.text
    else:
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("/login?next="), response.headers["location"]
    # a signed-in denial is recorded once; a signed-out request never reached a permission to deny
    assert world.denials() == denials + (actor.role is not None)
    if before is not None:
        assert world.snapshot() == before


def bearer_of(world: World, actor_name: str) -> dict[str, str]:
    """A personal API token of the actor's user, as the REST API's callers send it."""
    with world.runtime.sessions.begin() as session:
        user = session.get_one(User, world.users[actor_name])
        token, _ = issue_token(session, user, "script", datetime.now(UTC), timedelta(days=1))
    return {"Authorization": f"Bearer {token}"}


def test_an_api_token_acts_with_its_users_role_and_no_more(world: World) -> None:
    """Without a cookie and exempt from CSRF, a token's request still meets the same permission."""
    sync = f"/api/v1/domains/{world.domains['A']}/sync"
    viewer, analyst = bearer_of(world, "viewer"), bearer_of(world, "analyst")
    before, denials = world.snapshot(), world.denials()

    refused = TestClient(world.app).post(sync, json={}, headers=viewer)

    assert refused.status_code == 403, refused.text
    assert (world.snapshot(), world.denials()) == (before, denials + 1)
    assert TestClient(world.app).post(sync, json={}, headers=analyst).status_code == 202


# --- AZ-04: the revocation right reaches its domains and no other --------------------------------


def revocation_check(domain_id: int | str) -> str:
    return f"/api/v1/domains/{domain_id}/revocation-check"


def test_the_revoker_of_one_domain_holds_nothing_on_another(world: World) -> None:
    a, b = world.domains["A"], world.domains["B"]
    with world.runtime.sessions() as session:
        revoker = Principal.of_user(session.get_one(User, world.users["revoker-of-A"]), Via.CONSOLE)
        assert may_revoke(session, revoker, a)
        assert not may_revoke(session, revoker, b)
    client = world.fresh_client(ACTOR["revoker-of-A"])
    assert client.post(revocation_check(a), json={}).status_code == 200
    before, denials = world.snapshot(), world.denials()

    refused = client.post(revocation_check(b), json={})

    assert refused.status_code == 403, refused.text
    assert (world.snapshot(), world.denials()) == (before, denials + 1)
    assert (
        world.fresh_client(ACTOR["admin-revoking-all"]).post(revocation_check(b), json={}).status_code == 200
    )


@pytest.mark.parametrize(
    "raw", ["abc", "-1", "1e3", "%201", "%D9%A3", str(2**63), str(2**64), "9" * 40, "0x10"]
)
def test_an_id_no_domain_can_have_is_refused_and_never_a_server_error(world: World, raw: str) -> None:
    for name in ("revoker-of-A", "admin-revoking-all"):
        answer = world.fresh_client(ACTOR[name]).post(revocation_check(raw), json={})
        assert answer.status_code in (403, 404, 422), (name, answer.status_code, answer.text)


# --- AZ-05: a changed role, a disabled account or a withdrawn right holds from the next request ---


def set_user(world: World, user_id: int, **values: Any) -> None:
    with world.runtime.sessions.begin() as session:
        user = session.get_one(User, user_id)
        for name, value in values.items():
            setattr(user, name, value)


def test_a_lowered_role_holds_from_the_next_request_without_signing_out(world: World) -> None:
    demoted = Actor("demoted", Role.ANALYST)
    client = world.enrol(demoted)
    sync = f"/api/v1/domains/{world.domains['A']}/sync"
    assert client.post(sync, json={}).status_code == 202

    set_user(world, world.users[demoted.name], role=Role.VIEWER)

    assert client.post(sync, json={}).status_code == 403
    assert client.get("/api/v1/session").json()["role"] == "viewer"  # still signed in


def test_a_disabled_user_is_signed_out_at_the_next_request_in_the_browser_and_the_api(world: World) -> None:
    disabled = Actor("disabled", Role.ADMIN)
    client = world.enrol(disabled)
    bearer = bearer_of(world, disabled.name)
    assert client.get("/integrations").status_code == 200
    assert client.get("/api/v1/domains", headers=bearer).status_code == 200

    set_user(world, world.users[disabled.name], disabled_at=datetime.now(UTC))

    page = client.get("/integrations")
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Fintegrations")
    assert client.get("/api/v1/session").status_code == 401
    assert client.get("/api/v1/domains", headers=bearer).status_code == 401


def test_a_withdrawn_revocation_right_holds_from_the_next_request(world: World) -> None:
    withdrawn = Actor("withdrawn", Role.VIEWER, ("A",))
    client = world.enrol(withdrawn)
    a = world.domains["A"]
    assert client.post(revocation_check(a), json={}).status_code == 200

    with world.runtime.sessions.begin() as session:
        assert withdraw(session, world.users[withdrawn.name], a)

    assert client.post(revocation_check(a), json={}).status_code == 403
