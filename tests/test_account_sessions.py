"""The Account page and a user's own console sessions (issue 10, part 3): who you are, your
sessions with "this session" marked; ending other sessions signs them out at their next request,
ending your own signs you out, and no user sees or ends another's session or token. In-process; the
storage-touching ones on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from appgov.accounts.principal import cli_user
from appgov.accounts.rights import ALL_DOMAINS, grant
from support.accounts import ADMIN, VIEWER, AccountConsole


@pytest.fixture
def console(tmp_path: Path) -> AccountConsole:
    return AccountConsole(tmp_path, f"sqlite:///{tmp_path / 'appgov.db'}")


@pytest.fixture
def console_on_both(tmp_path: Path, database_url: str) -> AccountConsole:
    return AccountConsole(tmp_path, database_url)


def test_the_account_page_says_who_you_are_your_rights_and_marks_this_session(
    console: AccountConsole,
) -> None:
    with console.runtime.sessions.begin() as session:
        grant(session, console.user_id(VIEWER), ALL_DOMAINS, cli_user("root"), console.clock.now())
    console.sign_in(VIEWER)  # another browser of the same user
    vic = console.sign_in(VIEWER)
    page = vic.client.get("/account")
    assert page.status_code == 200
    assert VIEWER in page.text
    assert "Vic" in page.text
    assert "Viewer" in page.text
    assert "every domain" in page.text
    assert "granted by root" in page.text
    assert page.text.count('data-current="yes"') == 1
    assert page.text.count("data-session=") == 2
    assert "End all other sessions" in page.text
    assert 'href="/account"' in vic.client.get("/notifications").text  # the header's email links here
    no_rights = console.sign_in(ADMIN).client.get("/account").text
    assert "none: you cannot revoke" in no_rights
    assert "Admin" in no_rights


def test_ending_other_sessions_signs_them_out_at_once(console_on_both: AccountConsole) -> None:
    here, elsewhere = console_on_both.sign_in(ADMIN), console_on_both.sign_in(ADMIN)
    vic = console_on_both.sign_in(VIEWER)
    ended = here.post_form("/account/sessions/others/end")
    assert ended.status_code == 303
    assert ended.headers["location"] == "/account?notice=others-ended"
    assert elsewhere.client.get("/api/v1/session").status_code == 401
    assert elsewhere.client.get("/account").headers["location"].startswith("/login")
    assert here.client.get("/api/v1/session").status_code == 200
    assert vic.client.get("/api/v1/session").status_code == 200  # another user's sessions stay
    assert "Your other sessions are signed out." in here.client.get(ended.headers["location"]).text
    listed = here.client.get("/api/v1/sessions").json()
    assert [s["current"] for s in listed] == [True]
    assert [e.detail["scope"] for e in console_on_both.audit("user.sessions_ended")] == ["others"]


def test_ending_ones_own_session_signs_out(console: AccountConsole) -> None:
    ada = console.sign_in(ADMIN)
    mine = ada.client.get("/api/v1/sessions").json()[0]["id"]
    out = ada.post_form(f"/account/sessions/{mine}/end")
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    assert ada.client.get("/account").headers["location"].startswith("/login")

    by_api = console.sign_in(ADMIN)
    other = console.sign_in(ADMIN)
    other_id = next(s["id"] for s in by_api.client.get("/api/v1/sessions").json() if not s["current"])
    assert by_api.api("DELETE", f"/api/v1/sessions/{other_id}").status_code == 204
    assert other.client.get("/api/v1/session").status_code == 401


def test_a_user_can_neither_see_nor_end_anothers_session_or_token(console_on_both: AccountConsole) -> None:
    ada, vic = console_on_both.sign_in(ADMIN), console_on_both.sign_in(VIEWER)
    ada_token = ada.new_token()
    ada_session = ada.client.get("/api/v1/sessions").json()[0]["id"]

    assert [s["id"] for s in vic.client.get("/api/v1/sessions").json()] != [ada_session]
    assert ada_session not in vic.client.get("/account").text
    assert vic.client.get("/api/v1/tokens").json() == []
    assert vic.api("DELETE", f"/api/v1/sessions/{ada_session}").status_code == 404
    assert vic.api("DELETE", f"/api/v1/tokens/{ada_token['id']}").status_code == 404
    assert (
        vic.post_form(f"/account/tokens/{ada_token['id']}/revoke").headers["location"].endswith("token-gone")
    )
    assert vic.post_form(f"/account/sessions/{ada_session}/end").headers["location"].endswith("session-gone")

    assert ada.client.get("/api/v1/session").status_code == 200
    assert console_on_both.bearer(f"Bearer {ada_token['token']}").get("/api/v1/domains").status_code == 200
    assert ada_session in [s["id"] for s in ada.client.get("/api/v1/sessions").json()]


def test_a_session_idle_past_the_timeout_is_not_listed(console: AccountConsole) -> None:
    idle = console.sign_in(ADMIN, user_agent="left open")
    console.clock.advance(minutes=console.runtime.settings.session_idle_minutes)
    here = console.sign_in(ADMIN)
    assert [s["user_agent"] for s in here.client.get("/api/v1/sessions").json()] == ["testclient"]
    assert "left open" not in here.client.get("/account").text
    assert idle.client.get("/api/v1/session").status_code == 401
