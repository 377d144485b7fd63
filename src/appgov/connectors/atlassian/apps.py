"""The app inventory: typed ``apps`` rows reconciled from each complete snapshot of the plugin
manager and the site's GraphQL gateway, and the change log (installed, removed, upgraded,
scopes_changed, enabled, disabled) derived from successive snapshots. The first snapshot of a source
is its baseline and records no events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.connectors.atlassian.datasets import (
    CONFLUENCE_APPS,
    CONFLUENCE_FORGE_INSTALLATIONS,
    JIRA_APPS,
    JIRA_FORGE_INSTALLATIONS,
    JIRA_USERS,
)
from appgov.connectors.atlassian.installers import installers
from appgov.connectors.atlassian.marketplace import ENRICHMENT_PENDING
from appgov.storage import records
from appgov.storage.models import App, AppEvent, DatasetState, Record
from appgov.storage.text import single_line

FORGE_PREFIX = "ari:cloud:ecosystem::app/"


def framework_of(key: str) -> str:
    return "forge" if key.startswith(FORGE_PREFIX) else "connect"


# the app inventory's sources per product: the plugin manager, then the site's GraphQL gateway
SOURCES = {
    "jira": (JIRA_APPS, JIRA_FORGE_INSTALLATIONS),
    "confluence": (CONFLUENCE_APPS, CONFLUENCE_FORGE_INSTALLATIONS),
}


def reconcile(session: Session, domain_id: int, product: str, dataset: str, now: datetime) -> None:
    """The product's apps from what both sources list, merged by app key (a Forge app is listed by
    the plugin manager, the gateway or both): an app that moves from one source to the other is
    neither removed nor installed. The plugin manager runs first and leaves Forge apps' removal to
    the gateway's pass; the first complete pass of a source is its baseline and records no events."""
    existing = {
        a.key: a
        for a in session.scalars(select(App).where(App.domain_id == domain_id, App.product == product))
    }
    plugin_manager, gateway = SOURCES[product]
    listed = {r.key: r.data for r in records.live(session, domain_id, plugin_manager)}
    installations = {r.key: r.data for r in records.live(session, domain_id, gateway)}
    live = {key: _merged(listed.get(key), installations.get(key)) for key in {*listed, *installations}}
    state = session.get(DatasetState, (domain_id, dataset))
    baseline = state is None or state.completed_at is None

    def event(key: str, kind: str, **detail: Any) -> None:
        if not baseline:
            session.add(
                AppEvent(domain_id=domain_id, product=product, app_key=key, kind=kind, at=now, detail=detail)
            )

    for key, plugin in live.items():
        app = existing.get(key)
        if "enabled" not in plugin:  # only the gateway lists it, and it does not say: as last known
            plugin = {**plugin, "enabled": app.enabled if app is not None else True}
        scopes, egress, scopes_source = _permissions(plugin)
        if app is None or app.removed_at is not None:
            app = app or App(
                domain_id=domain_id, product=product, dataset=dataset, key=key, first_seen_at=now, scopes=None
            )
            session.add(app)
            event(key, "installed", version=plugin.get("version"))
        else:
            upgraded = app.version != plugin.get("version")
            if upgraded:
                event(key, "upgraded", previous=app.version, version=plugin.get("version"))
            # an enrichment left pending kept an earlier sync's scopes: compare them once it comes
            compared = upgraded or (app.enrichment == ENRICHMENT_PENDING and scopes_source is not None)
            if (
                compared
                and scopes is not None
                and app.scopes is not None
                and sorted(scopes) != sorted(app.scopes)
            ):
                event(key, "scopes_changed", previous=app.scopes, scopes=scopes)
            if app.enabled != bool(plugin.get("enabled")):
                event(key, "enabled" if plugin.get("enabled") else "disabled")
        app.dataset = plugin_manager if key in listed else gateway
        _refresh(app, plugin, now)
        if scopes_source is not None or app.enrichment is None:  # pending: the earlier sync's are kept
            app.scopes, app.egress, app.scopes_source = scopes, egress, scopes_source
    speaks_for_forge = dataset == gateway
    for key, app in existing.items():
        if key not in live and app.removed_at is None and (speaks_for_forge or framework_of(key) != "forge"):
            app.removed_at = now
            event(key, "removed", version=app.version)
    apps = list(existing.values()) + [a for a in session.new if isinstance(a, App)]
    # a removed app keeps the installer it had: its source no longer lists it
    _installed(session, domain_id, product, [a for a in apps if a.removed_at is None])
    _named_from_directory(session, domain_id, [a for a in apps if a.installed_by is not None])


