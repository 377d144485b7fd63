"""CS-02: a stored secret that does not decrypt (a flipped byte, a ciphertext copied from another
domain's row, a key that is not the one that wrote it) fails the domain's sync as
``secret_unreadable``: the domain shows Error with that reason, every user is told once, and the
token of one domain is never used for another. End to end over the simulator, through the
background runner as a queued sync runs, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from appgov.accounts.users import create_user
from appgov.integrations.status import domain_health
from appgov.outcomes import Code, Outcome
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, Domain, Notification, SyncRun
from appgov.workers.runner import Runner
from support.jobs import job_status, queue_sync, run_until
from support.product import connect, runtime_for
from support.simulator import Simulator

ADMINS = ("ada@example.com", "grace@example.com")


def synced_by_runner(runtime: Runtime, domain: Domain) -> SyncRun:
    """A sync queued and run as the background runner runs it; the domain's last run."""
    job_id = queue_sync(runtime, domain.id)
    asyncio.run(run_until([Runner(runtime)], lambda: job_status(runtime, job_id) == "done"))
    with runtime.sessions() as session:
        runs = select(SyncRun).where(SyncRun.domain_id == domain.id).order_by(SyncRun.id.desc())
        return session.scalars(runs).first() or pytest.fail("the job ended without a run")


def status_of(runtime: Runtime, domain: Domain) -> tuple[str, str | None]:
    with runtime.sessions() as session:
        health = domain_health(session, domain, runtime.settings, runtime.clock.now())
    return health.status.label, health.status.reason


def sealed_token(runtime: Runtime, domain: Domain) -> bytes:
    with runtime.sessions() as session:
        return session.scalars(select(ApiToken.secret).where(ApiToken.domain_id == domain.id)).one()


def store_token(runtime: Runtime, domain: Domain, sealed: bytes) -> None:
    with runtime.sessions.begin() as session:
        session.scalars(select(ApiToken).where(ApiToken.domain_id == domain.id)).one().secret = sealed


def errors_told(runtime: Runtime, domain: Domain) -> list[str]:
    with runtime.sessions() as session:
        query = select(Notification.message).where(
            Notification.domain_id == domain.id, Notification.kind == "sync_error"
        )
        return list(session.scalars(query))


def test_an_unreadable_api_token_fails_the_sync_as_secret_unreadable_and_tells_admins_once(
    fresh_sim: Simulator, tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = runtime_for(fresh_sim, tmp_path, database_url)
    with runtime.sessions.begin() as session:
        for email in ADMINS:
            create_user(session, email, email.split("@")[0], "a long enough password", runtime.clock.now())
    acme, wiki = connect(runtime, fresh_sim, "acme"), connect(runtime, fresh_sim, "acme-wiki")
    assert synced_by_runner(runtime, wiki).status == "success"
    unreadable = ("Error", Outcome(Code.SECRET_UNREADABLE).text)

    # acme's ciphertext copied onto acme-wiki's row: bound to acme's row, it opens nowhere else
    copied = sealed_token(runtime, acme)
    store_token(runtime, wiki, copied)
    fresh_sim.control("DELETE", "/log")
    for _ in range(2):  # the same failure again: no second notification
        run = synced_by_runner(runtime, wiki)
        assert (run.status, run.reason_code) == ("failed", "secret_unreadable")
    sent = fresh_sim.control("GET", "/log").json()
    assert [e for e in sent if e["auth"] != "none"] == []  # nothing went out, with acme's token or any
    assert status_of(runtime, wiki) == unreadable
    told = errors_told(runtime, wiki)
    assert len(told) == len(ADMINS)
    assert all(message == f"acme-wiki: {Outcome(Code.SECRET_UNREADABLE).text}" for message in told)

    # acme's own row still works; one flipped byte in it, and it does not
    assert synced_by_runner(runtime, acme).status == "success"
    flipped = bytearray(copied)
    flipped[-1] ^= 0x01
    store_token(runtime, acme, bytes(flipped))
    assert synced_by_runner(runtime, acme).reason_code == "secret_unreadable"
    assert status_of(runtime, acme) == unreadable
    assert len(errors_told(runtime, acme)) == len(ADMINS)

    logged = caplog.text
    assert copied.hex() not in logged  # never the ciphertext
    assert repr(copied)[2:-1] not in logged
