"""reason codes: runs and data-set states store a stable code and its parameters beside their words

Revision ID: 0006
Revises: 0005

The sentences stored before this revision are read once, here, into codes, the way the status page
used to read them; a sentence no rule knows becomes ``legacy`` with its text kept. The codes are
written out (not imported) so that this revision stays what it was whatever the code base becomes.
"""

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Reason = tuple[str, dict[str, Any]] | None
GAVE_UP = re.compile(r"^\S+ (?P<url>\S+) failed (?P<attempts>\d+) times, last with (?P<failure>.+)$")
DATASET_HTTP = re.compile(r"^\S+: HTTP (?P<status>\d+) from (?P<url>\S+): (?P<detail>.*)$", re.S)
WAIT = re.compile(r"^(?P<url>\S+) asked to wait (?P<seconds>\d+)s \((?P<failure>[^)]*)\)")
BUDGET = re.compile(r"request budget of (?P<limit>\d+) per run")
PLAN_WORDS = ("plan", "licen", "paid", "upgrade")
APPS_DATASETS = ("jira.apps", "confluence.apps")
CANCELS = {
    "cancelled": "cancelled",
    "cancelled on request": "cancelled_on_request",
    "cancelled: the domain was deleted": "domain_deleted",
    "stopped: another runner took the job over": "taken_over",
    "appgov stopped; the sync resumes when it starts again": "shutdown",
}


def legacy(text: str | None) -> Reason:
    return "legacy", {"text": text or ""}


def failed_run(message: str) -> Reason:
    lowered = message.lower()
    if lowered.startswith("grant expired"):
        return "grant_expired", {"detail": message.partition(": ")[2]}
    if "rejected the credentials" in lowered:
        return "credentials_rejected", {"detail": message.partition("(")[2].rstrip(")")}
    if gave_up := GAVE_UP.match(message):
        failure = gave_up["failure"]
        code = "server_failing" if failure.startswith("HTTP") else "site_unreachable"
        return code, {"url": gave_up["url"], "attempts": int(gave_up["attempts"]), "failure": failure}
    if message == "timed out waiting for another process to refresh the grant":
        return "refresh_timed_out", {}
    return legacy(message)


def deferred_run(message: str) -> Reason:
    if budget := BUDGET.search(message):
        return "budget_spent", {"limit": int(budget["limit"])}
    if wait := WAIT.match(message):
        code = "rate_limited" if wait["failure"] == "HTTP 429" else "asked_to_wait"
        return code, {"url": wait["url"], "seconds": int(wait["seconds"]), "failure": wait["failure"]}
    if message.startswith("the database is unavailable"):
        return "database_unavailable", {"detail": message}
    return legacy(message)


def run_reason(status: str, message: str | None, errors: dict[str, Any] | None) -> Reason:
    if status == "partial":
        return "datasets_failed", {"datasets": sorted(errors or {})}
    if status == "failed":
        return failed_run(message or "") if message else ("failed", {})
    if status == "deferred":
        return deferred_run(message or "")
    if status == "cancelled":
        code = CANCELS.get(message or "cancelled")
        return (code, {}) if code else legacy(message)
    return None  # running or success: no reason


def state_reason(dataset: str, status: str, reason: str | None) -> Reason:
    text = reason or ""
    if status == "error":
        failed = DATASET_HTTP.match(text)
        if failed is None:
            return legacy(text)
        return "dataset_failed", {
            "status": int(failed["status"]),
            "url": failed["url"],
            "detail": failed["detail"],
        }
    if status != "unavailable":
        return None
    if text.startswith("the app inventory needs an API token"):
        return "needs_api_token", {}
    if text.startswith("the OAuth grant lacks the scope "):
        return "scope_missing", {"scope": text.removeprefix("the OAuth grant lacks the scope ")}
    if text.startswith("no credentials reach "):
        return "no_credentials", {"product": text.removeprefix("no credentials reach ")}
    if dataset in APPS_DATASETS:
        return "not_site_admin", {"detail": text}
    if text and any(word in text.lower() for word in PLAN_WORDS):
        return "not_on_plan", {"detail": text}
    return "dataset_unavailable", {"detail": text}


def upgrade() -> None:
    for table in ("sync_runs", "dataset_states"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("reason_code", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("reason_params", sa.JSON(), nullable=True))
    runs = with_reasons("sync_runs", "id", message=sa.Text, errors=sa.JSON)
    code_rows(runs, ("id",), lambda run: run_reason(run.status, run.message, run.errors))
    states = with_reasons("dataset_states", "domain_id", "dataset", reason=sa.Text)
    code_rows(states, ("domain_id", "dataset"), lambda s: state_reason(s.dataset, s.status, s.reason))


def with_reasons(name: str, *keys: str, **read: Any) -> sa.TableClause:
    """The table as this revision sees it: its key, status, what the reason is read from, the code."""
    columns = [sa.column(key) for key in keys] + [sa.column(c, kind) for c, kind in read.items()]
    return sa.table(
        name,
        *columns,
        sa.column("status", sa.String),
        sa.column("reason_code"),
        sa.column("reason_params", sa.JSON),
    )


def code_rows(table: sa.TableClause, keys: tuple[str, ...], reason_of: Callable[[Any], Reason]) -> None:
    bind = op.get_bind()
    read = [c for c in table.c if c.name not in ("reason_code", "reason_params")]
    for row in bind.execute(sa.select(*read)).all():
        reason = reason_of(row)
        if reason is not None:
            code, params = reason
            where = [table.c[key] == getattr(row, key) for key in keys]
            bind.execute(table.update().where(*where).values(reason_code=code, reason_params=params))


def downgrade() -> None:
    for table in ("dataset_states", "sync_runs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("reason_params")
            batch_op.drop_column("reason_code")
