"""The Alembic migrations build exactly the schema the models declare, and keep every existing row,
on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, column, select, table
from sqlalchemy.orm import Session

from appgov.storage.db import make_engine, migrate
from appgov.storage.models import AuditEvent, Base, Domain, Job


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def insert(connection: Connection, table_name: str, **values: object) -> int:
    """A row as an older revision's schema has it (no model describes that schema any more)."""
    row = table(table_name, column("id"), *(column(name) for name in values))
    return int(connection.execute(row.insert().values(**values).returning(row.c.id)).scalar_one())


def test_generic_jobs_keep_every_sync_job_with_its_full_flag_and_run_in_payload_and_result(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    migrate(engine, "0004")
    now, ada = datetime.now(UTC), "ada@example.com"
    with engine.begin() as connection:
        domain = insert(
            connection, "domains", site_url="https://acme.atlassian.net", name="acme", products="[]",
            created_at=now, created_by=ada,
        )  # fmt: skip
        run = insert(
            connection, "sync_runs", domain_id=domain, status="success", full=True, started_at=now,
            requests=0, retries=0, counts="{}", errors="{}",
        )  # fmt: skip
        for full, run_id, status in ((True, run, "done"), (False, None, "queued")):
            insert(
                connection, "jobs", domain_id=domain, kind="sync", full=full, status=status, run_at=now,
                created_at=now, requested_by=ada, cancel_requested=False, run_id=run_id,
            )  # fmt: skip

    migrate(engine)

    with Session(engine) as session:
        jobs = session.scalars(select(Job).order_by(Job.id)).all()
        kept = [(j.kind, j.domain_id, j.payload, j.result, j.status, j.requested_by) for j in jobs]
    engine.dispose()
    assert kept == [
        ("sync", domain, {"full": True}, {"run_id": run}, "done", ada),
        ("sync", domain, {"full": False}, None, "queued", ada),
    ]


def test_principals_name_the_console_user_by_id_and_call_everyone_else_the_command_line_or_scheduler(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    migrate(engine, "0005_jobs")
    now = datetime.now(UTC)
    with engine.begin() as connection:
        ada = insert(
            connection, "users", email="ada@example.com", name="Ada", password_hash="x", is_admin=True,
            created_at=now,
        )  # fmt: skip
        # the console's user; a system user of the command line; an email whose user is gone
        for site, who in (("acme", "ada@example.com"), ("beta", "root"), ("gone", "bob@example.com")):
            insert(
                connection, "domains", site_url=f"https://{site}.atlassian.net", name=site, products="[]",
                created_at=now, created_by=who,
            )  # fmt: skip
        for who in ("ada@example.com", "scheduler", "root"):
            insert(
                connection, "jobs", kind="sync", payload="{}", status="done", run_at=now, created_at=now,
                requested_by=who, cancel_requested=False,
            )  # fmt: skip
            insert(
                connection, "audit_events", at=now, actor=who, action="domain.added",
                target="https://acme.atlassian.net", detail="{}",
            )  # fmt: skip

    migrate(engine)

    with Session(engine) as session:
        domains = session.execute(
            select(Domain.name, Domain.created_by, Domain.created_by_user_id, Domain.created_via).order_by(
                Domain.id
            )
        ).all()
        jobs = session.execute(
            select(Job.requested_by, Job.requested_by_user_id, Job.requested_via).order_by(Job.id)
        ).all()
        events = session.execute(
            select(AuditEvent.actor, AuditEvent.actor_user_id, AuditEvent.actor_via).order_by(AuditEvent.id)
        ).all()
    engine.dispose()
    assert [tuple(d) for d in domains] == [
        ("acme", "ada@example.com", ada, "console"),
        ("beta", "root", None, "cli"),
        ("gone", "bob@example.com", None, "cli"),
    ]
    assert [tuple(j) for j in jobs] == [
        ("ada@example.com", ada, "console"),
        ("scheduler", None, "scheduler"),
        ("root", None, "cli"),
    ]
    assert [tuple(e) for e in events] == [
        ("ada@example.com", ada, "console"),
        ("scheduler", None, "cli"),  # only jobs were ever queued by the scheduler
        ("root", None, "cli"),
    ]
