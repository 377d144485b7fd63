"""The Alembic migrations build exactly the schema the models declare, and keep every existing row,
on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, Connection, column, select, table, text
from sqlalchemy.orm import Session

from appgov.storage.db import make_engine, migrate
from appgov.storage.models import AuditEvent, Base, DatasetState, Domain, Job, SyncRun


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


GAVE_UP = "GET https://acme.atlassian.net/rest/api/3/myself failed 6 times, last with"
PLAN = "Audit logs are available when at least one Jira product is on a paid plan."
RUNS: list[tuple[str, str | None, dict[str, str], str | None, dict[str, Any] | None]] = [
    # status, message, errors -> reason_code, reason_params
    ("success", None, {}, None, None),
    ("failed", "Grant expired: invalid_grant: Unknown", {}, "grant_expired",
     {"detail": "invalid_grant: Unknown"}),
    ("failed", "Atlassian rejected the credentials (Unauthorized)", {}, "credentials_rejected",
     {"detail": "Unauthorized"}),
    ("failed", f"{GAVE_UP} ConnectError", {}, "site_unreachable",
     {"url": "https://acme.atlassian.net/rest/api/3/myself", "attempts": 6, "failure": "ConnectError"}),
    ("failed", f"{GAVE_UP} HTTP 503", {}, "server_failing",
     {"url": "https://acme.atlassian.net/rest/api/3/myself", "attempts": 6, "failure": "HTTP 503"}),
    ("deferred", "https://acme.atlassian.net/rest/api/3/users/search asked to wait 2700s (HTTP 429)", {},
     "rate_limited",
     {"url": "https://acme.atlassian.net/rest/api/3/users/search", "seconds": 2700, "failure": "HTTP 429"}),
    ("deferred", "the request budget of 100 per run is spent", {}, "budget_spent", {"limit": 100}),
    ("partial", None, {"jira.users": "HTTP 500", "jira.groups": "HTTP 502"}, "datasets_failed",
     {"datasets": ["jira.groups", "jira.users"]}),
    ("cancelled", "cancelled on request", {}, "cancelled_on_request", {}),
    ("cancelled", "cancelled by ada@example.com", {}, "legacy", {"text": "cancelled by ada@example.com"}),
    ("failed", "a sentence no rule knows", {}, "legacy", {"text": "a sentence no rule knows"}),
]  # fmt: skip
STATES: list[tuple[str, str, str | None, str | None, dict[str, Any] | None]] = [
    # dataset, status, reason -> reason_code, reason_params
    ("jira.users", "ok", None, None, None),
    ("jira.audit_records", "unavailable", PLAN, "not_on_plan", {"detail": PLAN}),
    ("jira.apps", "unavailable", "Forbidden", "not_site_admin", {"detail": "Forbidden"}),
    ("confluence.apps", "unavailable",
     "the app inventory needs an API token (the plugin manager has no OAuth scope)", "needs_api_token", {}),
    ("jira.license", "unavailable", "the OAuth grant lacks the scope manage:jira-configuration",
     "scope_missing", {"scope": "manage:jira-configuration"}),
    ("jira.groups", "error", "jira.groups: HTTP 500 from https://x/rest/api/3/group/bulk: Oops",
     "dataset_failed", {"status": 500, "url": "https://x/rest/api/3/group/bulk", "detail": "Oops"}),
    ("jira.projects", "error", "expected a list in the response", "legacy",
     {"text": "expected a list in the response"}),
]  # fmt: skip


def test_stored_sentences_become_reason_codes_and_unknown_ones_legacy(database_url: str) -> None:
    """Migration 0006 reads each known sentence of a run or a data-set state into its code and keeps every
    row; a sentence no rule knows becomes ``legacy`` with its text."""
    engine = make_engine(database_url)
    migrate(engine, "0004")
    now = datetime(2026, 3, 2, tzinfo=UTC)
    with engine.begin() as connection:
        domain = table("domains", column("id"), column("site_url"), column("name"), column("products", JSON),
                       column("created_at"), column("created_by"))  # fmt: skip
        connection.execute(
            domain.insert().values(
                id=1, site_url="https://acme.atlassian.net", name="acme", products=["jira"],
                created_at=now, created_by="ada@example.com",
            )
        )  # fmt: skip
        runs = table("sync_runs", column("domain_id"), column("status"), column("full"), column("started_at"),
                     column("requests"), column("retries"), column("counts", JSON), column("errors", JSON),
                     column("message"))  # fmt: skip
        for status, message, errors, *_ in RUNS:
            connection.execute(
                runs.insert().values(
                    domain_id=1, status=status, full=False, started_at=now, requests=0, retries=0, counts={},
                    errors=errors, message=message,
                )
            )  # fmt: skip
        states = table("dataset_states", column("domain_id"), column("dataset"), column("status"),
                       column("reason"), column("count"))  # fmt: skip
        for dataset, status, reason, *_ in STATES:
            connection.execute(
                states.insert().values(domain_id=1, dataset=dataset, status=status, reason=reason, count=0)
            )
    migrate(engine)
    with Session(engine) as session:
        stored_runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        stored_states = {s.dataset: s for s in session.scalars(select(DatasetState))}
    engine.dispose()
    assert [(r.status, r.message, r.errors) for r in stored_runs] == [run[:3] for run in RUNS]
    assert [(r.reason_code, r.reason_params) for r in stored_runs] == [run[3:] for run in RUNS]
    for dataset, status, reason, code, params in STATES:
        state = stored_states[dataset]
        assert (state.status, state.reason, state.reason_code, state.reason_params) == (
            status, reason, code, params,
        ), dataset  # fmt: skip


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
    migrate(engine, "0007")
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


def test_the_seam_migration_moves_each_domains_atlassian_columns_to_its_site_row_and_back(
    database_url: str,
) -> None:
    """Migration 0010: every domain (and all that refers to it) is kept, with platform 'atlassian' and its
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
    migrate(engine, "0009", down=True)
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


def test_every_existing_app_names_the_data_set_that_lists_it(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine, "0010")
    now = datetime.now(UTC)
    with engine.begin() as connection:
        domain = insert(
            connection, "domains", site_url="https://acme.atlassian.net", name="acme", products="[]",
            created_at=now, created_by="root", created_via="cli", platform="atlassian",
        )  # fmt: skip
        for product in ("jira", "confluence"):
            insert(
                connection, "apps", domain_id=domain, product=product, key=f"{product}.app", name="An app",
                enabled=True, scopes="[]", first_seen_at=now, last_seen_at=now,
            )  # fmt: skip
    migrate(engine)
    with engine.connect() as connection:
        datasets = connection.execute(text("SELECT product, dataset FROM apps ORDER BY product")).all()
    engine.dispose()
    assert [tuple(row) for row in datasets] == [("confluence", "confluence.apps"), ("jira", "jira.apps")]
