"""Users over the REST API (the real app in-process, an admin's API token): reading users without any
secret, changing roles and accounts (never the last enabled admin's), inviting, rights, sessions and
tokens; 404 for an unknown id, 403 for those who do not manage users."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from appgov.accounts.permissions import Role
from appgov.accounts.tokens import issue_token
from appgov.runtime import Runtime
from appgov.storage.models import Domain, User, WebSession
from appgov.web.app import create_app
from support.console import csrf_of
from support.in_process import ADMIN, START, Browser, member, started


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    yield from started(tmp_path)


def _token(runtime: Runtime, email: str) -> str:
    with runtime.sessions.begin() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        return issue_token(session, user, "api", START, timedelta(days=30))[0]


def _api(runtime: Runtime, email: str = ADMIN) -> TestClient:
    client = TestClient(create_app(runtime), follow_redirects=False)
    client.headers["authorization"] = f"Bearer {_token(runtime, email)}"
    return client


def test_users_are_read_with_rights_sessions_and_tokens_but_no_secret(runtime: Runtime) -> None:
    user_id = member(runtime, "bo@example.com")
    Browser(runtime).sign_in("bo@example.com")
    token = _token(runtime, "bo@example.com")
    api = _api(runtime)
    listed = api.get("/api/v1/users").json()
    assert [u["email"] for u in listed] == [ADMIN, "bo@example.com"]
    assert listed[1]["live_sessions"] == 1
    detail = api.get(f"/api/v1/users/{user_id}")
    assert detail.json()["role"] == "analyst"
    assert len(detail.json()["sessions"]) == 1
    assert detail.json()["tokens"][0]["prefix"] == token[:10]
    with runtime.sessions() as session:
        user = session.get_one(User, user_id)
        secrets = [user.password_hash, token, *session.scalars(select(WebSession.id))]
    assert not [secret for secret in secrets if secret in detail.text]
    assert api.get("/api/v1/users/999").status_code == 404


def test_a_patch_changes_role_and_account_but_keeps_the_last_admin(runtime: Runtime) -> None:
    user_id = member(runtime, "cy@example.com")
    api = _api(runtime)
    with runtime.sessions() as session:
        ada = session.scalars(select(User.id).where(User.email == ADMIN)).one()
    refused = api.patch(f"/api/v1/users/{ada}", json={"role": "viewer"})
    assert refused.status_code == 409
    assert "last enabled admin" in refused.json()["detail"]
    changed = api.patch(f"/api/v1/users/{user_id}", json={"role": "admin", "disabled": True}).json()
    assert (changed["role"], changed["disabled_at"] is not None) == ("admin", True)
    assert api.patch(f"/api/v1/users/{user_id}", json={"disabled": False}).json()["disabled_at"] is None
    assert api.patch(f"/api/v1/users/{user_id}", json={"role": "root"}).status_code == 422
    assert api.patch(f"/api/v1/users/{user_id}", json={"admin": True}).status_code == 422


def test_an_invitation_comes_back_once_and_its_link_opens_the_join_form(runtime: Runtime) -> None:
    api = _api(runtime)
    made = api.post("/api/v1/invitations", json={"email": "dee@example.com", "role": "viewer"})
    assert made.status_code == 201
    link = made.json()["link"]
    assert link.startswith(f"{runtime.settings.public_url}/invitations/")
    form = Browser(runtime).client.get(link.removeprefix(runtime.settings.public_url))
    assert "dee@example.com" in form.text
    assert csrf_of(form.text)
    assert link not in str(api.get("/api/v1/users").json())
    taken = api.post("/api/v1/invitations", json={"email": ADMIN, "role": "viewer"})
    assert taken.status_code == 409
    assert api.post("/api/v1/invitations", json={"email": "x" * 400, "role": "viewer"}).status_code == 422


def test_the_revocation_right_is_granted_and_withdrawn_over_the_api(runtime: Runtime) -> None:
    user_id = member(runtime, "eve@example.com")
    with runtime.sessions.begin() as session:
        domain = Domain(
            name="acme", site_url="https://acme.atlassian.net", products=[], created_at=START,
            created_by="root", created_via="cli",
        )  # fmt: skip
        session.add(domain)
        session.flush()
        domain_id = domain.id
    api = _api(runtime)
    rights = f"/api/v1/users/{user_id}/revocation-rights"
    assert api.post(rights, json={"domain_id": domain_id}).json() == {"changed": True}
    assert api.post(rights, json={"domain_id": None}).json() == {"changed": True}
    assert api.post(rights, json={"domain_id": None}).json() == {"changed": False}
    assert api.post(rights, json={"domain_id": domain_id + 1}).status_code == 404
    held = api.get(f"/api/v1/users/{user_id}").json()["revocation_rights"]
    assert [r["domain_name"] for r in held] == [None, "acme"]
    assert api.delete(f"{rights}/all").json() == {"changed": True}
    assert api.delete(f"{rights}/{domain_id}").json() == {"changed": True}
    assert api.delete(f"{rights}/{domain_id}").json() == {"changed": False}


def test_sessions_are_ended_and_tokens_revoked_over_the_api(runtime: Runtime) -> None:
    user_id = member(runtime, "fay@example.com")
    laptop, phone = Browser(runtime).sign_in("fay@example.com"), Browser(runtime).sign_in("fay@example.com")
    token = _token(runtime, "fay@example.com")
    api = _api(runtime)
    sessions = api.get(f"/api/v1/users/{user_id}/sessions").json()
    assert len(sessions) == 2
    ended = api.delete(f"/api/v1/users/{user_id}/sessions/{sessions[0]['id']}")
    assert ended.json() == {"ended": 1}
    assert sorted(b.role() is None for b in (laptop, phone)) == [False, True]
    assert api.delete(f"/api/v1/users/{user_id}/sessions/{sessions[0]['id']}").status_code == 404
    assert api.delete(f"/api/v1/users/{user_id}/sessions").json() == {"ended": 1}
    token_id = api.get(f"/api/v1/users/{user_id}").json()["tokens"][0]["id"]
    assert api.delete(f"/api/v1/users/{user_id}/tokens/{token_id}").json()["revoked_at"] is not None
    assert api.delete(f"/api/v1/users/{user_id}/tokens/{token_id}").status_code == 404
    bearer = {"authorization": f"Bearer {token}"}
    assert TestClient(create_app(runtime)).get("/api/v1/session", headers=bearer).status_code == 401


def test_those_who_do_not_manage_users_are_refused(runtime: Runtime) -> None:
    member(runtime, "gus@example.com", Role.ANALYST)
    analyst = _api(runtime, "gus@example.com")
    assert analyst.get("/api/v1/users").status_code == 403
    invitation = {"email": "h@example.com", "role": "admin"}
    assert analyst.post("/api/v1/invitations", json=invitation).status_code == 403
