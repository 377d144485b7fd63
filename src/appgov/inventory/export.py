"""Exports of the app inventory: JSON (an array of objects) and CSV (same columns, formula-safe),
in the formats of ``appgov.exports``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from appgov.exports import export_chunks
from appgov.inventory import listing
from appgov.inventory.listing import AppFilter

COLUMNS = (
    "domain",
    "product",
    "key",
    "name",
    "vendor",
    "framework",
    "scopes",
    "egress",
    "scopes_source",
    "version",
    "installed_by",
    "installed_by_name",
    "installed_at",
    "installed_source",
    "first_seen",
    "last_seen",
    "status",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def app_rows(session: Session, where: AppFilter | None = None) -> Iterator[dict[str, Any]]:
    """The apps the filter selects (all by default), by domain, product and key, as export rows."""
    for app in listing.app_rows(session, where):
        yield {
            "domain": app.domain,
            "product": app.product,
            "key": app.key,
            "name": app.name,
            "vendor": app.vendor,
            "framework": app.framework,
            "scopes": app.scopes,
            "egress": app.egress,
            "scopes_source": app.scopes_source,
            "version": app.version,
            "installed_by": app.installed_by,
            "installed_by_name": app.installed_by_name,
            "installed_at": _iso(app.installed_at),
            "installed_source": app.installed_source,
            "first_seen": _iso(app.first_seen),
            "last_seen": _iso(app.last_seen),
            "status": app.status,
        }


def export_text(session: Session, format: str, where: AppFilter | None = None) -> str:
    """The apps the filter selects, as CSV or JSON (one of ``appgov.exports.FORMATS``)."""
    return "".join(export_chunks(format, COLUMNS, app_rows(session, where)))
