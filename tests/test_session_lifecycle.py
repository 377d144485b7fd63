"""WS-02, a console session's life (the real app in-process, on a clock the test moves): a sign-in always
starts a new session id, however the browser came in; signing out ends it for good; the idle and the
absolute timeouts are enforced by the server; an administrator's "end sessions" holds at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest

from appgov.runtime import Runtime
from appgov.web.auth import SESSION_COOKIE
from support.clock import FakeClock
from support.console import csrf_of
from support.in_process import ADMIN, PASSWORD, Browser, member, started


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    yield from started(tmp_path)


def clock_of(runtime: Runtime) -> FakeClock:
    return cast(FakeClock, runtime.clock)


def signed_in(browser: Browser) -> bool:
    return bool(browser.client.get("/api/v1/session").status_code == 200)


def test_a_session_id_planted_before_sign_in_is_never_the_signed_in_one(runtime: Runtime) -> None:
    planted = "attacker-chose-this-session-id-0123456789abcdef"
    victim = Browser(runtime)
    victim.client.cookies.set(SESSION_COOKIE, planted)
    form = {"email": ADMIN, "password": PASSWORD, "csrf_token": csrf_of(victim.client.get("/login").text)}

    answer = victim.client.post("/login", data=form)

    assert answer.status_code == 303
    assert answer.cookies[SESSION_COOKIE] not in ("", planted)
    attacker = Browser(runtime)
    attacker.client.cookies.set(SESSION_COOKIE, planted)
    assert not signed_in(attacker)


def test_each_sign_in_is_a_session_of_its_own_and_signing_out_ends_it_for_good(runtime: Runtime) -> None:
    first, second = Browser(runtime).sign_in(ADMIN), Browser(runtime).sign_in(ADMIN)
    cookie = str(second.client.cookies[SESSION_COOKIE])
    assert first.client.cookies[SESSION_COOKIE] != cookie

    assert second.post("/logout") == "/login"
    replay = Browser(runtime)
    replay.client.cookies.set(SESSION_COOKIE, cookie)
    assert replay.client.get("/api/v1/session").status_code == 401
    assert signed_in(first)


def test_a_session_idle_for_the_idle_timeout_is_signed_out_and_a_busy_one_is_not(runtime: Runtime) -> None:
    idle_minutes = runtime.settings.session_idle_minutes
    busy, idle = Browser(runtime).sign_in(ADMIN), Browser(runtime).sign_in(ADMIN)
    for _ in range(3):  # the busy one is used a little more often than the idle timeout
        clock_of(runtime).advance(minutes=idle_minutes - 1)
        assert signed_in(busy)
    assert not signed_in(idle)


def test_a_session_ends_at_its_absolute_timeout_however_busy(runtime: Runtime) -> None:
    browser = Browser(runtime).sign_in(ADMIN)
    step = timedelta(minutes=runtime.settings.session_idle_minutes - 1)
    lifetime = timedelta(hours=runtime.settings.session_max_hours)
    used = timedelta(0)
    while used + step < lifetime:
        clock_of(runtime).advance(seconds=step.total_seconds())
        used += step
        assert signed_in(browser)
    clock_of(runtime).advance(seconds=(lifetime - used).total_seconds())
    assert not signed_in(browser)


def test_an_admin_ending_a_users_sessions_signs_every_one_of_them_out_at_once(runtime: Runtime) -> None:
    user_id = member(runtime, "bo@example.com")
    phone, laptop = Browser(runtime).sign_in("bo@example.com"), Browser(runtime).sign_in("bo@example.com")
    admin = Browser(runtime).sign_in(ADMIN)
    admin.post(f"/users/{user_id}/sessions/end")
    assert not signed_in(phone)
    assert not signed_in(laptop)
    assert signed_in(admin)
