"""Grant upkeep (reliability OA-04 b and c) against the simulator over real HTTP, its clock and
appgov's moved together, on SQLite and PostgreSQL: an idle grant is refreshed by the sweep before
Atlassian's 90 days, once however many sweeps run at once; a consent near its 365 days says so in
the status, the REST API and the Integrations page, with one notification and one email, until a
new consent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from appgov.accounts.sessions import open_session
from appgov.accounts.users import create_user
from appgov.config import Settings
from appgov.connectors.atlassian.grants import store_grant
from appgov.connectors.atlassian.oauth import TokenSet
from appgov.connectors.atlassian.site_rows import atlassian_site, grant_of
from appgov.integrations.status import DomainHealth, domain_health
from appgov.runtime import Runtime
from appgov.storage.models import Domain, Notification, OAuthFlow, OAuthGrant, OutboxMessage
from appgov.workers.grant_upkeep import forget_unused_grants, grant_upkeep, refresh_idle_grants
from support.clock import FakeClock
from support.console import ADMIN_EMAIL, Console, SignedIn, console_db
from support.grants import consent, oauth_runtime
from support.integrations import added, running_console, signed_in, token_requests, wait_idle
from support.product import connect, sync
from support.simulator import Simulator

ADMIN = "ada@example.com"
CONSENT_DAYS = 365
RECONSENT = "reconsent_needed"


def upkept(sim: Simulator, tmp_path: Path, database_url: str | None = None) -> tuple[Runtime, FakeClock]:
    """appgov with the simulator's OAuth app, on a clock the test moves."""
    runtime = oauth_runtime(sim, tmp_path, database_url)
    runtime.clock = clock = FakeClock(datetime.now(UTC))
    return runtime, clock


def days_pass(sim: Simulator, clock: FakeClock, days: int) -> None:
    """Atlassian's rules run on the simulator's clock, appgov's on its own: both move."""
    sim.control("POST", "/clock", {"seconds": days * 86_400})
    clock.advance(days=days)


def daily_upkeep(runtime: Runtime, sim: Simulator, clock: FakeClock, days: int) -> None:
    """``days`` days pass with no sync, and the scheduler's upkeep runs once a day."""
    for _ in range(days):
        days_pass(sim, clock, 1)
        asyncio.run(grant_upkeep(runtime))


def grant(runtime: Runtime, grant_id: int) -> OAuthGrant:
    with runtime.sessions() as session:
        return session.get_one(OAuthGrant, grant_id)


def only_domain(runtime: Runtime) -> Domain:
    with runtime.sessions() as session:
        return session.scalars(select(Domain)).one()


def health(runtime: Runtime, domain: Domain) -> DomainHealth:
    with runtime.sessions() as session:
        return domain_health(session, domain, runtime.settings, runtime.clock.now())


def reconsent_notes(runtime: Runtime) -> list[Notification]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Notification).where(Notification.kind == RECONSENT)))


def reconsent_emails(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("reconsent-needed:"))
        return list(session.scalars(query))


# --- (b) idle grants --------------------------------------------------------------------------


