"""App installs, uninstalls, upgrades and disables between syncs give exactly the right change
events; the first sync is the baseline; who installed an app comes from the audit log."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select

from appgov.storage.models import App, AppEvent
from support.product import connect, runtime_for, sync
from support.simulator import Simulator


def marketplace_keys(sim: Simulator) -> list[str]:
    page = sim.get("/marketplace/rest/2/addons", params={"limit": 50}).json()
    return [addon["key"] for addon in page["_embedded"]["addons"]]


def test_changes_between_syncs_become_exactly_these_events(fresh_sim: Simulator, tmp_path: Path) -> None:
    runtime = runtime_for(fresh_sim, tmp_path)
    domain = connect(runtime, fresh_sim)
    sync(runtime, domain)
    with runtime.sessions() as session:
        assert list(session.scalars(select(AppEvent))) == []  # the first snapshot is the baseline
        jira_apps = {a.key: a for a in session.scalars(select(App).where(App.product == "jira"))}
    new_key = next(k for k in marketplace_keys(fresh_sim) if k not in jira_apps)
    upgraded_key = next(key for key, app in sorted(jira_apps.items()) if app.marketplace is not None)
    disabled_key = next(key for key, app in jira_apps.items() if app.enabled and key != upgraded_key)
    removed_key = next(key for key in sorted(jira_apps) if key not in (upgraded_key, disabled_key))

    app_path = "/sites/acme/apps/jira/{}"
    new_scopes = ["manage:jira-configuration"] if upgraded_key.startswith("ari:") else ["ADMIN", "READ"]
    fresh_sim.control("POST", "/sites/acme/apps", {"product": "jira", "key": new_key})
    fresh_sim.control("DELETE", app_path.format(quote(removed_key, safe="")))
    fresh_sim.control(
        "POST", app_path.format(quote(upgraded_key, safe="")) + "/upgrade", {"scopes": new_scopes}
    )
    fresh_sim.control("POST", app_path.format(quote(disabled_key, safe="")) + "/disable", {})
    sync(runtime, domain)

    with runtime.sessions() as session:
        events = {(e.app_key, e.kind) for e in session.scalars(select(AppEvent))}
        new_app = session.scalar(select(App).where(App.key == new_key))
    assert events == {
        (new_key, "installed"),
        (removed_key, "removed"),
        (upgraded_key, "upgraded"),
        (upgraded_key, "scopes_changed"),
        (disabled_key, "disabled"),
    }
    assert new_app is not None
    assert new_app.installed_by == fresh_sim.state["accounts"]["site_admin"]["account_id"]
    assert new_app.installed_at is not None


def test_apps_are_enriched_from_the_marketplace_and_private_apps_say_so(
    sim: Simulator, tmp_path: Path
) -> None:
    runtime = runtime_for(sim, tmp_path)
    sync(runtime, connect(runtime, sim))
    with runtime.sessions() as session:
        apps = list(session.scalars(select(App)))
    listed = [a for a in apps if a.marketplace is not None]
    private = [a for a in apps if a.marketplace is None]
    assert listed
    assert private
    assert all(a.framework in ("connect", "forge") for a in apps)
    connect_apps = [a for a in listed if a.framework == "connect"]
    forge_apps = [a for a in listed if a.framework == "forge"]
    assert connect_apps
    assert all(a.scopes for a in connect_apps)
    assert all(a.key.startswith("ari:cloud:ecosystem::app/") for a in forge_apps)
    assert all(a.scopes for a in forge_apps)
