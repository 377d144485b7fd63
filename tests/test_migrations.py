"""The Alembic migrations build exactly the schema the models declare, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from appgov.storage.db import make_engine, migrate
from appgov.storage.models import Base


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_the_seam_migration_moves_each_domains_atlassian_columns_to_its_site_row_and_back(
    database_url: str,
) -> None:
    """0005_seam: every domain (and all that refers to it) is kept, with platform 'atlassian' and its
    cloud id and grant in ``atlassian_sites``; the downgrade puts them back on the domain."""
    engine = make_engine(database_url)
    migrate(engine, "0004")
    with engine.begin() as connection:
        connection.execute(text(GRANT), {"at": "2026-01-01 00:00:00+00:00"})
        connection.execute(
            text(DOMAIN), {"id": 1, "url": "https://a.atlassian.net", "cloud": "c-1", "grant": 1}
        )
        connection.execute(
            text(DOMAIN), {"id": 2, "url": "https://b.atlassian.net", "cloud": None, "grant": None}
        )
        connection.execute(text(RUN), {"domain": 1})
    migrate(engine)
    with engine.connect() as connection:
        domains = connection.execute(text("SELECT id, platform FROM domains ORDER BY id")).all()
        sites = connection.execute(
            text("SELECT domain_id, cloud_id, oauth_grant_id FROM atlassian_sites ORDER BY domain_id")
        ).all()
        runs = connection.execute(text("SELECT domain_id FROM sync_runs")).all()
    assert [tuple(d) for d in domains] == [(1, "atlassian"), (2, "atlassian")]
    assert [tuple(s) for s in sites] == [(1, "c-1", 1), (2, None, None)]
    assert [tuple(r) for r in runs] == [(1,)]
    migrate(engine, "0004", down=True)
    with engine.connect() as connection:
        back = connection.execute(text("SELECT id, cloud_id, oauth_grant_id FROM domains ORDER BY id")).all()
        runs = connection.execute(text("SELECT domain_id FROM sync_runs")).all()
    engine.dispose()
    assert [tuple(d) for d in back] == [(1, "c-1", 1), (2, None, None)]
    assert [tuple(r) for r in runs] == [(1,)]


GRANT = (
    "INSERT INTO oauth_grants (id, client_id, account_id, scopes, created_at, consented_at, status) "
    "VALUES (1, 'client', 'account', '[]', :at, :at, 'active')"
)
DOMAIN = (
    "INSERT INTO domains (id, site_url, name, cloud_id, products, oauth_grant_id, created_at, created_by) "
    "VALUES (:id, :url, 'n', :cloud, '[\"jira\"]', :grant, '2026-01-01 00:00:00+00:00', 'tester')"
)
RUN = (
    'INSERT INTO sync_runs (domain_id, status, "full", started_at, requests, retries, counts, errors) '
    "VALUES (:domain, 'success', false, '2026-01-01 00:00:00+00:00', 0, 0, '{}', '{}')"
)
