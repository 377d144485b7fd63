"""WS-05: sign-in throttling slows guessing and cannot be turned against a user. Failures count per
client address, per (account, address) pair and per account; the account's count only holds back
addresses that failed recently and browsers without the account's known-device cookie. Each test
ends with the real user getting in. The app runs in-process, each client with its own address, on a
clock the test moves."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from appgov.accounts.devices import device_token
from appgov.accounts.permissions import Role
from appgov.accounts.users import create_user
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.security.secrets import SecretBox
from appgov.storage.models import AuditEvent
from appgov.web.app import create_app
from support.clock import FakeClock
from support.console import csrf_of

START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
WRONG = "not the password at all"
ADA, BO = "ada@example.com", "bo@example.com"
FRESH = "203.0.113.200"  # an address that never failed


class Site:
    """The console in-process on a ``FakeClock``, with the users Ada and Bo."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.runtime = Runtime.start(Settings(data_dir=data_dir, database_url=database_url))
        self.clock = FakeClock(START)
        self.runtime.clock = self.clock
        self.app = create_app(self.runtime)
        self.since = START  # the audit events of the test under way are those from then on
        with self.runtime.sessions.begin() as session:
            for email in (ADA, BO):
                create_user(session, email, email.split("@")[0], PASSWORD, START, role=Role.ANALYST)

    def browser(self, address: str) -> TestClient:
        return TestClient(self.app, follow_redirects=False, client=(address, 50000))

    def sign_in(
        self,
        address: str,
        email: str = ADA,
        password: str = WRONG,
        browser: TestClient | None = None,
        **headers: str,
    ) -> httpx.Response:
        client = browser or self.browser(address)
        form = {"email": email, "password": password, "csrf_token": csrf_of(client.get("/login").text)}
        return client.post("/login", data=form, headers=headers)

    def audit(self, action: str) -> list[AuditEvent]:
        with self.runtime.sessions() as session:
            query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.at >= self.since)
            return list(session.scalars(query))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[Site]:
    running = Site(tmp_path_factory.mktemp("throttle"), module_database_url)
    yield running
    running.runtime.engine.dispose()


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """For the long runs of guesses (each a slow argon2 check): the counts' storage is the same code
    on both databases, which the other tests prove on each."""
    data_dir = tmp_path_factory.mktemp("throttle")
    running = Site(data_dir, f"sqlite:///{data_dir / 'appgov.db'}")
    yield running
    running.runtime.engine.dispose()


def next_day(site: Site) -> Site:
    """A day later, when every count and wait of the previous test is long over."""
    site.clock.advance(days=1)
    site.since = site.clock.now()
    return site


@pytest.fixture
def site(world: Site) -> Site:
    return next_day(world)


@pytest.fixture
def sqlite_site(sqlite_world: Site) -> Site:
    return next_day(sqlite_world)


def test_the_right_password_from_a_thirteenth_address_gets_in_after_twelve_addresses_failed(
    site: Site,
) -> None:
    assert [site.sign_in(f"198.51.100.{i}").status_code for i in range(12)] == [401] * 12
    assert site.sign_in(FRESH, password=PASSWORD).status_code == 303


def test_fifty_wrong_passwords_from_one_address_are_slowed_until_its_wait_is_over(site: Site) -> None:
    answers = [site.sign_in("198.51.100.1") for _ in range(50)]
    assert [a.status_code for a in answers] == [401] * 5 + [429] * 45
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers[5:])
    assert (len(site.audit("signin.failed")), len(site.audit("signin.throttled"))) == (5, 45)
    # the guessing address waits even with the right password; the user elsewhere does not
    assert site.sign_in("198.51.100.1", password=PASSWORD).status_code == 429
    assert site.sign_in(FRESH, password=PASSWORD).status_code == 303
    site.clock.advance(seconds=int(answers[-1].headers["retry-after"]))
    assert site.sign_in("198.51.100.1", password=PASSWORD).status_code == 303


def test_fifty_wrong_passwords_from_twenty_addresses_get_one_guess_each(sqlite_site: Site) -> None:
    site = sqlite_site
    statuses = [site.sign_in(f"198.51.100.{i % 20}").status_code for i in range(50)]
    # past the account's free failures, an address that already failed waits; a new one may try once
    assert statuses == [401] * 20 + [429] * 30
    assert site.sign_in("198.51.100.7", password=PASSWORD).status_code == 429
    assert site.sign_in(FRESH, password=PASSWORD).status_code == 303


