"""A Marketplace that asks appgov to wait past the retry policy's threshold defers only the apps'
enrichment, never the domain's sync: the sync succeeds with every app stored and flagged
``enrichment_pending`` (an earlier enrichment kept, a new app's missing), the Domain page and the
REST API say so on the apps data set, the Marketplace is not asked again in that sync, and the next
sync enriches the apps and records the scope change an upgrade brought meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from appgov.integrations.activity import dataset_notes
from appgov.inventory.listing import AppFilter, app_rows
from appgov.runtime import Runtime
from appgov.storage.models import App, AppEvent
from support.cli import appgov
from support.console import Console
from support.console_data import seeded_console
from support.oauth_browser import private_simulator
from support.product import connect, runtime_for, sync
from support.simulator import Simulator

PENDING = "enrichment_pending"


def jira_apps(runtime: Runtime) -> dict[str, App]:
    with runtime.sessions() as session:
        return {a.key: a for a in session.scalars(select(App).where(App.product == "jira"))}


def enrichment(app: App) -> tuple[Any, ...]:
    return (app.framework, sorted(app.scopes), app.marketplace)


def marketplace_requests(sim: Simulator) -> int:
    return sum(1 for e in sim.control("GET", "/log?limit=10000").json() if e["surface"] == "marketplace")


def test_a_long_marketplace_wait_leaves_enrichment_pending_and_the_next_sync_brings_it(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = runtime_for(fresh_sim, tmp_path)
    domain = connect(runtime, fresh_sim)
    assert sync(runtime, domain).status == "success"
    before = jira_apps(runtime)
    assert all(app.enrichment is None for app in before.values())
    upgraded = next(k for k, app in sorted(before.items()) if app.framework == "connect" and app.marketplace)
    new_scopes = sorted({"ADMIN", "READ"} - set(before[upgraded].scopes)) or ["ACT_AS_USER"]
    upgrade = f"/sites/acme/apps/jira/{quote(upgraded, safe='')}/upgrade"
    fresh_sim.control("POST", upgrade, {"scopes": new_scopes})

    fresh_sim.control("DELETE", "/log")
    fresh_sim.fault("rate_limit", site="marketplace", path="*", params={"retry_after": 3600})
    waited = sync(runtime, domain)
    assert waited.status == "success", (waited.status, waited.message)
    truth = fresh_sim.ground_truth()["sites"]["acme"]["products"]["jira"]
    assert waited.counts["jira.apps"] == truth["apps"]["count"]
    pending = jira_apps(runtime)
    assert set(pending) == set(before)
    assert {app.enrichment for app in pending.values()} == {PENDING}
    assert {k: enrichment(a) for k, a in pending.items()} == {k: enrichment(a) for k, a in before.items()}
    # the apps wait on one answer's Retry-After: at most one request per enrichment slot went out
    assert marketplace_requests(fresh_sim) <= 8
    with runtime.sessions() as session:
        assert {row.enrichment for row in app_rows(session, AppFilter(domain_id=domain.id))} == {PENDING}
        assert dataset_notes(session, domain.id)["jira.apps"] == PENDING
        assert {e.kind for e in session.scalars(select(AppEvent))} == {"upgraded"}

    fresh_sim.control("DELETE", "/faults")
    assert sync(runtime, domain).status == "success"
    enriched = jira_apps(runtime)
    assert all(app.enrichment is None for app in enriched.values())
    with runtime.sessions() as session:
        assert dataset_notes(session, domain.id) == {}
    assert set(new_scopes) <= set(enriched[upgraded].scopes)
    with runtime.sessions() as session:
        kinds = sorted((e.app_key, e.kind) for e in session.scalars(select(AppEvent)))
    assert kinds == [(upgraded, "scopes_changed"), (upgraded, "upgraded")]


@pytest.fixture(scope="module")
def tenant() -> Iterator[Simulator]:
    yield from private_simulator()


@pytest.fixture(scope="module")
def console(tenant: Simulator) -> Iterator[Console]:
    """A console whose acme domain was synced once more while the Marketplace asked to wait."""

    def sync_while_the_marketplace_waits(data_dir: Path) -> None:
        tenant.fault("rate_limit", site="marketplace", path="*", params={"retry_after": 3600})
        assert appgov(tenant, data_dir, "sync", "acme").returncode == 0
        tenant.control("DELETE", "/faults")

    yield from seeded_console(tenant, ("acme",), then=sync_while_the_marketplace_waits)


def test_the_console_and_the_api_show_the_pending_enrichment(console: Console) -> None:
    admin = console.sign_in()
    domain = admin.get("/api/v1/domains").json()[0]
    detail = admin.get(f"/api/v1/domains/{domain['id']}").json()
    notes = {d["name"]: d["note"] for d in detail["datasets"]}
    assert notes["jira.apps"] == PENDING
    assert notes["jira.users"] is None
    assert domain["status"] == "Success"
    page = admin.get(f"/domains/{domain['id']}").text
    assert f'data-note="{PENDING}">the Marketplace asked appgov to wait' in page
    apps = admin.get("/api/v1/apps", params={"per_page": 200}).json()["items"]
    assert apps
    assert {app["enrichment"] for app in apps} == {PENDING}
    assert f'data-enrichment="{PENDING}"' in admin.get("/apps").text
