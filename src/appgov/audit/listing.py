"""Reading the audit trail: one filtered query, newest first, paged by event id (a page never shifts
when events are written meanwhile), and its exports. The Audit page, the REST API and the command
line all read the trail through it, so a filter selects the same events everywhere. Reading never
changes an event."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from appgov.audit.trail import AuditOutcome, clean_detail, one_line
from appgov.storage.models import AuditEvent

PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
EXPORT_LIMIT = 100_000  # the newest events an export holds; narrow the filters for older ones
EXPORT_BATCH = 1_000
OUTCOMES = tuple(AuditOutcome)
COLUMNS = (
    "id", "at", "actor", "actor_user_id", "via", "action", "target", "outcome", "address",
    "request_id", "detail",
)  # fmt: skip


@dataclass(frozen=True)
class AuditFilter:
    """Which events: whose actor or target contains some text (ignoring case), of one action (or of
    every action under a prefix that ends with a dot, like ``domain.``), with one outcome, at or
    after ``since`` and before ``until``."""

    actor: str = ""
    action: str = ""
    outcome: str | None = None
    target: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(
        cls, actor: str = "", action: str = "", outcome: str = "", target: str = "", since: str = "",
        until: str = "",
    ) -> AuditFilter:  # fmt: skip
        """From text (a query string, command-line options); a ValueError says which value is wrong."""
        if outcome and outcome not in OUTCOMES:
            raise ValueError(f"outcome is one of {', '.join(OUTCOMES)}")
        return cls(
            actor.strip()[:320], action.strip()[:64], outcome or None, target.strip()[:500],
            moment(since, "since") if since.strip() else None,
            moment(until, "until", end_of_day=True) if until.strip() else None,
        )  # fmt: skip


def moment(text: str, name: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date and time, UTC unless it says otherwise. A date alone is its midnight,
    or with ``end_of_day`` the next midnight (so ``until=2026-12-05`` keeps all of that day)."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            return day + timedelta(days=1) if end_of_day else day
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} is a date (2026-12-05) or a date and time (2026-12-05T14:30)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class AuditRow:
    """One event as every reader sees it: text on one line whatever was stored (the trail writes it
    so, and reading makes sure); actor and target are user- or tenant-controlled, so untrusted."""

    id: int
    at: datetime
    actor: str
    actor_user_id: int | None
    via: str
    action: str
    target: str
    outcome: str
    address: str | None
    request_id: str | None
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, event: AuditEvent) -> AuditRow:
        return cls(
            event.id, event.at, one_line(event.actor), event.actor_user_id, one_line(event.actor_via),
            one_line(event.action), one_line(event.target), one_line(event.outcome),
            event.address and one_line(event.address), event.request_id and one_line(event.request_id),
            clean_detail(dict(event.detail or {})),
        )  # fmt: skip

    def exported(self) -> dict[str, Any]:
        """The export's row: every column, the time in ISO 8601 UTC."""
        return {column: getattr(self, column) for column in COLUMNS} | {"at": self.at.isoformat()}


@dataclass(frozen=True)
class AuditPage:
    """Up to a page of events, newest first; the cursors of the pages beside it (None at an end)."""

    rows: list[AuditRow]
    total: int  # events the filter selects, across all pages
    newer_after: int | None  # ask for ``after`` this id for the newer page
    older_before: int | None  # ask for ``before`` this id for the older page


def _conditions(where: AuditFilter) -> list[ColumnElement[bool]]:
    conditions = []
    if where.actor:
        conditions.append(AuditEvent.actor.icontains(where.actor, autoescape=True))
    if where.action.endswith("."):
        conditions.append(AuditEvent.action.startswith(where.action, autoescape=True))
    elif where.action:
        conditions.append(AuditEvent.action == where.action)
    if where.outcome:
        conditions.append(AuditEvent.outcome == where.outcome)
    if where.target:
        conditions.append(AuditEvent.target.icontains(where.target, autoescape=True))
    if where.since is not None:
        conditions.append(AuditEvent.at >= where.since)
    if where.until is not None:
        conditions.append(AuditEvent.at < where.until)
    return conditions


def _selected(where: AuditFilter) -> Select[AuditEvent]:
    return select(AuditEvent).where(*_conditions(where))


def _any(session: Session, where: AuditFilter, condition: ColumnElement[bool]) -> bool:
    return bool(session.scalar(select(_selected(where).where(condition).exists())))


def audit_page(
    session: Session, where: AuditFilter, *, before: int | None = None, after: int | None = None,
    per_page: int = PAGE_SIZE,
) -> AuditPage:  # fmt: skip
    """The newest page of events the filter selects, or the page just older than event ``before``,
    or just newer than event ``after``."""
    per_page = min(max(per_page, 1), MAX_PAGE_SIZE)
    total = int(session.scalar(select(func.count()).where(*_conditions(where)).select_from(AuditEvent)) or 0)
    if after is not None:
        newer_first = _selected(where).where(AuditEvent.id > after).order_by(AuditEvent.id.asc())
        found = list(session.scalars(newer_first.limit(per_page + 1)))
        rows = [AuditRow.of(event) for event in reversed(found[:per_page])]
        more_newer = len(found) > per_page
        more_older = bool(rows) and _any(session, where, AuditEvent.id < rows[-1].id)
    else:
        query = _selected(where) if before is None else _selected(where).where(AuditEvent.id < before)
        found = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(per_page + 1)))
        rows = [AuditRow.of(event) for event in found[:per_page]]
        more_older = len(found) > per_page
        more_newer = before is not None and bool(rows) and _any(session, where, AuditEvent.id > rows[0].id)
    return AuditPage(rows, total, rows[0].id if more_newer else None, rows[-1].id if more_older else None)


def exported_rows(
    sessions: Callable[[], Session], where: AuditFilter, limit: int = EXPORT_LIMIT
) -> Iterator[dict[str, Any]]:
    """The newest ``limit`` events the filter selects, newest first, as export rows. Read a batch at
    a time, each in a short session of its own, so a slow download holds no transaction open."""
    before: int | None = None
    while limit > 0:
        batch = min(EXPORT_BATCH, limit)
        query = _selected(where) if before is None else _selected(where).where(AuditEvent.id < before)
        with sessions() as session:
            found = session.scalars(query.order_by(AuditEvent.id.desc()).limit(batch))
            rows = [AuditRow.of(event) for event in found]
        yield from (row.exported() for row in rows)
        if len(rows) < batch:
            return
        before, limit = rows[-1].id, limit - batch
