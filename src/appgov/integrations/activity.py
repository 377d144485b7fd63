"""One domain's sync activity, for the Domain page and its REST twin: its data sets (counts, and the
ones unavailable with Atlassian's reason), its recent runs, its app change log and its queued or running
job; and the two things a user can do about it: ask for a sync now, or cancel. Its status, last
sync and lateness are decided in ``integrations.status``, as on the Integrations page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.audit.trail import record_audit
from appgov.config import Settings
from appgov.integrations.status import DomainHealth, domain_health, run_duration
from appgov.jobs.queue import cancel_jobs, enqueue_sync
from appgov.outcomes import stored
from appgov.storage.models import App, AppEvent, DatasetState, Domain, Job, SyncRun

RUNS_SHOWN = 20
CHANGES_SHOWN = 50


# words for the reason codes a complete data set may carry as a note (the codes are stable)
@dataclass(frozen=True)
class RunSummary:
    """A run as the page and the API show it; status: running, success, partial, failed, deferred
    or cancelled."""

    id: int
    status: str
    full: bool
    started_at: datetime
    finished_at: datetime | None
    resume_at: datetime | None
    duration_seconds: float | None  # so far, while it runs; None for a deferred run waiting to resume
    requests: int
    retries: int
    errors: dict[str, Any]
    message: str | None
    outcome: dict[str, Any] | None  # the reason code, its parameters and its words


@dataclass(frozen=True)
class AppChange:
    """An app change-log entry; the name comes from the inventory (upstream text), the key otherwise."""

    at: datetime
    product: str
    app_key: str
    app_name: str
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class DomainActivity:
    domain: Domain
    health: DomainHealth  # status, last synced and whether that is late, the masked API key
    datasets: list[DatasetState]
    runs: list[RunSummary]
    changes: list[AppChange]
    notes: dict[str, str] = field(default_factory=dict)  # data set -> the reason code of a note

    @staticmethod
    def note_words(code: str) -> str:
        outcome = stored(code, {})
        return outcome.text if outcome else code

    @property
    def job(self) -> Job | None:
        return self.health.job

    @property
    def unavailable(self) -> list[DatasetState]:
        return [d for d in self.datasets if d.status == "unavailable"]


def summarize(run: SyncRun, now: datetime) -> RunSummary:
    return RunSummary(
        id=run.id,
        status=run.status,
        full=run.full,
        started_at=run.started_at,
        finished_at=run.finished_at,
        resume_at=run.resume_at,
        duration_seconds=run_duration(run, now),
        requests=run.requests,
        retries=run.retries,
        errors=dict(run.errors or {}),
        message=run.message,
        outcome=run.outcome.as_json() if run.outcome else None,
    )


def recent_runs(session: Session, domain_id: int, now: datetime, limit: int = RUNS_SHOWN) -> list[RunSummary]:
    query = select(SyncRun).where(SyncRun.domain_id == domain_id).order_by(SyncRun.id.desc()).limit(limit)
    return [summarize(run, now) for run in session.scalars(query)]


def recent_changes(session: Session, domain_id: int, limit: int = CHANGES_SHOWN) -> list[AppChange]:
    query = (
        select(AppEvent, App.name)
        .outerjoin(
            App,
            (App.domain_id == AppEvent.domain_id)
            & (App.product == AppEvent.product)
            & (App.key == AppEvent.app_key),
        )
        .where(AppEvent.domain_id == domain_id)
        .order_by(AppEvent.at.desc(), AppEvent.id.desc())
        .limit(limit)
    )
    return [
        AppChange(event.at, event.product, event.app_key, name or event.app_key, event.kind, event.detail)
        for event, name in session.execute(query)
    ]


def dataset_notes(session: Session, domain_id: int) -> dict[str, str]:
    """Per apps data set, the code its live apps carry when their enrichment is not complete
    (``enrichment_pending``): the data set is complete, only the Marketplace's part waits."""
    query = (
        select(App.dataset, App.enrichment)
        .where(App.domain_id == domain_id, App.removed_at.is_(None), App.enrichment.is_not(None))
        .distinct()
    )
    return {dataset: str(code) for dataset, code in session.execute(query)}


def domain_activity(
    session: Session, domain_id: int, settings: Settings, now: datetime
) -> DomainActivity | None:
    """Everything the Domain page shows, or None for a domain that does not exist."""
    domain = session.get(Domain, domain_id)
    if domain is None:
        return None
    datasets = select(DatasetState).where(DatasetState.domain_id == domain_id).order_by(DatasetState.dataset)
    return DomainActivity(
        domain=domain,
        health=domain_health(session, domain, settings, now),
        datasets=list(session.scalars(datasets)),
        runs=recent_runs(session, domain_id, now),
        changes=recent_changes(session, domain_id),
        notes=dataset_notes(session, domain_id),
    )


def request_sync(
    session: Session, domain_id: int, actor: Principal, now: datetime, *, full: bool
) -> tuple[Job, bool] | None:
    """Queue a sync (True), or hand back the one already queued or running (False); None when the
    domain does not exist."""
    domain = session.get(Domain, domain_id)
    if domain is None:
        return None
    job, queued = enqueue_sync(session, domain.id, actor, now, full=full)
    if queued:
        record_audit(session, actor, "domain.sync_requested", domain.site_url, now, full=full, job=job.id)
    return job, queued


def request_cancel(session: Session, domain_id: int, actor: Principal, now: datetime) -> int | None:
    """Cancel queued jobs and ask a running one to stop; how many jobs that touched (None when the
    domain does not exist)."""
    domain = session.get(Domain, domain_id)
    if domain is None:
        return None
    touched = cancel_jobs(session, domain.id, now)
    if touched:
        record_audit(session, actor, "domain.sync_cancelled", domain.site_url, now, jobs=touched)
    return touched
