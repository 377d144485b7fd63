"""The database: one engine per URL, sessions for reading and for writing, migrations on start, and
what a lost database connection means (reliability SY-10).

- **SQLite** runs in WAL (the console reads while a sync writes) with a busy timeout, and appgov
  issues BEGIN itself instead of pysqlite (whose own BEGIN comes only before the first write, so a
  transaction's reads were not part of it). A read session (``sessions()``) begins DEFERRED and
  reads one snapshot; a write transaction (``sessions.begin()``) begins IMMEDIATE, taking the write
  lock before its first read: a read-modify-write waits its turn (up to the busy timeout) instead of
  failing with "database is locked" because another writer committed after its read, and never
  writes over an update it did not see.
- **PostgreSQL** connections are pinged when taken from the pool (``pool_pre_ping``): after a
  restart, dead connections are replaced before anyone uses them.
- **Outages**: ``database_unavailable`` tells a lost or refused connection from a bad statement;
  ``retried_on_disconnect`` runs a transaction again, whole, until the database is back or
  ``OUTAGE_PATIENCE`` has passed, and then raises ``DatabaseUnavailable``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, overload

import orjson
import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
OUTAGE_PATIENCE = 60.0  # seconds a transaction keeps trying while the database is unreachable
FIRST_WAIT, LONGEST_WAIT = 0.1, 2.0  # seconds between its attempts: doubling, up to the longest
WRITE = "appgov_write"  # the execution option marking a write transaction's connection

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database stayed unreachable for longer than ``OUTAGE_PATIENCE``."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_database_file(Path(path))
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, json_serializer=_json_dumps
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True, json_serializer=_json_dumps)


def _private_database_file(path: Path) -> None:
    """The SQLite file, created 0600 in a directory created 0700 (its secrets are encrypted, its
    inventory is not), and made 0600 if an older version left it readable; SQLite gives its -wal and
    -shm files the database file's mode when it creates them."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN of its own: _sqlite_begin does
    # WAL lets the console read while a sync writes; foreign keys are off by default in SQLite
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Bring the schema to the latest Alembic revision, or up or ``down`` to ``revision`` (a data
    migration's test starts below it); processes starting together take turns."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with (
        engine.connect() as connection,
        _foreign_key_actions_off(connection),
        connection.execution_options(**{WRITE: True}).begin(),
    ):
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
        _check_foreign_keys(connection)


@contextmanager
def _foreign_key_actions_off(connection: Connection) -> Iterator[None]:
    """SQLite changes a table by copying it to a new one and dropping the old (Alembic's batch
    mode); with foreign keys on, that drop would run the old table's ``ON DELETE`` actions and
    empty or unlink every row referring to it (a domain's jobs, runs, records...). SQLite's own
    procedure turns them off around the change and checks them before committing."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")  # before BEGIN: inside a transaction it does nothing
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"the migration left rows referring to nothing: {broken[:5]}")


class Sessions(sessionmaker[Session]):
    """Sessions on one engine: ``sessions()`` to read, ``sessions.begin()`` for a write transaction
    (committed at the end of its block, rolled back on an error), which SQLite begins IMMEDIATE."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, expire_on_commit=False)
        self.writer = engine.execution_options(**{WRITE: True})

    def begin(self) -> AbstractContextManager[Session]:
        return self._write()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self(bind=self.writer) as session, session.begin():
            yield session


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return Sessions(engine)


# --- outages --------------------------------------------------------------------------------------


def database_unavailable(error: BaseException) -> bool:
    """A lost, refused or broken database connection (a restart, an outage), not a bad statement."""
    if isinstance(error, DatabaseUnavailable):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        return isinstance(error.orig, psycopg.OperationalError)
    return isinstance(error, psycopg.OperationalError)


def outage(error: BaseException) -> str:
    """The driver's first line about the failure: never the statement or its parameters."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def log_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    """A database outage in one line (expected, and it passes); anything else with its trace."""
    if database_unavailable(error):
        logger.warning("%s: the database is unavailable (%s)", what, outage(error))
    else:
        logger.error("%s", what, exc_info=error)


class _Patience:
    """How long a transaction keeps trying through an outage: waits doubling up to ``LONGEST_WAIT``,
    until ``OUTAGE_PATIENCE`` has passed."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.deadline = time.monotonic() + OUTAGE_PATIENCE
        self.wait = FIRST_WAIT

    def next_wait(self, error: DBAPIError) -> float:
        """The seconds to wait before the next attempt; raises ``error`` when it is not an outage,
        ``DatabaseUnavailable`` when the patience is spent."""
        if not database_unavailable(error):
            raise error
        if time.monotonic() + self.wait > self.deadline:
            raise DatabaseUnavailable(f"the database is unavailable ({outage(error)})") from error
        wait, self.wait = self.wait, min(self.wait * 2, LONGEST_WAIT)
        log.warning(
            "%s: the database is unavailable (%s); trying again in %.1f s", self.what, outage(error), wait
        )
        return wait


@overload
def retried_on_disconnect(
    work: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]: ...
@overload
def retried_on_disconnect(work: Callable[P, T]) -> Callable[P, T]: ...
def retried_on_disconnect(work: Callable[P, Any]) -> Callable[P, Any]:
    """Run ``work`` again, whole, while the database connection is lost or refused, waiting longer
    each time, until it succeeds or ``OUTAGE_PATIENCE`` has passed (then ``DatabaseUnavailable``).

    ``work`` must be one transaction, or safe to repeat: the database rolls back a transaction its
    connection lost, but a COMMIT whose answer was lost may have landed. A coroutine function (the
    sync engine's) waits with ``asyncio.sleep``, so an outage never holds up the event loop.
    """
    if inspect.iscoroutinefunction(work):

        @functools.wraps(work)
        async def retried_async(*args: P.args, **kwargs: P.kwargs) -> Any:
            patience = _Patience(work.__qualname__)
            while True:
                try:
                    return await work(*args, **kwargs)
                except DBAPIError as error:
                    await asyncio.sleep(patience.next_wait(error))

        return retried_async

    @functools.wraps(work)
    def retried(*args: P.args, **kwargs: P.kwargs) -> Any:
        patience = _Patience(work.__qualname__)
        while True:
            try:
                return work(*args, **kwargs)
            except DBAPIError as error:
                time.sleep(patience.next_wait(error))  # backing off in the worker's own thread

    return retried
