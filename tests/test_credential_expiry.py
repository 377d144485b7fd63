"""Credential expiry (reliability CS-08) against the simulator, on SQLite and PostgreSQL, with
appgov's clock moved by hand: an API token whose owner said it expires in 20 days and an OAuth
consent 340 days old each show *expires soon* and are announced once (however many passes, and
after a restart); once their time is up the domain says Error with the reason, the scheduler
queues nothing and a sync asked for settles at once, and no request reaches the simulator, until
the token is replaced or the domain reconnected."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from appgov.accounts.permissions import Role
from appgov.accounts.users import create_user
from appgov.integrations.connect import replace_api_token, set_api_token_expiry
from appgov.integrations.credentials import Credential
from appgov.integrations.domains import DomainError, add_domain
from appgov.integrations.status import DomainHealth, domain_health
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, Domain, Notification, OutboxMessage, User
from appgov.workers.grant_upkeep import grant_upkeep, warn_reconsent
from appgov.workers.runner import Runner
from appgov.workers.scheduler import Scheduler
from appgov.workers.token_expiry import warn_api_token_expiry
from support.clock import FakeClock
from support.grants import consent, oauth_runtime
from support.in_process import Browser
from support.jobs import job_status, queue_sync, run_until
from support.product import principal_for, runtime_for, sync
from support.simulator import Simulator

ADMIN = "ada@example.com"
ANALYST = "alan@example.com"


def on_clock(runtime: Runtime) -> FakeClock:
    runtime.clock = clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    with runtime.sessions.begin() as session:
        create_user(session, ADMIN, "Ada", "a long enough password", clock.now(), role=Role.ADMIN)
        create_user(session, ANALYST, "Alan", "a long enough password", clock.now(), role=Role.ANALYST)
    return clock


def restarted(runtime: Runtime) -> Runtime:
    """appgov stopped and started again on the same database, at the same moment."""
    runtime.engine.dispose()
    again = Runtime.start(runtime.settings)
    again.clock = runtime.clock
    return again


def health(runtime: Runtime) -> DomainHealth:
    with runtime.sessions() as session:
        domain = session.scalars(select(Domain)).one()
        return domain_health(session, domain, runtime.settings, runtime.clock.now())


def credential(runtime: Runtime, kind: str) -> Credential:
    return next(c for c in health(runtime).credentials if c.kind == kind)


def notes(runtime: Runtime, kind: str) -> list[Notification]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Notification).where(Notification.kind == kind)))


def emails(runtime: Runtime, prefix: str) -> list[OutboxMessage]:
    with runtime.sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith(prefix))))


def requests(sim: Simulator) -> list[dict[str, Any]]:
    """What reached the simulator since its log was last cleared."""
    return list(sim.control("GET", "/log?limit=100000").json())


def nothing_runs(runtime: Runtime, sim: Simulator, domain_id: int) -> None:
    """The scheduler queues no sync, a sync asked for settles at once, and nothing reaches Atlassian."""
    sim.control("DELETE", "/log")
    assert Scheduler(runtime).tick() == []
    with pytest.raises(DomainError, match="expired"):
        sync(runtime, runtime_domain(runtime, domain_id))
    job_id = queue_sync(runtime, domain_id, ADMIN)  # Sync now
    asyncio.run(run_until([Runner(runtime)], lambda: job_status(runtime, job_id) == "done"))
    asyncio.run(grant_upkeep(runtime))
    assert requests(sim) == []


def runtime_domain(runtime: Runtime, domain_id: int) -> Domain:
    with runtime.sessions() as session:
        return session.get_one(Domain, domain_id)


def test_an_api_token_expiring_in_20_days_is_announced_once_then_stops_its_syncs_until_replaced(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(fresh_sim, tmp_path, database_url)
    clock = on_clock(runtime)
    account = fresh_sim.state["accounts"]["site_admin"]
    expires = clock.now().replace(hour=0, minute=0, second=0) + timedelta(days=20)
    added = asyncio.run(
        add_domain(
            runtime, fresh_sim.site_url("acme"), account["email"], account["api_token"],
            principal_for(runtime, ADMIN), expires,
        )
    )  # fmt: skip
    assert sync(runtime, added).status == "success"
    token = credential(runtime, "api_token")
    assert (token.expires_at, token.state, token.note) == (expires, "expires_soon", "expires soon")
    assert health(runtime).status.label == "Success"

    for _ in range(3):
        warn_api_token_expiry(runtime)
    runtime = restarted(runtime)
    warn_api_token_expiry(runtime)
    [note] = notes(runtime, "api_token_expiring")  # one, for the admin (not the analyst)
    with runtime.sessions() as session:
        assert session.get_one(User, note.user_id).email == ADMIN
    assert (
        note.message == f"acme: the API token of {account['email']} expires on {expires:%Y-%m-%d}: replace it"
    )
    [email] = emails(runtime, "api-token-expiring:")
    assert email.to_addr == ADMIN
    assert account["api_token"] not in email.body

    clock.moment = expires
    status = health(runtime).status
    assert (status.label, status.outcome and status.outcome.code) == ("Error", "api_token_expired")
    assert status.reason == f"API token expired on {expires:%Y-%m-%d}: edit the API key to replace it"
    assert credential(runtime, "api_token").state == "expired"
    nothing_runs(runtime, fresh_sim, added.id)
    assert health(runtime).status.outcome == status.outcome  # still the same Error

    later = expires + timedelta(days=365)
    asyncio.run(
        replace_api_token(
            runtime, added.id, account["email"], account["api_token"], principal_for(runtime, ADMIN), later
        )
    )
    renewed = credential(runtime, "api_token")
    assert (renewed.expires_at, renewed.state) == (later, "valid")
    assert health(runtime).status.label == "In progress"  # the replacement queued a sync
    assert sync(runtime, added).status == "success"
    assert health(runtime).status.label != "Error"
    assert len(notes(runtime, "api_token_expiring")) == 1
    clock.moment = later - timedelta(days=10)
    warn_api_token_expiry(runtime)
    assert len(notes(runtime, "api_token_expiring")) == 2  # the new token's own warning
    runtime.engine.dispose()


def test_changing_only_the_expiry_date_keeps_the_token_and_is_warned_of_again(
    sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(sim, tmp_path, database_url)
    clock = on_clock(runtime)
    account = sim.state["accounts"]["site_admin"]
    admin = principal_for(runtime, ADMIN)
    soon = clock.now() + timedelta(days=5)
    site = sim.site_url("acme")
    added = asyncio.run(add_domain(runtime, site, account["email"], account["api_token"], admin, soon))
    secret = stored_secret(runtime, added.id)
    assert warn_api_token_expiry(runtime) == 1

    set_api_token_expiry(runtime, added.id, soon + timedelta(days=10), admin)
    assert warn_api_token_expiry(runtime) == 1  # a new date: told again
    set_api_token_expiry(runtime, added.id, None, admin)
    token = credential(runtime, "api_token")
    assert (token.expires_at, token.state) == (None, "valid")
    with pytest.raises(DomainError, match="not in the future"):
        set_api_token_expiry(runtime, added.id, clock.now() - timedelta(days=1), admin)
    assert stored_secret(runtime, added.id) == secret
    runtime.engine.dispose()


def stored_secret(runtime: Runtime, domain_id: int) -> bytes:
    with runtime.sessions() as session:
        return session.scalars(select(ApiToken.secret).where(ApiToken.domain_id == domain_id)).one()


def test_edit_api_key_takes_the_expiry_date_and_the_pages_and_the_api_say_expires_soon(
    sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(sim, tmp_path, database_url)
    clock = on_clock(runtime)
    account = sim.state["accounts"]["site_admin"]
    site = sim.site_url("acme")
    added = asyncio.run(
        add_domain(runtime, site, account["email"], account["api_token"], principal_for(runtime, ADMIN))
    )
    admin = Browser(runtime).sign_in(ADMIN)
    form = {"email": account["email"], "api_token": account["api_token"], "confirm": "yes"}
    assert "expires soon" not in admin.client.get("/integrations").text

    wrong = admin.client.post(
        f"/domains/{added.id}/api-key", data={**form, "expires_on": "someday", "csrf_token": admin.csrf}
    )
    assert wrong.status_code == 400
    assert "YYYY-MM-DD" in wrong.text
    day = f"{clock.now() + timedelta(days=20):%Y-%m-%d}"
    admin.post(f"/domains/{added.id}/api-key", **form, expires_on=day)

    for page in ("/integrations", f"/domains/{added.id}"):
        assert f"API token expires {day}: <strong>expires soon</strong>" in admin.client.get(page).text
    [listed] = admin.client.get("/api/v1/domains").json()
    [token] = listed["credentials"]
    assert (token["kind"], token["expires_at"][:10], token["state"]) == ("api_token", day, "expires_soon")
    runtime.engine.dispose()


def test_a_consent_340_days_old_is_announced_once_and_past_365_days_nothing_reaches_atlassian(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path, database_url)
    clock = on_clock(runtime)
    consent(fresh_sim, runtime, ["acme"], added_by=ADMIN)
    consented = clock.now()
    domain_id = health(runtime).domain.id
    ends = consented + timedelta(days=365)
    assert credential(runtime, "oauth_grant").state == "valid"

    clock.advance(days=340)
    grant = credential(runtime, "oauth_grant")
    assert (grant.expires_at, grant.state) == (ends, "expires_soon")
    for _ in range(3):
        warn_reconsent(runtime)
    runtime = restarted(runtime)
    warn_reconsent(runtime)
    assert len(notes(runtime, "reconsent_needed")) == 2  # one per user: Ada and Alan, once
    assert len(emails(runtime, "reconsent-needed:")) == 1

    clock.moment = ends
    status = health(runtime).status
    assert (status.label, status.reason) == ("Error", "grant expired: reconnect to consent again")
    assert credential(runtime, "oauth_grant").state == "expired"
    nothing_runs(runtime, fresh_sim, domain_id)

    fresh_sim.control("POST", "/clock", {"seconds": 365 * 86_400})
    consent(fresh_sim, runtime, ["acme"], added_by=ADMIN)  # Reconnect: a new consent
    assert credential(runtime, "oauth_grant").state == "valid"
    assert health(runtime).status.label != "Error"
    runtime.engine.dispose()
