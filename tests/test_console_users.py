"""The Users pages over HTTP (the real app in-process): inviting and joining through the one-time link,
role changes, disabling and ended sessions holding from the very next request, the revocation right
shown on the domain page, and the Users link only for those who manage users."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from appgov.accounts.permissions import Role
from appgov.accounts.tokens import issue_token
from appgov.runtime import Runtime
from appgov.storage.models import AuditEvent, Domain, User, WebSession
from support.clock import FakeClock
from support.console import csrf_of
from support.in_process import ADMIN, PASSWORD, START, Browser, member, started


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    yield from started(tmp_path)


def _invitation_link(admin: Browser, email: str, role: str) -> str:
    page = admin.client.post("/users/invite", data={"email": email, "role": role, "csrf_token": admin.csrf})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    found = re.search(r'id="invitation-link">([^<]+)<', page.text)
    assert found
    return found.group(1).split("://", 1)[1].split("/", 1)[1]  # the path: the test client has no host


def test_an_invited_user_joins_through_the_link_once_and_is_signed_in(runtime: Runtime) -> None:
    admin = Browser(runtime).sign_in(ADMIN)
    path = "/" + _invitation_link(admin, "Bo@Example.com", "analyst")
    token = path.rsplit("/", 1)[1]
    listed = admin.client.get("/users").text
    assert "bo@example.com" in listed
    assert token not in listed

    bo = Browser(runtime)
    form = bo.client.get(path)
    assert "bo@example.com" in form.text
    joined = bo.client.post(path, data={
        "name": "Bo", "password": PASSWORD, "password_again": PASSWORD, "csrf_token": csrf_of(form.text),
    })  # fmt: skip
    assert (joined.status_code, joined.headers["location"]) == (303, "/integrations")
    assert bo.role() == "analyst"

    again = Browser(runtime).client.get(path)
    assert again.status_code == 404
    assert "not valid" in again.text
    with runtime.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
        assert {"user.invited", "user.joined"} <= set(actions)
        assert token not in str([e.detail for e in session.scalars(select(AuditEvent))])


def test_an_invitation_refuses_differing_passwords_and_stays_usable(runtime: Runtime) -> None:
    admin = Browser(runtime).sign_in(ADMIN)
    path = "/" + _invitation_link(admin, "cy@example.com", "viewer")
    cy = Browser(runtime)
    form = {"name": "Cy", "password": PASSWORD, "password_again": PASSWORD + "!"}
    refused = cy.client.post(path, data={**form, "csrf_token": csrf_of(cy.client.get(path).text)})
    assert refused.status_code == 400
    assert "The two passwords differ." in refused.text
    assert cy.client.get(path).status_code == 200


def test_an_expired_invitation_is_refused_like_an_unknown_one(runtime: Runtime) -> None:
    admin = Browser(runtime).sign_in(ADMIN)
    path = "/" + _invitation_link(admin, "late@example.com", "viewer")
    assert isinstance(runtime.clock, FakeClock)
    runtime.clock.advance(hours=72)
    expired, unknown = (Browser(runtime).client.get(p) for p in (path, "/invitations/unknown"))
    assert expired.status_code == unknown.status_code == 404
    assert expired.text == unknown.text


def test_the_users_pages_and_link_are_for_those_who_manage_users(runtime: Runtime) -> None:
    member(runtime, "vi@example.com", Role.VIEWER)
    viewer = Browser(runtime).sign_in("vi@example.com")
    assert 'href="/users"' not in viewer.client.get("/integrations").text
    assert viewer.client.get("/users").status_code == 403
    admin = Browser(runtime).sign_in(ADMIN)
    assert 'href="/users"' in admin.client.get("/integrations").text
    listed = admin.client.get("/users").text
    assert "vi@example.com" in listed
    assert "ada@example.com" in listed


def test_a_role_change_holds_from_the_next_request(runtime: Runtime) -> None:
    user_id = member(runtime, "an@example.com")
    analyst = Browser(runtime).sign_in("an@example.com")
    assert analyst.role() == "analyst"
    admin = Browser(runtime).sign_in(ADMIN)
    assert admin.post(f"/users/{user_id}/role", role="viewer") == f"/users/{user_id}?notice=role"
    assert analyst.role() == "viewer"
    assert "The role was changed" in admin.client.get(f"/users/{user_id}?notice=role").text


def test_the_last_admin_is_told_why_they_cannot_demote_themselves(runtime: Runtime) -> None:
    admin = Browser(runtime).sign_in(ADMIN)
    with runtime.sessions() as session:
        ada = session.scalars(select(User.id).where(User.email == ADMIN)).one()
    refused = admin.client.post(f"/users/{ada}/role", data={"role": "viewer", "csrf_token": admin.csrf})
    assert refused.status_code == 409
    assert "last enabled admin" in refused.text
    assert admin.role() == "admin"


def test_disabling_signs_the_user_out_and_stops_their_tokens_at_once(runtime: Runtime) -> None:
    user_id = member(runtime, "dee@example.com")
    dee = Browser(runtime).sign_in("dee@example.com")
    with runtime.sessions.begin() as session:
        token, _ = issue_token(session, session.get_one(User, user_id), "ci", START, timedelta(days=30))
    bearer = {"authorization": f"Bearer {token}"}
    assert dee.client.get("/api/v1/session", headers=bearer).status_code == 200
    admin = Browser(runtime).sign_in(ADMIN)
    confirm = admin.client.get(f"/users/{user_id}/disable")
    assert "Disable this account" in confirm.text
    assert admin.post(f"/users/{user_id}/disable") == f"/users/{user_id}?notice=disabled"
    assert dee.client.get("/integrations").headers["location"].startswith("/login")
    assert Browser(runtime).client.get("/api/v1/session", headers=bearer).status_code == 401
    assert admin.post(f"/users/{user_id}/enable") == f"/users/{user_id}?notice=enabled"
    assert Browser(runtime).sign_in("dee@example.com").role() == "analyst"


def test_an_admin_ending_a_users_sessions_signs_them_out_at_once(runtime: Runtime) -> None:
    user_id = member(runtime, "eve@example.com")
    laptop, phone = Browser(runtime).sign_in("eve@example.com"), Browser(runtime).sign_in("eve@example.com")
    admin = Browser(runtime).sign_in(ADMIN)
    page = admin.client.get(f"/users/{user_id}").text
    handles = re.findall(r'name="session" value="([0-9a-f]{16})"', page)
    assert len(handles) == 2
    with runtime.sessions() as session:
        assert not any(key in page for key in session.scalars(select(WebSession.id)))
    admin.post(f"/users/{user_id}/sessions/end", session=handles[0])
    assert sorted(b.role() is None for b in (laptop, phone)) == [False, True]
    assert admin.post(f"/users/{user_id}/sessions/end") == f"/users/{user_id}?notice=ended"
    assert laptop.role() is None
    assert phone.role() is None


def test_a_granted_revocation_right_shows_on_the_domain_page_until_withdrawn(runtime: Runtime) -> None:
    user_id = member(runtime, "fay@example.com")
    with runtime.sessions.begin() as session:
        domain = Domain(
            name="acme", site_url="https://acme.atlassian.net", products=[], created_at=START,
            created_by="root", created_via="cli",
        )  # fmt: skip
        session.add(domain)
        session.flush()
        domain_id = domain.id
    admin = Browser(runtime).sign_in(ADMIN)
    assert "Nobody" in admin.client.get(f"/domains/{domain_id}").text
    assert admin.post(f"/users/{user_id}/rights", domain=str(domain_id)).endswith("notice=granted")
    viewer_sees = Browser(runtime).sign_in("fay@example.com").client.get(f"/domains/{domain_id}").text
    assert "fay@example.com" in viewer_sees
    assert "acme" in admin.client.get("/users").text
    admin.post(f"/users/{user_id}/rights/withdraw", domain=str(domain_id))
    assert "fay@example.com" not in admin.client.get(f"/domains/{domain_id}").text


def test_an_admin_revokes_another_users_api_token(runtime: Runtime) -> None:
    user_id = member(runtime, "gus@example.com")
    with runtime.sessions.begin() as session:
        token, row = issue_token(session, session.get_one(User, user_id), "ci", START, timedelta(days=30))
        token_id = row.id
    admin = Browser(runtime).sign_in(ADMIN)
    assert admin.post(f"/users/{user_id}/tokens/{token_id}/revoke").endswith("notice=revoked")
    answer = Browser(runtime).client.get("/api/v1/session", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert token not in admin.client.get(f"/users/{user_id}").text
