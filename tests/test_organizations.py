"""An organization connected with its org API key, read from the simulator's org admin API over real
HTTP, on SQLite and PostgreSQL: the key validated before it is stored and never shown, the audit
log's App actions read incrementally within the events rate limit, the managed accounts' API tokens,
the organization's own API keys, and who installed each app on a domain's site
(``installers.from_organization``, the inventory at once)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from appgov.connectors.atlassian.installers import from_organization
from appgov.connectors.base import DomainError
from appgov.connectors.retry import Deferred, RetryPolicy
from appgov.integrations.organizations import (
    ORG_SYNC,
    add_organization,
    api_keys,
    api_tokens,
    app_events,
    delete_organization,
    replace_org_key,
    sync_organization,
)
from appgov.outcomes import Code
from appgov.runtime import Runtime
from appgov.storage.models import App, AuditEvent, Job, Organization, OrgApiKey, OrgAppEvent
from appgov.workers.org_sync_job import plan_org_syncs
from appgov.workers.runner import Runner
from support.cli import appgov
from support.jobs import run_until
from support.product import connect, principal_for, runtime_for, sync
from support.simulator import Simulator

NO_WAITING = RetryPolicy(defer_after=0.0)  # a 429 defers the read at once instead of sleeping


@pytest.fixture
def runtime(fresh_sim: Simulator, tmp_path: Path, database_url: str) -> Runtime:
    return runtime_for(fresh_sim, tmp_path, database_url)


def add_org(runtime: Runtime, sim: Simulator) -> int:
    done = asyncio.run(
        add_organization(runtime, sim.state["org"]["api_key"], principal_for(runtime, "tester"))
    )
    return done.organization_id


def test_connecting_validates_the_key_stores_it_encrypted_and_audits_it_masked(
    runtime: Runtime, fresh_sim: Simulator
) -> None:
    key = fresh_sim.state["org"]["api_key"]
    with pytest.raises(DomainError, match="refused the organization API key") as refused:
        asyncio.run(add_organization(runtime, "not-the-key", principal_for(runtime, "tester")))
    assert "not-the-key" not in str(refused.value)
    with pytest.raises(DomainError, match="masked form"):
        asyncio.run(
            add_organization(runtime, "\u2022\u2022\u2022\u2022" + key[-4:], principal_for(runtime, "t"))
        )
    org_id = add_org(runtime, fresh_sim)
    with runtime.sessions() as session:
        org = session.get_one(Organization, org_id)
        assert (org.org_id, org.name) == (fresh_sim.state["org"]["org_id"], "Acme")
        assert key.encode() not in org.secret
        audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "organization.added")).one()
        assert key not in str(audit.detail)
        assert key[-4:] in str(audit.detail)
        assert session.scalar(select(Job.kind).where(Job.kind == ORG_SYNC)) == ORG_SYNC  # its first read
    with pytest.raises(DomainError, match="already connected"):
        add_org(runtime, fresh_sim)


def test_the_organization_audit_log_names_who_installed_an_app_through_the_simulator(
    runtime: Runtime, fresh_sim: Simulator
) -> None:
    domain = connect(runtime, fresh_sim)
    org_id = add_org(runtime, fresh_sim)
    assert asyncio.run(sync_organization(runtime, org_id)) > 0
    with runtime.sessions() as session:
        generated = from_organization(session, domain.id, "jira")
    plugins = fresh_sim.site_get("/rest/plugins/1.0/").json()["plugins"]
    assert {p["key"] for p in plugins if p["userInstalled"]} <= set(generated)

    installer = fresh_sim.state["accounts"]["ordinary"]
    key = fresh_sim.install_new_app(actor=installer["account_id"])
    assert asyncio.run(sync_organization(runtime, org_id)) == 1  # only what is new since the bookmark
    with runtime.sessions() as session:
        found = from_organization(session, domain.id, "jira")[key]
        other_site = connect(runtime, fresh_sim, site="acme-eng")
        elsewhere = from_organization(session, other_site.id, "jira").get(key)  # another site's stay apart
    assert elsewhere is None or elsewhere.account_id != installer["account_id"]
    assert (found.source, found.account_id, found.name) == (
        "org_audit",
        installer["account_id"],
        installer["display_name"],
    )
    assert found.at is not None


def test_the_inventory_takes_installers_from_the_organization_first_and_at_once(
    runtime: Runtime, fresh_sim: Simulator
) -> None:
    domain = connect(runtime, fresh_sim)
    installer = fresh_sim.state["accounts"]["ordinary"]
    key = fresh_sim.install_new_app(actor=installer["account_id"])
    sync(runtime, domain)
    with runtime.sessions() as session:
        app = session.scalars(select(App).where(App.domain_id == domain.id, App.key == key)).one()
        assert app.installed_source != "org_audit"  # no organization yet
    asyncio.run(sync_organization(runtime, add_org(runtime, fresh_sim)))  # no domain sync in between
    with runtime.sessions() as session:
        app = session.scalars(select(App).where(App.domain_id == domain.id, App.key == key)).one()
        assert (app.installed_source, app.installed_by, app.installed_by_name) == (
            "org_audit",
            installer["account_id"],
            installer["display_name"],
        )


def test_the_read_keeps_app_actions_and_api_tokens_with_their_owners(
    runtime: Runtime, fresh_sim: Simulator
) -> None:
    org_id = add_org(runtime, fresh_sim)
    key = fresh_sim.install_new_app()
    fresh_sim.control("POST", f"/sites/acme/apps/jira/{key}/disable", {})
    asyncio.run(sync_organization(runtime, org_id))
    with runtime.sessions() as session:
        newest = app_events(session, org_id)[:2]
        tokens = api_tokens(session, org_id)
    # newest first; the two may share a millisecond, and then neither time says which came first
    assert {(e.app_key, e.kind) for e in newest} == {(key, "disable"), (key, "install")}
    assert newest[0].at >= newest[1].at
    ordinary = fresh_sim.state["accounts"]["ordinary"]
    mine = [t for t in tokens if t.owner_account_id == ordinary["account_id"]]
    assert [t.owner_email for t in mine] == [ordinary["email"]]
    assert mine[0].created_at is not None


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def test_the_read_keeps_the_organizations_api_keys_as_served_with_their_creators_replacing_the_last_list(
    runtime: Runtime, fresh_sim: Simulator
) -> None:
    org_id = add_org(runtime, fresh_sim)
    with runtime.sessions.begin() as session:  # a key the organization no longer lists
        session.add(OrgApiKey(organization_id=org_id, key_id="gone", label="old", scopes=[]))
    asyncio.run(sync_organization(runtime, org_id))
    org = fresh_sim.state["org"]
    served = fresh_sim.get(
        f"{fresh_sim.url}/admin/api-access/v1/orgs/{org['org_id']}/api-keys",
        headers={"Authorization": f"Bearer {org['api_key']}"},
    ).json()["data"]
    with runtime.sessions() as session:
        stored = api_keys(session, org_id)
    assert sorted(
        (k.key_id, k.label, k.created_by_id, k.created_by_name, k.created_by_email, k.created_at,
         k.expires_at, k.last_active_at, k.scopes)
        for k in stored
    ) == sorted(
        (k["id"], k["label"], k["createdBy"]["id"], k["createdBy"]["name"], k["createdBy"]["email"],
         _moment(k["createdAt"]), _moment(k["expiresAt"]), _moment(k["lastActiveAt"]), k["scopes"])
        for k in served
    )  # fmt: skip
    admin = fresh_sim.state["accounts"]["site_admin"]
    assert ("appgov", admin["email"]) in {(k.label, k.created_by_email) for k in stored}
    assert any(k.last_active_at is None for k in stored)  # a key never used stays "never"


def test_a_rate_limited_events_list_defers_the_read_which_resumes_once_the_limit_allows(
    runtime: Runtime, fresh_sim: Simulator
) -> None:
    org_id = add_org(runtime, fresh_sim)
    events = f"{fresh_sim.url}/admin/v1/orgs/{fresh_sim.state['org']['org_id']}/events"
    bearer = {"Authorization": f"Bearer {fresh_sim.state['org']['api_key']}"}
    while fresh_sim.http.get(events, headers=bearer).status_code != 429:
        continue  # spend the 10 requests a minute
    with pytest.raises(Deferred) as deferred:
        asyncio.run(sync_organization(runtime, org_id, policy=NO_WAITING))
    assert deferred.value.outcome.code == Code.RATE_LIMITED
    fresh_sim.control("POST", "/clock", {"seconds": 61})
    assert asyncio.run(sync_organization(runtime, org_id, policy=NO_WAITING)) > 0


def test_a_revoked_key_is_kept_as_the_read_error_and_a_key_of_another_org_is_refused(
    runtime: Runtime, fresh_sim: Simulator
) -> None:
    org_id = add_org(runtime, fresh_sim)
    with runtime.sessions.begin() as session:
        org = session.get_one(Organization, org_id)
        org.secret = runtime.secrets.encrypt("revoked-key", f"organization_api_key:{org_id}")
    assert asyncio.run(sync_organization(runtime, org_id)) == 0
    with runtime.sessions() as session:
        error = session.get_one(Organization, org_id).sync_error
    assert "refused the organization API key" in str(error)
    assert "revoked-key" not in str(error)
    actor = principal_for(runtime, "tester")
    asyncio.run(replace_org_key(runtime, org_id, fresh_sim.state["org"]["api_key"], actor))
    with runtime.sessions() as session:
        assert session.get_one(Organization, org_id).sync_error is None


def test_the_scheduler_queues_a_read_the_runner_does_and_deleting_removes_everything(
    runtime: Runtime, fresh_sim: Simulator
) -> None:
    org_id = add_org(runtime, fresh_sim)
    assert plan_org_syncs(runtime) == 0  # its first read is queued already

    def read() -> bool:
        """the organization was read"""
        with runtime.sessions() as session:
            return session.get_one(Organization, org_id).synced_at is not None

    asyncio.run(run_until([Runner(runtime)], read))
    assert plan_org_syncs(runtime) == 0  # not due before the cadence
    delete_organization(runtime, org_id, principal_for(runtime, "tester"))
    with runtime.sessions() as session:
        assert session.scalar(select(OrgAppEvent)) is None
        assert session.scalar(select(Organization)) is None


def test_the_command_line_connects_lists_masked_replaces_and_deletes_with_confirmation(
    sim: Simulator, tmp_path: Path
) -> None:
    key = sim.state["org"]["api_key"]
    assert "--api-key-stdin" in appgov(sim, tmp_path, "orgs", "add").stderr
    refused = appgov(sim, tmp_path, "orgs", "add", "--api-key-stdin", stdin="not-the-key\n")
    assert refused.returncode == 1
    assert "refused the organization API key" in refused.stderr
    assert "not-the-key" not in refused.stderr
    assert appgov(sim, tmp_path, "orgs", "add", "--api-key-stdin", stdin=key + "\n").returncode == 0
    listed = appgov(sim, tmp_path, "orgs", "list").stdout
    assert "Acme" in listed
    assert key[-4:] in listed
    assert key not in listed
    unconfirmed = appgov(sim, tmp_path, "orgs", "replace-key", "Acme", "--api-key-stdin", stdin=key + "\n")
    assert "--yes" in unconfirmed.stderr
    replaced = appgov(
        sim, tmp_path, "orgs", "replace-key", "Acme", "--api-key-stdin", "--yes", stdin=key + "\n"
    )
    assert replaced.returncode == 0
    assert appgov(sim, tmp_path, "orgs", "delete", "Acme").returncode == 1
    assert appgov(sim, tmp_path, "orgs", "delete", "Acme", "--yes").returncode == 0
    assert "Acme" not in appgov(sim, tmp_path, "orgs", "list").stdout


@pytest.fixture
def small_sim() -> Iterator[Simulator]:
    simulator = Simulator("small")  # its org audit log spans several pages of events
    yield simulator
    simulator.stop()


def test_a_read_stopped_by_the_rate_limit_mid_log_resumes_from_its_page_cursor(
    small_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(small_sim, tmp_path, database_url)
    org_id = add_org(runtime, small_sim)
    events = f"{small_sim.url}/admin/v1/orgs/{small_sim.state['org']['org_id']}/events"
    bearer = {"Authorization": f"Bearer {small_sim.state['org']['api_key']}"}
    for _ in range(8):  # two requests of the minute left: two pages, then a 429
        assert small_sim.http.get(events, headers=bearer).status_code == 200
    with pytest.raises(Deferred):
        asyncio.run(sync_organization(runtime, org_id, policy=NO_WAITING))
    with runtime.sessions() as session:
        org = session.get_one(Organization, org_id)
        assert org.events_cursor is not None
        assert "cursor=" in org.events_cursor["url"]  # the third page, where the read stopped
        assert org.events_from is None  # no bookmark before the log was read to its end
        first = len(session.scalars(select(OrgAppEvent.event_id)).all())
    assert first > 0
    small_sim.control("POST", "/clock", {"seconds": 61})
    added = asyncio.run(sync_organization(runtime, org_id, policy=NO_WAITING))
    with runtime.sessions() as session:
        org = session.get_one(Organization, org_id)
        assert (org.events_cursor, org.synced_at is not None) == (None, True)
        assert org.events_from is not None
        total = len(session.scalars(select(OrgAppEvent.event_id)).all())
    assert added > 0
    assert total == first + added


def test_a_stored_page_cursor_the_api_refuses_is_dropped_and_the_next_read_starts_from_the_bookmark(
    runtime: Runtime, fresh_sim: Simulator
) -> None:
    org_id = add_org(runtime, fresh_sim)
    events = f"{fresh_sim.url}/admin/v1/orgs/{fresh_sim.state['org']['org_id']}/events"
    with runtime.sessions.begin() as session:
        org = session.get_one(Organization, org_id)
        org.events_cursor = {"url": f"{events}?cursor=stale", "params": {}, "newest": 0}
    assert asyncio.run(sync_organization(runtime, org_id)) == 0
    with runtime.sessions() as session:
        org = session.get_one(Organization, org_id)
        assert "HTTP 400" in str(org.sync_error)
        assert org.events_cursor is None
    assert asyncio.run(sync_organization(runtime, org_id)) > 0
