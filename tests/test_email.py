"""What a finished sync tells people: the "domain is ready" email, exactly once through the outbox
(SY-11), over a real SMTP server (aiosmtpd); and the in-app notifications for the same event and for
sync errors, once per event per user."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from appgov.accounts.users import create_user
from appgov.connectors.retry import RetryPolicy
from appgov.notify import events
from appgov.notify.mailer import MailSender
from appgov.runtime import Runtime
from appgov.storage.models import App, Domain, Notification, OutboxMessage, SyncRun
from support.cli import appgov
from support.clock import FakeClock
from support.console import ADMIN_EMAIL, Console
from support.jobs import queue_sync
from support.product import connect, revoke_api_tokens, runtime_for, sync
from support.simulator import Simulator
from support.smtp import SmtpServer

ADMIN = "ada@example.com"
OTHER = "grace@example.com"
PUBLIC_URL = "https://appgov.example.com"
FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, defer_after=30)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


def mailing(runtime: Runtime, smtp: SmtpServer) -> Runtime:
    """The runtime, sending through the test's SMTP server, with two console users."""
    runtime.settings = replace(
        runtime.settings, smtp_host="127.0.0.1", smtp_port=smtp.port, mail_from="appgov@example.com",
        public_url=PUBLIC_URL,
    )  # fmt: skip
    with runtime.sessions.begin() as session:
        for email in (ADMIN, OTHER):
            create_user(session, email, email.split("@")[0], "a long enough password", datetime.now(UTC))
    return runtime


def connected(
    sim: Simulator, tmp_path: Path, database_url: str | None, smtp: SmtpServer
) -> tuple[Runtime, Domain]:
    """SMTP up, and acme connected from the console by ADMIN."""
    smtp.start()
    runtime = mailing(runtime_for(sim, tmp_path, database_url), smtp)
    return runtime, connect(runtime, sim, added_by=ADMIN)


def send(runtime: Runtime) -> int:
    return asyncio.run(MailSender(runtime).send_due())


