"""The one place that decides what a domain's status is, for the Integrations page, the REST API,
notifications and ``appgov domains list``.

Every internal state (the last run and its data sets, a queued or running job, the OAuth grant, the
sync lease) maps onto one of three labels: *In progress* ("still processing" while the first sync is
queued or runs), *Success*, or *Error* with its reason in plain words. Beside the status: when the
domain last synced, whether that is late (a slow last sync, or a last success too long ago), and,
per platform, the domain whose last sync took longest.

Data sets unavailable because of the site's plan make the domain *Error* ("data set unavailable on
this plan"), as the issue asks: the administrator sees what appgov cannot read and why.

Atlassian ends a grant's token family 365 days after the consent that started it, however often it
is refreshed. Within ``reconsent_warning_days`` of that end, the domain's health carries the deadline
(``reconsent_by``) and a status without a reason of its own says "re-consent needed before <date>".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.config import Settings
from appgov.connectors.atlassian.site_rows import grant_of
from appgov.jobs.queue import active_job
from appgov.security.secrets import mask
from appgov.storage.models import ApiToken, DatasetState, Domain, Job, OAuthGrant, SyncRun

IN_PROGRESS, SUCCESS, ERROR = "In progress", "Success", "Error"
STILL_PROCESSING = "still processing: the first sync is under way"
SYNCED = ("success", "partial")  # runs that brought data
APPS_DATASETS = ("jira.apps", "confluence.apps")
OAUTH_ONLY_APPS = "the app inventory needs an API token"
# how the connector and the engine word what went wrong (sync/engine.py, connectors/atlassian/)
CREDENTIALS_REJECTED = "rejected the credentials"
GRANT_EXPIRED = "grant expired"
GAVE_UP = re.compile(r"failed \d+ times, last with (?P<failure>.+)$")
PLAN_WORDS = ("plan", "licen", "paid", "upgrade")
CONSENT_LIFETIME = timedelta(days=365)  # Atlassian's limit on a token family, from its consent


@dataclass(frozen=True)
class DomainStatus:
    label: str  # In progress | Success | Error
    reason: str | None = None

    @property
    def kind(self) -> str:
        """The CSS class of the label."""
        return {IN_PROGRESS: "progress", SUCCESS: "success"}.get(self.label, "error")

    def __str__(self) -> str:
        return f"{self.label}: {self.reason}" if self.reason else self.label


@dataclass(frozen=True)
class StatusContext:
    """What besides the last run decides the status; empty, the last run decides alone."""

    ever_synced: bool | None = None  # a run brought data once (None: judge from the last run)
    job: Job | None = None  # the queued or running job
    job_due: bool = False  # the job is queued to run now (not a deferred run's later resume)
    grant: OAuthGrant | None = None
    lease_alive: bool = True  # a worker holds the domain's sync lease
    has_api_token: bool = True
    unavailable: dict[str, str] = field(default_factory=dict)  # data set -> Atlassian's reason


def domain_status(last_run: SyncRun | None, context: StatusContext | None = None) -> DomainStatus:
    """In progress, Success, or Error with a reason, from the last run and what surrounds it."""
    context = context or StatusContext()
    ever_synced = context.ever_synced if context.ever_synced is not None else _brought_data(last_run)
    grant = context.grant
    if grant is not None and grant.status == "revoked":
        return DomainStatus(ERROR, "consent revoked: reconnect to consent again")
    if grant is not None and grant.status != "active":
        return DomainStatus(ERROR, "grant expired: reconnect to consent again")
    running = last_run is not None and last_run.status == "running"
    if (running and (context.lease_alive or context.job)) or (
        context.job and context.job.status == "running"
    ):
        return DomainStatus(IN_PROGRESS, None if ever_synced else STILL_PROCESSING)
    if context.job_due:  # Sync now, Reconnect, Edit API key: the outcome is on its way
        return DomainStatus(IN_PROGRESS, "a sync is queued" if ever_synced else STILL_PROCESSING)
    if last_run is None:
        waiting = STILL_PROCESSING if context.job else "waiting for the first sync"
        return DomainStatus(IN_PROGRESS, waiting)
    if running:
        return DomainStatus(ERROR, "the last sync stopped before its end; the next sync resumes it")
    return run_status(last_run, context)


def run_status(run: SyncRun, context: StatusContext) -> DomainStatus:
    """What a finished (or deferred) run says."""
    if run.status == "deferred":
        return DomainStatus(ERROR, _deferred_reason(run))
    if run.status == "cancelled":
        return DomainStatus(ERROR, run.message or "the last sync was cancelled")
    if run.status == "failed":
        return DomainStatus(ERROR, _failure_reason(run.message or "", context))
    if run.status == "partial":
        failed = ", ".join(dataset_label(d) for d in sorted(run.errors or {})) or "some data sets"
        return DomainStatus(ERROR, f"some data sets failed: {failed}")
    unavailable = context.unavailable or {
        name: "" for name, count in (run.counts or {}).items() if count == "unavailable"
    }
    if unavailable:
        return DomainStatus(ERROR, _unavailable_reason(unavailable))
    return DomainStatus(SUCCESS)


def _deferred_reason(run: SyncRun) -> str:
    when = f"{run.resume_at:%Y-%m-%d %H:%M} UTC" if run.resume_at else "later"
    message = run.message or ""
    if "request budget" in message:
        return f"request budget spent (resuming at {when})"
    if "429" in message:
        return f"rate limited (retrying at {when})"
    return f"Atlassian asked appgov to wait (retrying at {when})"


def _failure_reason(message: str, context: StatusContext) -> str:
    lowered = message.lower()
    if lowered.startswith(GRANT_EXPIRED):
        return "grant expired: reconnect to consent again"
    if CREDENTIALS_REJECTED in lowered and context.has_api_token:
        return "API token invalid or expired: edit the API key"
    if CREDENTIALS_REJECTED in lowered:
        return "Atlassian rejected the credentials: reconnect"
    gave_up = GAVE_UP.search(message)
    if gave_up and gave_up.group("failure").startswith("HTTP"):
        return f"Atlassian kept failing ({gave_up.group('failure')}); the next sync tries again"
    if gave_up:
        return "site unreachable; the next sync tries again"
    return message or "the last sync failed"


def _unavailable_reason(unavailable: dict[str, str]) -> str:
    apps = {name: why for name, why in unavailable.items() if name in APPS_DATASETS}
    if any(why.startswith(OAUTH_ONLY_APPS) for why in apps.values()):
        return "no API token: the app inventory needs one (edit the API key)"
    if apps:
        return "account is not a site admin: the installed-app list needs one (edit the API key)"
    names = ", ".join(dataset_label(d) for d in sorted(unavailable))
    if all(any(word in why.lower() for word in PLAN_WORDS) for why in unavailable.values()):
        return f"data set unavailable on this plan: {names}"
    return f"data set unavailable: {names}"


def dataset_label(dataset: str) -> str:
    """``jira.audit_records`` -> ``Jira audit records``."""
    product, _, name = dataset.partition(".")
    return f"{product.capitalize()} {name.replace('_', ' ')}".strip()


def _brought_data(run: SyncRun | None) -> bool:
    return run is not None and run.status in SYNCED


# --- a domain's health: status, last synced, late -----------------------------------------------


@dataclass(frozen=True)
class DomainHealth:
    domain: Domain
    status: DomainStatus
    last_synced_at: datetime | None  # the end of the last run that brought data
    last_sync_seconds: float | None  # how long the last sync took (so far, while one runs)
    late_reason: str | None  # why Last synced shows red, or None
    api_key: str | None  # masked to its last four characters
    api_key_owner: str | None
    job: Job | None = None  # the sync queued or running now
    reconsent_by: datetime | None = None  # the consent's end, once it is near: reconnect before it

    @property
    def late(self) -> bool:
        return self.late_reason is not None

    @property
    def reconsent_note(self) -> str | None:
        """The re-consent warning to show beside a status whose reason is another one."""
        if self.reconsent_by is None:
            return None
        note = reconsent_reason(self.reconsent_by)
        return None if self.status.reason == note else note


def domain_health(session: Session, domain: Domain, settings: Settings, now: datetime) -> DomainHealth:
    runs = select(SyncRun).where(SyncRun.domain_id == domain.id).order_by(SyncRun.id.desc())
    last = session.scalar(runs.limit(1))
    synced = session.scalar(runs.where(SyncRun.status.in_(SYNCED)).limit(1))
    token = session.scalar(select(ApiToken).where(ApiToken.domain_id == domain.id))
    unavailable = session.scalars(
        select(DatasetState).where(DatasetState.domain_id == domain.id, DatasetState.status == "unavailable")
    )
    job = active_job(session, domain.id)
    grant_id = grant_of(session, domain.id)
    grant = session.get(OAuthGrant, grant_id) if grant_id else None
    context = StatusContext(
        ever_synced=synced is not None,
        job=job,
        job_due=job is not None and job.run_at <= now,
        grant=grant,
        lease_alive=domain.lease_expires_at is not None and domain.lease_expires_at > now,
        has_api_token=token is not None,
        unavailable={state.dataset: state.reason or "" for state in unavailable},
    )
    seconds = None if last is None or last.status == "deferred" else run_duration(last, now)
    late_reason = lateness(seconds, synced.finished_at if synced else None, settings, now)
    deadline = reconsent_by(grant, settings, now)
    return DomainHealth(
        domain=domain,
        status=_with_reconsent(domain_status(last, context), deadline),
        last_synced_at=synced.finished_at if synced else None,
        last_sync_seconds=seconds,
        late_reason=late_reason,
        api_key=mask("x" * 12 + token.last4) if token else None,
        api_key_owner=token.owner_email if token else None,
        job=job,
        reconsent_by=deadline,
    )


def reconsent_by(grant: OAuthGrant | None, settings: Settings, now: datetime) -> datetime | None:
    """When an active grant's consent ends, once that is ``reconsent_warning_days`` away or less;
    otherwise None. Only a new consent (Reconnect) moves it."""
    if grant is None or grant.status != "active":
        return None
    deadline = grant.consented_at + CONSENT_LIFETIME
    return deadline if now >= deadline - timedelta(days=settings.reconsent_warning_days) else None


def reconsent_reason(deadline: datetime) -> str:
    return f"re-consent needed before {deadline:%Y-%m-%d}: reconnect"


def _with_reconsent(status: DomainStatus, deadline: datetime | None) -> DomainStatus:
    """The status keeps its label; the deadline becomes its reason when it has none."""
    if deadline is None or status.reason is not None:
        return status
    return DomainStatus(status.label, reconsent_reason(deadline))


def run_duration(run: SyncRun, now: datetime) -> float | None:
    """How long a run took, or has been running so far; None for one that stopped without an end."""
    end = run.finished_at or (now if run.status == "running" else None)
    return (end - run.started_at).total_seconds() if end else None


def lateness(
    last_sync_seconds: float | None, last_synced_at: datetime | None, settings: Settings, now: datetime
) -> str | None:
    """Why *Last synced* shows red, or None: the last sync took too long, or the data is too old."""
    slow = timedelta(minutes=settings.slow_sync_minutes).total_seconds()
    if last_sync_seconds is not None and last_sync_seconds > slow:
        return f"the last sync took {_span(last_sync_seconds)} (over {_span(slow)})"
    stale = timedelta(hours=settings.stale_sync_hours)
    if last_synced_at is not None and now - last_synced_at > stale:
        hours = (now - last_synced_at).total_seconds() / 3600
        return f"no successful sync for {hours:.0f} h (over {settings.stale_sync_hours} h)"
    return None


def _span(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def worst(healths: Sequence[DomainHealth]) -> DomainHealth | None:
    """The domain a platform row stands for: the one whose last sync took longest."""
    timed = [h for h in healths if h.last_sync_seconds is not None]
    if timed:
        return max(timed, key=lambda h: h.last_sync_seconds or 0.0)
    return healths[0] if healths else None


def domain_healths(session: Session, settings: Settings, now: datetime) -> list[DomainHealth]:
    """Every connected domain's health, by name."""
    domains = session.scalars(select(Domain).order_by(Domain.name, Domain.id))
    return [domain_health(session, domain, settings, now) for domain in domains]
