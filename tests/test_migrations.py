"""The Alembic migrations build exactly the schema the models declare and keep every row, on both
databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, column, select, table
from sqlalchemy.orm import Session

from appgov.storage.db import make_engine, migrate
from appgov.storage.models import Base, DatasetState, SyncRun


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