def outbox(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.sessions() as session:
        return list(session.scalars(select(OutboxMessage)))


def notifications(runtime: Runtime, kind: str) -> list[Notification]:
    with runtime.sessions() as session:
        query = select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        return list(session.scalars(query))


def restarted(runtime: Runtime) -> Runtime:
    """A fresh process's runtime on the same database (nothing kept in memory)."""
    return Runtime.start(runtime.settings)


# --- the ready email --------------------------------------------------------------------------


def test_the_first_successful_sync_emails_the_admin_who_connected_it_exactly_once(
    sim: Simulator, tmp_path: Path, database_url: str, smtp: SmtpServer
) -> None:
    runtime, domain = connected(sim, tmp_path, database_url, smtp)

    assert sync(runtime, domain).status == "success"
    assert send(runtime) == 1
    for _ in range(2):  # a second and a third sync
        assert sync(runtime, domain).status == "success"
        assert send(runtime) == 0

    [email] = smtp.inbox.messages
    assert smtp.inbox.recipients == [[ADMIN]]
    assert (email["To"], email["From"]) == (ADMIN, "appgov@example.com")
    assert email["Subject"] == "appgov: acme is ready"
    assert email.get_content_type() == "text/plain"
    with runtime.sessions() as session:
        apps = session.scalar(
            select(func.count()).where(App.domain_id == domain.id, App.removed_at.is_(None))
        )
        ready_at = session.get_one(Domain, domain.id).ready_at
    truth = sim.ground_truth()["sites"]["acme"]["products"]["jira"]
    lines = email.get_content().splitlines()
    assert f"Apps: {apps}" in lines
    assert f"Users: {truth['users']['count']}" in lines
    assert f"See it in appgov: {PUBLIC_URL}/domains/{domain.id}" in lines
    [row] = outbox(runtime)
    assert (row.dedupe_key, row.sent_at is not None, ready_at is not None) == (
        f"domain-ready:{domain.id}",
        True,
        True,
    )


def test_a_confluence_only_sites_ready_email_counts_its_groups_members_as_its_users(
    sim: Simulator, tmp_path: Path, database_url: str, smtp: SmtpServer
) -> None:
    smtp.start()
    runtime = mailing(runtime_for(sim, tmp_path, database_url), smtp)
    domain = connect(runtime, sim, "acme-wiki", added_by=ADMIN)

    assert sync(runtime, domain).status == "success"
    assert send(runtime) == 1

    truth = sim.ground_truth()["sites"]["acme-wiki"]
    assert "jira" not in truth["products"]
    assert truth["group_member_accounts"] > 0
    [email] = smtp.inbox.messages
    lines = email.get_content().splitlines()
    assert f"Users: {truth['group_member_accounts']}" in lines
    assert f"Apps: {truth['products']['confluence']['app_inventory']['count']}" in lines


def test_an_email_queued_while_smtp_is_down_is_delivered_once_after_it_comes_back(
    sim: Simulator, tmp_path: Path, database_url: str, smtp: SmtpServer
) -> None:
    runtime = mailing(runtime_for(sim, tmp_path, database_url), smtp)  # the server is not started
    domain = connect(runtime, sim, added_by=ADMIN)
    assert sync(runtime, domain).status == "success"
    clock = FakeClock(datetime.now(UTC))
    runtime.clock = clock

    assert send(runtime) == 0
    [failed] = outbox(runtime)
    assert (failed.attempts, failed.sent_at) == (1, None)
    assert (failed.last_error or "").startswith("ConnectionRefusedError")
    assert failed.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert send(runtime) == 0  # not before its next attempt
    clock.advance(seconds=31)
    assert send(runtime) == 0
    [again] = outbox(runtime)
    assert (again.attempts, again.next_attempt_at) == (2, clock.now() + timedelta(seconds=60))

    smtp.start()
    clock.advance(minutes=10)
    assert send(runtime) == 1
    clock.advance(minutes=30)
    assert send(runtime) == 0
    assert len(smtp.inbox.messages) == 1


def test_a_crash_after_the_ready_commit_before_sending_still_sends_exactly_once(
    sim: Simulator, tmp_path: Path, database_url: str, smtp: SmtpServer
) -> None:
    runtime, domain = connected(sim, tmp_path, database_url, smtp)
    assert sync(runtime, domain).status == "success"  # ready committed; this process sends nothing

    after_crash = restarted(runtime)
    assert events.repair_ready(after_crash) == 0  # ready already: nothing to repair
    assert send(after_crash) == 1
    assert send(restarted(runtime)) == 0
    assert len(smtp.inbox.messages) == 1


def test_a_sync_killed_between_its_commit_and_the_ready_transaction_is_repaired_and_emails_once(
    sim: Simulator, tmp_path: Path, smtp: SmtpServer
) -> None:
    runtime, domain = connected(sim, tmp_path, None, smtp)  # SQLite: the CLI below reads the same file

    killed = appgov(sim, tmp_path, "sync", "acme", fault="after_run_commit")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with runtime.sessions() as session:
        assert session.scalar(select(SyncRun.status)) == "success"
        assert session.get_one(Domain, domain.id).ready_at is None
    assert outbox(runtime) == []

    after_crash = restarted(runtime)
    assert events.repair_ready(after_crash) == 1
    assert events.repair_ready(after_crash) == 0
    assert send(after_crash) == 1
    assert [m["To"] for m in smtp.inbox.messages] == [ADMIN]
    assert len(notifications(runtime, "domain_ready")) == 2  # one per user


def test_a_partial_first_sync_with_the_app_inventory_complete_makes_the_domain_ready(
    fresh_sim: Simulator, tmp_path: Path, smtp: SmtpServer
) -> None:
    runtime = mailing(runtime_for(fresh_sim, tmp_path), smtp)
    domain = connect(runtime, fresh_sim, added_by=ADMIN)
    fresh_sim.fault("server_error", site="acme", path="/rest/api/3/field", params={"status": 500})

    run = sync(runtime, domain, policy=FAST)

    assert run.status == "partial"
    assert list(run.errors) == ["jira.fields"]
    [message] = outbox(runtime)
    assert message.to_addr == ADMIN


def test_appgov_serve_syncs_a_queued_domain_in_the_background_and_emails_its_admin(
    sim: Simulator, smtp: SmtpServer
) -> None:
    smtp.start()
    console = Console(sim, APPGOV_SMTP_HOST="127.0.0.1", APPGOV_SMTP_PORT=str(smtp.port))
    try:
        runtime = runtime_for(sim, console.data_dir)  # the console's own database
        domain = connect(runtime, sim, added_by=ADMIN_EMAIL)
        queue_sync(runtime, domain.id, ADMIN_EMAIL)
        deadline = time.monotonic() + 90
        while not smtp.inbox.messages:
            assert time.monotonic() < deadline, f"no email within 90 s:\n{console.log()}"
            time.sleep(0.2)  # polling for the email, not timing it
    finally:
        console.stop()

    assert [m["To"] for m in smtp.inbox.messages] == [ADMIN_EMAIL]
    [notice] = notifications(runtime, "domain_ready")
    assert notice.message.startswith("acme is ready")


# --- notifications ----------------------------------------------------------------------------


def test_ready_and_error_notifications_reach_every_user_once_per_event(
    fresh_sim: Simulator, tmp_path: Path, database_url: str, smtp: SmtpServer
) -> None:
    runtime = mailing(runtime_for(fresh_sim, tmp_path, database_url), smtp)
    domain = connect(runtime, fresh_sim, added_by=ADMIN)

    def deferred_sync() -> SyncRun:
        fresh_sim.fault("rate_limit", site="acme", path="/rest/api/3/project/search", times=1,
                        params={"retry_after": 3600})  # fmt: skip
        run = sync(runtime, domain, policy=FAST)
        assert run.status == "deferred"
        return run

    first = deferred_sync()
    deferred_sync()  # deferred again for the same cause: no second notice
    errors = notifications(runtime, "sync_error")
    assert len(errors) == 2  # one per user
    assert len({n.message for n in errors}) == 1
    assert errors[0].message.startswith("acme: rate limited (retrying at ")
    assert f"{first.resume_at:%Y-%m-%d %H:%M}" in errors[0].message
    assert notifications(runtime, "domain_ready") == []

    assert sync(runtime, domain, policy=FAST).status == "success"
    assert sync(runtime, domain, policy=FAST).status == "success"
    assert len(notifications(runtime, "domain_ready")) == 2
    assert all(n.domain_id == domain.id for n in notifications(runtime, "domain_ready"))

    revoke_api_tokens(fresh_sim)
    for _ in range(2):
        assert sync(runtime, domain, policy=FAST).status == "failed"
    errors = notifications(runtime, "sync_error")
    assert len(errors) == 4
    assert "rate limited" not in errors[-1].message
