"""The Alembic migrations build exactly the schema the models declare, and keep every existing row,
on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from appgov.storage.db import make_engine, migrate
from appgov.storage.models import Base, Job


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_generic_jobs_keep_every_sync_job_with_its_full_flag_and_run_in_payload_and_result(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    migrate(engine, "0004")
    now = datetime.now(UTC)
    with engine.begin() as connection:
        domain = connection.execute(
            text(
                "INSERT INTO domains (site_url, name, products, created_at, created_by) "
                "VALUES ('https://acme.atlassian.net', 'acme', '[]', :now, 'ada@example.com') RETURNING id"
            ),
            {"now": now},
        ).scalar_one()
        run = connection.execute(
            text(
                'INSERT INTO sync_runs (domain_id, status, "full", started_at, requests, retries, counts,'
                " errors) VALUES (:domain, 'success', true, :now, 0, 0, '{}', '{}') RETURNING id"
            ),
            {"domain": domain, "now": now},
        ).scalar_one()
        for full, run_id, status in ((True, run, "done"), (False, None, "queued")):
            connection.execute(
                text(
                    'INSERT INTO jobs (domain_id, kind, "full", status, run_at, created_at, requested_by,'
                    " cancel_requested, run_id) VALUES (:domain, 'sync', :full, :status, :now, :now,"
                    " 'ada@example.com', false, :run_id)"
                ),
                {"domain": domain, "full": full, "status": status, "now": now, "run_id": run_id},
            )

    migrate(engine)

    with Session(engine) as session:
        jobs = session.scalars(select(Job).order_by(Job.id)).all()
        kept = [(j.kind, j.domain_id, j.payload, j.result, j.status, j.requested_by) for j in jobs]
    engine.dispose()
    assert kept == [
        ("sync", domain, {"full": True}, {"run_id": run}, "done", "ada@example.com"),
        ("sync", domain, {"full": False}, None, "queued", "ada@example.com"),
    ]
