"""The app inventory: typed ``apps`` rows reconciled from each complete plugin-manager snapshot,
and the change log (installed, removed, upgraded, enabled, disabled) derived from successive
snapshots. The first snapshot of a product is the baseline and records no events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.storage import records
from appgov.storage.models import App, AppEvent

FORGE_PREFIX = "ari:cloud:ecosystem::app/"


def framework_of(key: str) -> str:
    return "forge" if key.startswith(FORGE_PREFIX) else "connect"


def reconcile(session: Session, domain_id: int, product: str, now: datetime) -> None:
    existing = {
        a.key: a
        for a in session.scalars(select(App).where(App.domain_id == domain_id, App.product == product))
    }
    baseline = not existing
    live = {r.key: r.data for r in records.live(session, domain_id, f"{product}.apps")}

    def event(key: str, kind: str, **detail: Any) -> None:
        if not baseline:
            session.add(
                AppEvent(domain_id=domain_id, product=product, app_key=key, kind=kind, at=now, detail=detail)
            )

    for key, plugin in live.items():
        app = existing.get(key)
        if app is None or app.removed_at is not None:
            app = app or App(domain_id=domain_id, product=product, key=key, first_seen_at=now, scopes=[])
            session.add(app)
            event(key, "installed", version=plugin.get("version"))
        else:
            if app.version != plugin.get("version"):
                event(key, "upgraded", previous=app.version, version=plugin.get("version"))
            if app.enabled != bool(plugin.get("enabled")):
                event(key, "enabled" if plugin.get("enabled") else "disabled")
        _refresh(app, plugin, now)
    for key, app in existing.items():
        if key not in live and app.removed_at is None:
            app.removed_at = now
            event(key, "removed", version=app.version)


def _refresh(app: App, plugin: dict[str, Any], now: datetime) -> None:
    app.name = str(plugin.get("name") or app.key)
    app.vendor = (plugin.get("vendor") or {}).get("name")
    app.version = plugin.get("version")
    app.enabled = bool(plugin.get("enabled"))
    app.framework = framework_of(app.key)
    app.last_seen_at = now
    app.removed_at = None
