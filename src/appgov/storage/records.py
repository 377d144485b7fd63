"""Writes and reads of ingested rows: batched upserts by natural key, and soft deletes that only a
complete pass may make (reliability SY-04)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from appgov.storage.models import Record

BATCH = 500


def upsert(
    session: Session,
    domain_id: int,
    dataset: str,
    rows: Sequence[tuple[str, dict[str, Any]]],
    seen_at: datetime,
) -> None:
    """Insert or refresh rows; a row seen again comes back from removal.

    One statement executed over a list of parameter sets: SQLAlchemy batches it (insertmanyvalues)
    and compiles it once, which matters at a million memberships.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    unique = dict(rows)  # duplicates across pages collapse here
    if not unique:
        return
    statement = insert(Record)
    statement = statement.on_conflict_do_update(
        index_elements=["domain_id", "dataset", "key"],
        set_={"data": statement.excluded.data, "seen_at": statement.excluded.seen_at, "removed_at": None},
    )
    values = [
        {
            "domain_id": domain_id,
            "dataset": dataset,
            "key": key,
            "data": data,
            "first_seen_at": seen_at,
            "seen_at": seen_at,
            "removed_at": None,
        }
        for key, data in unique.items()
    ]
    for start in range(0, len(values), BATCH):
        session.execute(statement, values[start : start + BATCH])


def remove_unseen(
    session: Session, domain_id: int, dataset: str, pass_started: datetime, now: datetime
) -> int:
    """Soft-delete what a complete pass that started at ``pass_started`` did not see."""
    result = session.execute(
        update(Record)
        .where(
            Record.domain_id == domain_id,
            Record.dataset == dataset,
            Record.seen_at < pass_started,
            Record.removed_at.is_(None),
        )
        .values(removed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


class LiveRow(NamedTuple):
    key: str
    data: dict[str, Any]


def live(session: Session, domain_id: int, dataset: str, after_key: str | None = None) -> Iterator[LiveRow]:
    """Live rows' keys and data, ordered by key (from ``after_key``, exclusive), streamed in batches.

    Plain rows, not ORM objects: a derived data set reads hundreds of thousands of them.
    """
    query = (
        select(Record.key, Record.data)
        .where(Record.domain_id == domain_id, Record.dataset == dataset, Record.removed_at.is_(None))
        .order_by(Record.key)
    )
    if after_key is not None:
        query = query.where(Record.key > after_key)
    for key, data in session.execute(query.execution_options(yield_per=BATCH)):
        yield LiveRow(key, data)


def count_live(session: Session, domain_id: int, dataset: str) -> int:
    query = (
        select(func.count())
        .select_from(Record)
        .where(Record.domain_id == domain_id, Record.dataset == dataset, Record.removed_at.is_(None))
    )
    return int(session.scalar(query) or 0)
