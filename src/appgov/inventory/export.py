"""Exports of the app inventory: JSON (an array of objects) and CSV (same columns, formula-safe)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.storage.models import App, Domain

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
    "installed_at",
    "first_seen",
    "last_seen",
    "status",
)
FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")


def _status(app: App) -> str:
    if app.removed_at is not None:
        return "removed"
    return "enabled" if app.enabled else "disabled"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def app_rows(session: Session) -> Iterator[dict[str, Any]]:
    query = (
        select(App, Domain.name)
        .join(Domain, Domain.id == App.domain_id)
        .order_by(Domain.name, App.product, App.key)
    )
    for app, domain in session.execute(query):
        yield {
            "domain": domain,
            "product": app.product,
            "key": app.key,
            "name": app.name,
            "vendor": app.vendor,
            "framework": app.framework,
            "scopes": list(app.scopes or []),
            "version": app.version,
            "installed_by": app.installed_by,
            "installed_at": _iso(app.installed_at),
            "first_seen": _iso(app.first_seen_at),
            "last_seen": _iso(app.last_seen_at),
            "status": _status(app),
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