def _merged(plugin: dict[str, Any] | None, installation: dict[str, Any] | None) -> dict[str, Any]:
    """One app from what each source says: the plugin manager's fields first (it alone says whether
    an app is enabled), the gateway's installation kept whole for its scopes, egress and installer."""
    if installation is None:
        assert plugin is not None
        return plugin
    return {**installation, **(plugin or {}), "installation": installation}


def _permissions(plugin: dict[str, Any]) -> tuple[list[str] | None, list[str] | None, str | None]:
    """Scopes and egress with their source: the gateway where it answers them, else the Marketplace
    (scopes only: it shows no egress), else unknown (None, never an empty list)."""
    installation = plugin.get("installation") or {}
    if installation.get("scopes") is not None:
        return installation["scopes"], installation.get("egress"), "gateway"
    listing = plugin.get("marketplace") or {}
    if listing.get("pending") is None and listing.get("scopes") is not None:
        return list(listing["scopes"]), None, "marketplace"
    return None, None, None


def refresh_installers(session: Session, domain_id: int) -> None:
    """The domain's live apps' installers from the sources again, outside a sync: after the
    organization's audit log brought new installations."""
    apps = list(session.scalars(select(App).where(App.domain_id == domain_id, App.removed_at.is_(None))))
    for product in {a.product for a in apps}:
        _installed(session, domain_id, product, [a for a in apps if a.product == product])
    _named_from_directory(session, domain_id, [a for a in apps if a.installed_by is not None])


def _installed(session: Session, domain_id: int, product: str, apps: list[App]) -> None:
    """Each app's installer and install time from the first documented source that names them
    (``installers``), and which source that was; unknown (None) when none does."""
    found = installers(session, domain_id, product, [a.key for a in apps])
    for app in apps:
        installer = found.get(app.key)
        app.installed_source = installer.source.value if installer else None
        app.installed_by = installer.account_id if installer else None
        app.installed_by_name = installer.name if installer else None
        app.installed_at = installer.at if installer else None


def _named_from_directory(session: Session, domain_id: int, apps: list[App]) -> None:
    """Installers named as the domain's Jira directory names them now (a renamed person shows by
    the new name); one it does not hold keeps the source's name (the Confluence group members
    carry account ids only)."""
    if not apps:
        return
    directory = session.execute(
        select(Record.key, Record.data).where(
            Record.domain_id == domain_id,
            Record.dataset == JIRA_USERS,
            Record.key.in_({a.installed_by for a in apps}),
        )
    )
    names = {account: single_line(user.get("displayName")) for account, user in directory}
    for app in apps:
        app.installed_by_name = names.get(app.installed_by) or app.installed_by_name


def _refresh(app: App, plugin: dict[str, Any], now: datetime) -> None:
    listing = plugin.get("marketplace") or {}
    app.name = str(plugin.get("name") or app.key)
    app.vendor = (plugin.get("vendor") or {}).get("name") or listing.get("vendor")
    app.version = plugin.get("version")
    app.enabled = bool(plugin.get("enabled"))
    app.enrichment = listing.get("pending")
    if app.enrichment is None:
        app.framework = listing.get("framework") or framework_of(app.key)
        app.marketplace = listing if listing.get("listed") else None
    elif app.framework is None:  # new, and not enriched yet: what its key tells
        app.framework = framework_of(app.key)
    app.last_seen_at = now
    app.removed_at = None
