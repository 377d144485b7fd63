"""Writes and reads of ingested rows: batched upserts by natural key, and soft deletes that only a
complete pass may make (reliability SY-04)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Dialect, bindparam, func, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from appgov.storage.models import Record

BATCH = 500


def upsert(
    session: Session,
    domain_id: int,
    dataset: str,
    rows: Sequence[tuple[str, str]],
    seen_at: datetime,
) -> None:
    """Insert or refresh rows, each a key and its data as JSON text (``text.json_without_nul``); a
    row seen again comes back from removal.

    SQLAlchemy's statement, compiled once, goes straight to the driver's executemany: at half a
    million rows a sync, SQLAlchemy's per-row work (bind processing, insertmanyvalues) cost more than
    anything else in storing them. The values are the ones the ORM would bind, so reads through it
    see the same: the data is the engine's JSON text, the time goes once through the column type's
    own bind processor.
    """
    unique = dict(rows)  # duplicates across pages collapse here
    if not unique:
        return
    connection = session.connection()
    sql, positional = _upsert_sql(connection.dialect)
    seen = _bound(Record.__table__.c.seen_at, seen_at, connection.dialect)
    values = [(domain_id, dataset, key, data, seen, seen) for key, data in unique.items()]
    connection.exec_driver_sql(
        sql, values if positional else [dict(zip(UPSERTED, v, strict=True)) for v in values]
    )


def _bound(column: ColumnElement[Any], value: Any, dialect: Dialect) -> Any:
    """``value`` as the column's type hands it to the driver (its dialect's form: SQLite's is text)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


UPSERTED = ("domain_id", "dataset", "key", "data", "first_seen_at", "seen_at")  # the parameters, in order
UPSERT_SQL: dict[tuple[str, str], tuple[str, bool]] = {}


def _upsert_sql(dialect: Dialect) -> tuple[str, bool]:
    """The upsert as the driver's SQL, and whether its parameters are positional (in ``UPSERTED``'s
    order) rather than named. The data is bound as text: SQLite keeps JSON as text, PostgreSQL casts
    it (``::JSON``)."""
    cached = UPSERT_SQL.get((dialect.name, dialect.paramstyle))
    if cached is not None:
        return cached
    columns = Record.__table__.c
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    statement = insert(Record).inline().values({n: bindparam(n, type_=columns[n].type) for n in UPSERTED})
    statement = statement.on_conflict_do_update(
        index_elements=["domain_id", "dataset", "key"],
        set_={"data": statement.excluded.data, "seen_at": statement.excluded.seen_at, "removed_at": null()},
    )
    compiled = statement.compile(dialect=dialect)
    if compiled.positional and tuple(compiled.positiontup or ()) != UPSERTED:
        raise RuntimeError(f"unexpected parameter order {compiled.positiontup}")
    UPSERT_SQL[dialect.name, dialect.paramstyle] = compiled.string, compiled.positional
    return compiled.string, compiled.positional


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