def test_fifty_wrong_passwords_over_a_hundred_accounts_from_one_address_stop_that_address(
    sqlite_site: Site,
) -> None:
    site = sqlite_site
    accounts = [ADA, BO, *(f"user{i}@example.com" for i in range(98))]
    statuses = [site.sign_in("198.51.100.1", email=accounts[i * 2 % 100]).status_code for i in range(50)]
    assert statuses == [401] * 20 + [429] * 30
    assert site.sign_in("198.51.100.1", email=BO, password=PASSWORD).status_code == 429
    assert site.sign_in(FRESH, email=BO, password=PASSWORD).status_code == 303
    assert site.sign_in("198.51.100.2", password=PASSWORD).status_code == 303


def test_a_forwarded_for_header_from_an_untrusted_peer_does_not_spread_the_guesses(site: Site) -> None:
    statuses = [
        site.sign_in("198.51.100.1", **{"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(30)
    ]
    assert statuses == [401] * 5 + [429] * 25
    assert {event.address for event in site.audit("signin.failed")} == {"198.51.100.1"}
    assert site.sign_in(FRESH, password=PASSWORD, **{"X-Forwarded-For": "198.51.100.1"}).status_code == 303


def test_addresses_of_one_ipv6_network_count_as_one_client(site: Site) -> None:
    assert [site.sign_in(f"2001:db8:0:7::{i}").status_code for i in range(1, 6)] == [401] * 5
    assert site.sign_in("2001:db8:0:7::99", password=PASSWORD).status_code == 429  # same /64: waits
    assert site.sign_in("2001:db8:0:8::1", password=PASSWORD).status_code == 303


def test_a_known_device_is_not_held_back_by_guessing_at_its_account(site: Site) -> None:
    home = site.browser("192.0.2.1")
    assert site.sign_in("192.0.2.1", password=PASSWORD, browser=home).status_code == 303
    assert "appgov_device" in home.cookies
    home.cookies.delete("appgov_session")
    for i in range(6):  # the attack (enough to block the account), while Ada mistypes once at home
        site.sign_in(f"198.51.100.{i}")
    assert site.sign_in("192.0.2.1", browser=home).status_code == 401
    stranger = site.browser("192.0.2.1")  # the same address, without the cookie, waits
    assert site.sign_in("192.0.2.1", password=PASSWORD, browser=stranger).status_code == 429
    assert site.sign_in("192.0.2.1", password=PASSWORD, browser=home).status_code == 303


def test_a_known_device_cookie_of_another_account_does_not_exempt(site: Site) -> None:
    browser = site.browser("192.0.2.1")
    assert site.sign_in("192.0.2.1", email=BO, password=PASSWORD, browser=browser).status_code == 303
    browser.cookies.delete("appgov_session")
    for i in range(6):
        site.sign_in(f"198.51.100.{i}")
    assert site.sign_in("192.0.2.1", browser=browser).status_code == 401
    assert site.sign_in("192.0.2.1", password=PASSWORD, browser=browser).status_code == 429


def test_a_known_device_cookie_sealed_with_another_key_does_not_exempt(site: Site) -> None:
    for i in range(6):
        site.sign_in(f"198.51.100.{i}")
    assert site.sign_in("192.0.2.1").status_code == 401
    now = site.clock.now()
    forged, genuine = (
        device_token(box, ADA, now)
        for box in (SecretBox([(1, secrets.token_bytes(32))]), site.runtime.secrets)
    )
    answers = []
    for token in (forged, genuine):
        browser = site.browser("192.0.2.1")
        browser.cookies.set("appgov_device", token)
        answers.append(site.sign_in("192.0.2.1", password=PASSWORD, browser=browser).status_code)
    assert answers == [429, 303]


def test_an_unknown_account_and_a_wrong_password_get_the_same_answer(site: Site) -> None:
    known, unknown = site.sign_in("198.51.100.1"), site.sign_in("198.51.100.2", email="nobody@example.com")
    assert known.status_code == unknown.status_code == 401

    def page(answer: httpx.Response) -> str:
        return answer.text.replace(csrf_of(answer.text), "")

    assert page(known) == page(unknown)
