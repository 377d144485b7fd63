"""Exports of the app inventory: JSON (an array of objects) and CSV (same columns, formula-safe)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

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
    "version",
    "installed_by",
    "installed_by_name",
    "installed_at",
    "first_seen",
    "last_seen",
    "status",
)
FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")


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
            "version": app.version,
            "installed_by": app.installed_by,
            "installed_by_name": app.installed_by_name,
            "installed_at": _iso(app.installed_at),
            "first_seen": _iso(app.first_seen),
            "last_seen": _iso(app.last_seen),
            "status": app.status,
        }


def to_json(rows: Iterator[dict[str, Any]]) -> str:
    return json.dumps(list(rows), ensure_ascii=False, indent=2)


def _cell(value: Any) -> str:
    text = " ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
    # a spreadsheet would run a cell that starts like a formula: make it text
    return "'" + text if text.startswith(FORMULA_LEADERS) else text


def to_csv(rows: Iterator[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[column]) for column in COLUMNS])
    return buffer.getvalue()


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def export_text(session: Session, format: str, where: AppFilter | None = None) -> str:
    """The apps the filter selects, as CSV or JSON (``format`` is a key of ``MEDIA_TYPES``)."""
    rows = app_rows(session, where)
    return to_csv(rows) if format == "csv" else to_json(rows)