def test_a_grant_idle_for_80_days_was_refreshed_by_the_sweep_at_75_days_so_a_sync_after_day_90_works(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime, clock = upkept(fresh_sim, tmp_path, database_url)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    consented = clock.now()
    fresh_sim.control("DELETE", "/log")

    daily_upkeep(runtime, fresh_sim, clock, 80)

    assert token_requests(fresh_sim) == 1  # one refresh in 80 daily sweeps
    assert grant(runtime, grant_id).refreshed_at == consented + timedelta(days=76)  # first sweep past 75
    days_pass(fresh_sim, clock, 11)  # day 91 since the consent, still no sync
    run = sync(runtime, only_domain(runtime))
    assert run.status == "success", run.message
    assert grant(runtime, grant_id).status == "active"


def test_without_the_sweep_atlassian_lets_an_idle_grant_die_at_90_days_and_it_says_expired(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime, clock = upkept(fresh_sim, tmp_path)
    grant_id = consent(fresh_sim, runtime, ["acme"])

    days_pass(fresh_sim, clock, 91)  # the control: no upkeep ran
    assert asyncio.run(refresh_idle_grants(runtime)) == []

    dead = grant(runtime, grant_id)
    assert dead.status == "expired"
    assert (dead.status_reason or "").startswith("Grant expired: invalid_grant")
    assert dead.refresh_token is not None  # kept for the record, never nulled
    status = health(runtime, only_domain(runtime)).status
    assert (status.label, status.reason) == ("Error", "grant expired: reconnect to consent again")


def test_two_sweeps_at_once_refresh_an_idle_grant_exactly_once(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime, clock = upkept(fresh_sim, tmp_path, database_url)
    grant_id = consent(fresh_sim, runtime, ["acme"])
    days_pass(fresh_sim, clock, 80)
    fresh_sim.control("DELETE", "/log")

    async def two_sweeps() -> list[list[int]]:
        # the second lists the grant while the first holds its refresh lock and waits for Atlassian
        return list(await asyncio.gather(refresh_idle_grants(runtime), refresh_idle_grants(runtime)))

    assert asyncio.run(two_sweeps()) == [[grant_id], [grant_id]]
    assert token_requests(fresh_sim) == 1
    assert grant(runtime, grant_id).refreshed_at == clock.now()
    assert asyncio.run(refresh_idle_grants(runtime)) == []  # fresh now: nothing to do


# --- (c) the consent's 365 days ---------------------------------------------------------------


def test_a_consent_340_days_old_says_reconsent_needed_once_until_a_new_consent(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime, clock = upkept(fresh_sim, tmp_path, database_url)
    with runtime.sessions.begin() as session:
        create_user(session, ADMIN, "Ada", "a long enough password", clock.now())
    grant_id = consent(fresh_sim, runtime, ["acme"], added_by=ADMIN)
    domain = connect(runtime, fresh_sim)  # its API key: the status has no reason of its own
    assert sync(runtime, domain).status == "success"
    deadline = grant(runtime, grant_id).consented_at + timedelta(days=CONSENT_DAYS)
    reason = f"re-consent needed before {deadline:%Y-%m-%d}: reconnect"

    daily_upkeep(runtime, fresh_sim, clock, 334)
    assert health(runtime, domain).reconsent_by is None  # 31 days left: not yet
    assert reconsent_notes(runtime) == []
    daily_upkeep(runtime, fresh_sim, clock, 6)  # day 340
    for _ in range(3):
        asyncio.run(grant_upkeep(runtime))

    warned = health(runtime, domain)
    assert (warned.status.label, warned.status.reason) == ("Success", reason)
    assert warned.reconsent_by == deadline
    assert grant(runtime, grant_id).status == "active"  # the upkeep kept it alive all along
    [note] = reconsent_notes(runtime)
    assert note.message == f"acme: {reason}"
    assert deadline - timedelta(days=30) <= note.created_at < deadline - timedelta(days=29)  # first pass
    [email] = reconsent_emails(runtime)
    assert email.to_addr == ADMIN
    assert email.subject == f"appgov: reconnect acme before {deadline:%Y-%m-%d}"

    consent(fresh_sim, runtime, ["acme"], added_by=ADMIN)  # Reconnect: a new consent, a new family
    renewed = health(runtime, domain)
    assert (renewed.reconsent_by, renewed.status.reason) == (None, None)
    daily_upkeep(runtime, fresh_sim, clock, 3)
    assert (len(reconsent_notes(runtime)), len(reconsent_emails(runtime))) == (1, 1)


# --- the console ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    # every consent is within 400 days of its end: the warning shows at once
    yield from running_console(APPGOV_EXPIRY_WARNING_DAYS="400")


@pytest.fixture
def signed(console: Console) -> Iterator[SignedIn]:
    yield from signed_in(console)


def reconsent_notified(console: Console, timeout: float = 90.0) -> list[Notification]:
    """The console's re-consent notifications, once its background pass wrote them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with console_db(console) as session:
            notes = list(session.scalars(select(Notification).where(Notification.kind == RECONSENT)))
        if notes:
            return notes
        time.sleep(0.5)  # polling for the scheduler's next pass, with a deadline
    raise AssertionError(f"no re-consent notification after {timeout:.0f} s:\n{console.log()[-3000:]}")


def test_the_console_shows_the_reconsent_deadline_and_its_background_pass_notifies_once(
    console: Console, signed: SignedIn
) -> None:
    domain = added(console, signed)
    assert wait_idle(console, domain.id).status == "success"
    with console_db(console) as session:
        consented = session.get_one(OAuthGrant, grant_of(session, domain.id)).consented_at
    deadline = consented + timedelta(days=CONSENT_DAYS)
    reason = f"re-consent needed before {deadline:%Y-%m-%d}: reconnect"

    [listed] = signed.api("GET", "/api/v1/domains").json()
    assert datetime.fromisoformat(listed["reconsent_by"]) == deadline
    assert (listed["status"], listed["status_reason"]) == ("Success", reason)
    assert reason in signed.get("/integrations").text

    [note] = reconsent_notified(console)
    assert note.message == f"acme: {reason}"
    with console_db(console) as session:
        [email] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("reconsent"))
        )
    assert email.to_addr == ADMIN_EMAIL


def stored_grant(runtime: Runtime, account_id: str) -> int:
    tokens = TokenSet("access", "refresh", runtime.clock.now() + timedelta(hours=1), ["read:me"])
    now = runtime.clock.now()
    return store_grant(runtime.sessions, runtime.secrets, "client", account_id, None, tokens, now).id


def test_a_grant_left_by_an_abandoned_add_is_forgotten_once_its_site_picker_has_closed(
    sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime, clock = upkept(sim, tmp_path, database_url)
    domain = connect(runtime, sim)
    used, _abandoned, picking = (stored_grant(runtime, who) for who in ("used", "abandoned", "picking"))
    with runtime.sessions.begin() as session:
        atlassian_site(session, domain.id).oauth_grant_id = used
        user = create_user(session, ADMIN, "Ada", "a long enough password", clock.now())
        _, web = open_session(session, user, clock.now(), timedelta(hours=1), "127.0.0.1", "test")
        session.flush()
        session.add(
            OAuthFlow(
                state_hash="x" * 64, session_id=web.id, code_verifier=b"v", purpose="add",
                created_at=clock.now(), expires_at=clock.now() + timedelta(minutes=10), grant_id=picking,
            )
        )  # fmt: skip

    assert forget_unused_grants(runtime) == 1
    clock.advance(minutes=29)
    assert forget_unused_grants(runtime) == 0  # the site picker is still open
    clock.advance(minutes=2)
    assert forget_unused_grants(runtime) == 1
    with runtime.sessions() as session:
        assert list(session.scalars(select(OAuthGrant.id))) == [used]


@pytest.mark.parametrize("days", ["0", "90", "120"])
def test_a_refresh_age_atlassian_would_outlive_is_refused_at_start(days: str) -> None:
    with pytest.raises(ValueError, match="APPGOV_GRANT_REFRESH_DAYS"):
        Settings.from_env({"APPGOV_GRANT_REFRESH_DAYS": days})
