"""Personal API tokens (issue 10, part 3): a token is stored only as its hash and shown once, acts
with its user's current permissions (never more), stops at its expiry, its revocation or its user's
disabling, is refused when malformed (401, never 5xx), works on the REST API only and never mints
another. In-process, on a clock the test moves; the storage-touching ones on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

import pytest

from appgov.accounts.permissions import Role
from appgov.storage.models import PersonalToken
from support.accounts import ADMIN, VIEWER, AccountConsole


@pytest.fixture
def console(tmp_path: Path) -> AccountConsole:
    return AccountConsole(tmp_path, f"sqlite:///{tmp_path / 'appgov.db'}")


@pytest.fixture
def console_on_both(tmp_path: Path, database_url: str) -> AccountConsole:
    return AccountConsole(tmp_path, database_url)


def test_a_token_is_stored_only_as_its_hash_and_shown_once(console_on_both: AccountConsole) -> None:
    ada = console_on_both.sign_in(ADMIN)
    created = ada.new_token("nightly export", days=7)
    token = created["token"]
    assert token.startswith("agv_")
    assert created["status"] == "active"

    with console_on_both.runtime.sessions() as session:
        row = session.get_one(PersonalToken, created["id"])
        stored = [str(getattr(row, column.key)) for column in PersonalToken.__table__.columns]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in value for value in stored)  # only the hash and a short prefix
    assert token.startswith(row.prefix)
    assert len(row.prefix) < 12

    listed = ada.client.get("/api/v1/tokens")
    assert [t["id"] for t in listed.json()] == [created["id"]]
    assert token not in listed.text
    assert row.token_hash not in listed.text
    assert "token" not in listed.json()[0]
    page = ada.client.get("/account")
    assert row.prefix in page.text
    assert token not in page.text
    audit = console_on_both.audit("token.created")
    assert len(audit) == 1
    assert token not in repr(audit[0].detail)


def test_the_account_page_shows_a_new_token_once_with_how_to_use_it(console: AccountConsole) -> None:
    ada = console.sign_in(ADMIN)
    shown = ada.post_form("/account/tokens", name="deploy script", days="90")
    assert shown.status_code == 201
    token = re.search(r'id="new-token-value">(agv_[\w-]+)<', shown.text)
    assert token, shown.text
    assert shown.text.count(token.group(1)) == 1
    assert "not shown again" in shown.text
    assert "Authorization: Bearer" in shown.text
    assert shown.headers["cache-control"] == "no-store"

    page = ada.client.get("/account").text
    assert "deploy script" in page
    assert token.group(1) not in page
    assert console.bearer(f"Bearer {token.group(1)}").get("/api/v1/domains").status_code == 200

    refused = ada.post_form("/account/tokens", name="forever", days="3650")
    assert refused.status_code == 400
    assert "offered lifetimes" in refused.text
    assert "forever" not in ada.client.get("/account").text


def test_a_bearer_token_calls_the_api_without_csrf_but_is_ignored_on_pages(console: AccountConsole) -> None:
    created = console.sign_in(ADMIN).new_token()
    caller = console.bearer(f"Bearer {created['token']}")
    assert caller.get("/api/v1/domains").status_code == 200
    session = caller.get("/api/v1/session").json()
    assert session["email"] == ADMIN
    assert session["csrf_token"] is None

    for page in ("/account", "/integrations", "/apps"):
        answer = caller.get(page)
        assert answer.status_code == 303, page
        assert answer.headers["location"].startswith("/login"), page
    refused = caller.post("/account/tokens", data={"name": "x", "days": "30"})
    assert refused.status_code == 403  # no session, so no CSRF token: a page never takes a Bearer

    # an unsafe API call needs no CSRF token with a Bearer: revoking itself
    assert caller.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    assert caller.get("/api/v1/domains").status_code == 401


def test_a_token_cannot_create_tokens(console: AccountConsole) -> None:
    created = console.sign_in(ADMIN).new_token()
    caller = console.bearer(f"Bearer {created['token']}")
    refused = caller.post("/api/v1/tokens", json={"name": "longer-lived", "days": 366})
    assert refused.status_code == 403
    assert "cannot create tokens" in refused.json()["detail"]
    assert [t["name"] for t in caller.get("/api/v1/tokens").json()] == ["ci"]
    denied = console.audit("access.denied")
    assert [(e.actor, e.actor_via, e.target) for e in denied] == [(ADMIN, "api", "POST /api/v1/tokens")]
    assert denied[0].detail == {"caller": "a personal API token"}
    assert denied[0].outcome == "denied"


def test_a_token_has_its_users_current_permissions_and_never_more(console_on_both: AccountConsole) -> None:
    vic = console_on_both.bearer(f"Bearer {console_on_both.sign_in(VIEWER).new_token()['token']}")
    assert vic.get("/api/v1/domains").status_code == 200
    assert vic.delete("/api/v1/domains/1?confirm=true").status_code == 403  # domains.manage

    ada = console_on_both.bearer(f"Bearer {console_on_both.sign_in(ADMIN).new_token()['token']}")
    assert ada.delete("/api/v1/domains/1?confirm=true").status_code == 404  # allowed: no such domain
    console_on_both.set_user(ADMIN, role=Role.VIEWER)
    demoted = ada.delete("/api/v1/domains/1?confirm=true")
    assert demoted.status_code == 403
    assert "domains.manage" in demoted.json()["detail"]
    assert ada.get("/api/v1/domains").status_code == 200


def test_an_expired_a_revoked_and_a_disabled_users_token_are_refused(console_on_both: AccountConsole) -> None:
    ada, vic = console_on_both.sign_in(ADMIN), console_on_both.sign_in(VIEWER)
    short = console_on_both.bearer(f"Bearer {ada.new_token('short', days=1)['token']}")
    revoked = ada.new_token("revoked")
    of_disabled = console_on_both.bearer(f"Bearer {vic.new_token()['token']}")
    assert short.get("/api/v1/domains").status_code == 200

    assert ada.api("DELETE", f"/api/v1/tokens/{revoked['id']}").status_code == 204
    assert console_on_both.bearer(f"Bearer {revoked['token']}").get("/api/v1/domains").status_code == 401
    console_on_both.set_user(VIEWER, disabled_at=console_on_both.clock.now())
    assert of_disabled.get("/api/v1/domains").status_code == 401
    console_on_both.clock.advance(days=1)
    assert short.get("/api/v1/domains").status_code == 401

    statuses = {
        t["name"]: t["status"] for t in console_on_both.sign_in(ADMIN).client.get("/api/v1/tokens").json()
    }
    assert statuses == {"short": "expired", "revoked": "revoked"}


MALFORMED: dict[str, str | bytes] = {
    "empty": "",
    "scheme only": "Bearer",
    "scheme and a space": "Bearer ",
    "prefix only": "Bearer agv_",
    "missing prefix": "Bearer " + "A" * 43,
    "another scheme": "Basic YWRhOnNlY3JldA==",
    "two tokens": "Bearer agv_one agv_two",
    "non-ascii": b"Bearer agv_\xc3\xa9\xc3\xa9",
    "huge": "Bearer agv_" + "A" * 60_000,
    "control characters": "Bearer agv_\x01\x02",
}


@pytest.fixture(scope="module")
def untouched(tmp_path_factory: pytest.TempPathFactory) -> AccountConsole:
    """One console for the tests that change nothing."""
    data_dir = tmp_path_factory.mktemp("untouched")
    return AccountConsole(data_dir, f"sqlite:///{data_dir / 'appgov.db'}")


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_bearer_token_is_a_401_never_a_5xx(untouched: AccountConsole, case: str) -> None:
    answer = untouched.bearer(MALFORMED[case]).get("/api/v1/domains")
    assert answer.status_code == 401
    assert answer.json() == {"detail": "sign in first"}


def test_creating_a_token_takes_a_name_and_one_to_366_days(console: AccountConsole) -> None:
    ada = console.sign_in(ADMIN)
    for body in (
        {"name": "x", "days": 0},
        {"name": "x", "days": 367},
        {"name": "", "days": 30},
        {"days": 30},
    ):
        assert ada.api("POST", "/api/v1/tokens", json=body).status_code == 422, body
    longest = ada.new_token(days=366)
    lived = datetime.fromisoformat(longest["expires_at"]) - datetime.fromisoformat(longest["created_at"])
    assert lived.days == 366
    assert ada.client.get("/api/v1/tokens").json()[0]["id"] == longest["id"]


def test_revoking_from_the_page_stops_the_token(console: AccountConsole) -> None:
    ada = console.sign_in(ADMIN)
    created = ada.new_token()
    revoked = ada.post_form(f"/account/tokens/{created['id']}/revoke")
    assert revoked.headers["location"] == "/account?notice=token-revoked"
    assert console.bearer(f"Bearer {created['token']}").get("/api/v1/domains").status_code == 401
    page = ada.client.get(revoked.headers["location"]).text
    assert "Token revoked" in page
    assert 'data-status="revoked"' in page
