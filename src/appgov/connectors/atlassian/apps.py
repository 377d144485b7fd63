"""The app inventory: typed ``apps`` rows reconciled from each complete plugin-manager snapshot,
and the change log (installed, removed, upgraded, enabled, disabled) derived from successive
snapshots. The first snapshot of a product is the baseline and records no events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.connectors.atlassian.datasets import JIRA_USERS
from appgov.connectors.atlassian.marketplace import ENRICHMENT_PENDING
from appgov.storage import records
from appgov.storage.models import App, AppEvent, Record
from appgov.storage.text import single_line

FORGE_PREFIX = "ari:cloud:ecosystem::app/"


def framework_of(key: str) -> str:
    return "forge" if key.startswith(FORGE_PREFIX) else "connect"


def reconcile(session: Session, domain_id: int, product: str, dataset: str, now: datetime) -> None:
    existing = {
        a.key: a
        for a in session.scalars(select(App).where(App.domain_id == domain_id, App.product == product))
    }
    baseline = not existing
    live = {r.key: r.data for r in records.live(session, domain_id, dataset)}

    def event(key: str, kind: str, **detail: Any) -> None:
        if not baseline:
            session.add(
                AppEvent(domain_id=domain_id, product=product, app_key=key, kind=kind, at=now, detail=detail)
            )

    for key, plugin in live.items():
        app = existing.get(key)
        if app is None or app.removed_at is not None:
            app = app or App(
                domain_id=domain_id, product=product, dataset=dataset, key=key, first_seen_at=now, scopes=[]
            )
            session.add(app)
            event(key, "installed", version=plugin.get("version"))
        else:
            upgraded = app.version != plugin.get("version")
            if upgraded:
                event(key, "upgraded", previous=app.version, version=plugin.get("version"))
            # an enrichment left pending kept an earlier sync's scopes: compare them once it comes
            if upgraded or (app.enrichment == ENRICHMENT_PENDING and app.marketplace is not None):
                scopes = (plugin.get("marketplace") or {}).get("scopes")
                if scopes is not None and app.scopes is not None and sorted(scopes) != sorted(app.scopes):
                    event(key, "scopes_changed", previous=app.scopes, scopes=scopes)
            if app.enabled != bool(plugin.get("enabled")):
                event(key, "enabled" if plugin.get("enabled") else "disabled")
        _refresh(app, plugin, now)
    for key, app in existing.items():
        if key not in live and app.removed_at is None:
            app.removed_at = now
            event(key, "removed", version=app.version)
    apps = list(existing.values()) + [a for a in session.new if isinstance(a, App)]
    # an installer without a name is looked for again: apps installed before names were kept have
    # none yet. The apps run after the directory (sync.engine.depends_on), so the names are looked up
    # here, once, and the inventory only reads them.
    _installed_from_audit(
        session, domain_id, product, [a for a in apps if a.installed_at is None or _unnamed(a)]
    )
    _named_from_directory(session, domain_id, [a for a in apps if a.installed_by is not None])


def _unnamed(app: App) -> bool:
    return app.installed_by is not None and app.installed_by_name is None


def _installed_from_audit(session: Session, domain_id: int, product: str, apps: list[App]) -> None:
    """Who installed each app and when: the latest install record of the product's audit log.

    Jira's records name the app by key in ``objectItem`` and the installer by account id only;
    Confluence's name the app by name in ``affectedObject`` and the installer in ``author``, with
    the display name.
    """
    wanted = {a.key: a for a in apps} | {a.name: a for a in apps}
    if not wanted:
        return
    for record in records.live(session, domain_id, f"{product}.audit_records"):
        data = record.data
        if (
            "install" not in str(data.get("summary", "")).lower()
            or "uninstall" in str(data.get("summary")).lower()
        ):
            continue
        subject = (data.get("objectItem") or {}).get("id") or (data.get("affectedObject") or {}).get("name")
        app = wanted.get(str(subject))
        if app is None:
            continue
        when = _audit_time(data)
        # not only a later record: the one an unnamed installer came from is read again for the name
        if when is not None and (app.installed_at is None or when >= app.installed_at):
            author = data.get("author") or {}
            app.installed_at = when
            app.installed_by = data.get("authorAccountId") or author.get("accountId")
            app.installed_by_name = single_line(author.get("displayName") or author.get("publicName"))


def _named_from_directory(session: Session, domain_id: int, apps: list[App]) -> None:
    """Installers named as the domain's Jira directory names them now (a renamed person shows by
    the new name); one it does not hold keeps the audit record's name (the Confluence group members
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


def _audit_time(data: dict[str, Any]) -> datetime | None:
    if isinstance(data.get("creationDate"), int):
        return datetime.fromtimestamp(data["creationDate"] / 1000, tz=UTC)
    try:
        return datetime.strptime(str(data.get("created")), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


def _refresh(app: App, plugin: dict[str, Any], now: datetime) -> None:
    listing = plugin.get("marketplace") or {}
    app.name = str(plugin.get("name") or app.key)
    app.vendor = (plugin.get("vendor") or {}).get("name")
    app.version = plugin.get("version")
    app.enabled = bool(plugin.get("enabled"))
    app.enrichment = listing.get("pending")
    if app.enrichment is None:
        app.framework = listing.get("framework") or framework_of(app.key)
        app.scopes = listing.get("scopes") or []
        app.marketplace = listing if listing.get("listed") else None
    elif app.framework is None:  # new, and not enriched yet: what its key tells
        app.framework = framework_of(app.key)
    app.last_seen_at = now
    app.removed_at = None
