"""The one place that decides what a domain's status is, for the Integrations page, the REST API,
notifications and ``appgov domains list``.

Every internal state (the last run and its data sets, a queued or running job, the OAuth grant, the
sync lease) maps onto one of three labels: *In progress* ("still processing" while the first sync is
queued or runs), *Success*, or *Error*, with its reason as a code (``appgov.outcomes``) that the one
catalogue turns into plain words. The decision reads codes only, never words. Beside the status: when
the domain last synced, whether that is late (a slow last sync, or a last success too long ago), and,
per platform, the domain whose last sync took longest.

A data set that the site's plan does not offer (the Jira audit log on a Free plan) is a note on a
*Success*, not an Error: nothing the administrator can fix in appgov is wrong, the run brought all the
data there is, and a domain that showed Error forever while its runs said success and its ready
email went out taught people to ignore Error. Any other unavailable data set is an Error: an app
inventory that needs an API token or a site admin's, a scope the grant lacks, a refusal.

Atlassian ends a grant's token family 365 days after the consent that started it, however often it
is refreshed. Within ``expiry_warning_days`` of that end, the domain's health carries the deadline
(``reconsent_by``) and a status without a reason of its own says "re-consent needed before <date>".
Each credential's end and state (``integrations.credentials``) is in the health too; once one has
ended the status is Error with that reason (CS-08).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appgov.config import Settings
from appgov.connectors.atlassian.grants import consent_ends
from appgov.connectors.atlassian.site_rows import domains_by_grant, grants_of
from appgov.integrations.credentials import Credential, credentials, expired
from appgov.jobs.queue import ACTIVE, SYNC
from appgov.outcomes import Code, Outcome
from appgov.storage.models import ApiToken, DatasetState, Domain, Job, OAuthGrant, SyncRun

IN_PROGRESS, SUCCESS, ERROR = "In progress", "Success", "Error"
SYNCED = ("success", "partial")  # runs that brought data


@dataclass(frozen=True)
class DomainStatus:
    label: str  # In progress | Success | Error
    outcome: Outcome | None = None  # why (on a Success: a note)

    @property
    def reason(self) -> str | None:
        return self.outcome.text if self.outcome else None

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
    unavailable: dict[str, Outcome] = field(default_factory=dict)  # data set -> why
    expired: Outcome | None = None  # a credential whose time is up (integrations.credentials)


def domain_status(last_run: SyncRun | None, context: StatusContext | None = None) -> DomainStatus:
    """In progress, Success, or Error with a reason, from the last run and what surrounds it."""
    context = context or StatusContext()
    ever_synced = context.ever_synced if context.ever_synced is not None else _brought_data(last_run)
    first = Outcome(Code.STILL_PROCESSING)
    grant = context.grant
    if grant is not None and grant.status == "revoked":
        return DomainStatus(ERROR, Outcome(Code.CONSENT_REVOKED))
    if grant is not None and grant.status != "active":
        return DomainStatus(ERROR, Outcome(Code.GRANT_EXPIRED))
    if context.expired is not None:  # no sync runs until the credential is replaced
        return DomainStatus(ERROR, context.expired)
    running = last_run is not None and last_run.status == "running"
    if (running and (context.lease_alive or context.job)) or (
        context.job and context.job.status == "running"
    ):
        return DomainStatus(IN_PROGRESS, None if ever_synced else first)
    if context.job_due:  # Sync now, Reconnect, Edit API key: the outcome is on its way
        return DomainStatus(IN_PROGRESS, Outcome(Code.SYNC_QUEUED) if ever_synced else first)
    if last_run is None:
        return DomainStatus(IN_PROGRESS, first if context.job else Outcome(Code.WAITING_FOR_FIRST_SYNC))
    if running:
        return DomainStatus(ERROR, Outcome(Code.RUN_STOPPED))
    return run_status(last_run, context)


def run_status(run: SyncRun, context: StatusContext) -> DomainStatus:
    """What a finished (or deferred) run says, from its reason code."""
    outcome = run.outcome
    if run.status == "deferred":
        until = run.resume_at.isoformat() if run.resume_at else None
        return DomainStatus(ERROR, (outcome or Outcome(Code.ASKED_TO_WAIT)).with_params(until=until))
    if run.status == "cancelled":
        return DomainStatus(ERROR, outcome or Outcome(Code.CANCELLED))
    if run.status == "failed":
        return DomainStatus(ERROR, _failure(outcome or Outcome(Code.FAILED), context))
    if run.status == "partial":
        failed = Outcome(Code.DATASETS_FAILED, {"datasets": sorted(run.errors or {})})
        return DomainStatus(ERROR, outcome or failed)
    unavailable = context.unavailable or {
        name: Outcome(Code.DATASET_UNAVAILABLE)
        for name, count in (run.counts or {}).items()
        if count == "unavailable"
    }
    return _unavailable_status(unavailable)


def _failure(outcome: Outcome, context: StatusContext) -> Outcome:
    """Rejected credentials are the API token's when the domain has one (edit it), else the grant's."""
    if outcome.code is Code.CREDENTIALS_REJECTED and context.has_api_token:
        return Outcome(Code.API_TOKEN_REJECTED, outcome.params)
    return outcome


def _unavailable_status(unavailable: dict[str, Outcome]) -> DomainStatus:
    """Success, with a note for data sets the plan does not offer; Error for any other unavailable."""
    codes = {outcome.code for outcome in unavailable.values()}
    for blocking in (Code.NEEDS_API_TOKEN, Code.NOT_SITE_ADMIN):  # the app inventory: what appgov is for
        if blocking in codes:
            return DomainStatus(ERROR, Outcome(blocking))
    missing = sorted(name for name, outcome in unavailable.items() if outcome.code is not Code.NOT_ON_PLAN)
    if missing:
        return DomainStatus(ERROR, Outcome(Code.DATASET_UNAVAILABLE, {"datasets": missing}))
    if unavailable:
        return DomainStatus(SUCCESS, Outcome(Code.NOT_ON_PLAN, {"datasets": sorted(unavailable)}))
    return DomainStatus(SUCCESS)


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
    # the other domains read with the same OAuth consent: it expires, and Reconnect renews it, for all
    consent_shared_with: tuple[str, ...] = ()
    credentials: tuple[Credential, ...] = ()  # the API token and the grant, with their ends (CS-08)

    @property
    def late(self) -> bool:
        return self.late_reason is not None

    @property
    def reconsent_note(self) -> str | None:
        """The re-consent warning to show beside a status whose reason is another one."""
        if self.reconsent_by is None:
            return None
        needed = reconsent_needed(self.reconsent_by)
        return None if self.status.outcome == needed else needed.text


@dataclass
class _Facts:
    """What a domain's health is read from, gathered for many domains in a fixed number of queries."""

    last: SyncRun | None = None
    synced: SyncRun | None = None  # the last run that brought data
    token: ApiToken | None = None
    job: Job | None = None
    grant: OAuthGrant | None = None
    consent_shared_with: tuple[str, ...] = ()
    unavailable: dict[str, Outcome] = field(default_factory=dict)


def _facts(session: Session, domains: Sequence[Domain]) -> dict[int, _Facts]:
    """A fixed number of queries whatever the number of domains (the Integrations page polls every 5
    seconds)."""
    ids = [domain.id for domain in domains]
    facts = {domain_id: _Facts() for domain_id in ids}
    for run in _last_runs(session, ids, synced=False):
        facts[run.domain_id].last = run
    for run in _last_runs(session, ids, synced=True):
        facts[run.domain_id].synced = run
    for token in session.scalars(select(ApiToken).where(ApiToken.domain_id.in_(ids))):
        facts[token.domain_id].token = token
    jobs = (
        select(Job)
        .where(Job.domain_id.in_(ids), Job.kind == SYNC, Job.status.in_(ACTIVE))
        .order_by(Job.id.desc())
    )
    for job in session.scalars(jobs):  # the oldest last: it is the one ``active_job`` names
        assert job.domain_id is not None  # selected by it
        facts[job.domain_id].job = job
    states = select(DatasetState).where(DatasetState.domain_id.in_(ids), DatasetState.status == "unavailable")
    for state in session.scalars(states):
        facts[state.domain_id].unavailable[state.dataset] = state.outcome or Outcome(Code.DATASET_UNAVAILABLE)
    grant_ids = grants_of(session, ids)
    grants = select(OAuthGrant).where(OAuthGrant.id.in_(set(grant_ids.values())))
    by_id = {grant.id: grant for grant in session.scalars(grants)}
    sharing = domains_by_grant(session, set(grant_ids.values()))
    for domain_id, grant_id in grant_ids.items():
        facts[domain_id].grant = by_id.get(grant_id)
        others = (name for other_id, name in sharing.get(grant_id, []) if other_id != domain_id)
        facts[domain_id].consent_shared_with = tuple(others)
    return facts


def _last_runs(session: Session, domain_ids: list[int], *, synced: bool) -> Sequence[SyncRun]:
    """Each domain's last run (or last run that brought data)."""
    newest = select(func.max(SyncRun.id)).where(SyncRun.domain_id.in_(domain_ids)).group_by(SyncRun.domain_id)
    if synced:
        newest = newest.where(SyncRun.status.in_(SYNCED))
    return session.scalars(select(SyncRun).where(SyncRun.id.in_(newest))).all()


def domain_health(session: Session, domain: Domain, settings: Settings, now: datetime) -> DomainHealth:
    return _health(domain, _facts(session, [domain])[domain.id], settings, now)


def domain_healths(session: Session, settings: Settings, now: datetime) -> list[DomainHealth]:
    """Every connected domain's health, by name."""
    domains = session.scalars(select(Domain).order_by(Domain.name, Domain.id)).all()
    facts = _facts(session, domains)
    return [_health(domain, facts[domain.id], settings, now) for domain in domains]


def _health(domain: Domain, facts: _Facts, settings: Settings, now: datetime) -> DomainHealth:
    last, synced, token, job, grant = facts.last, facts.synced, facts.token, facts.job, facts.grant
    context = StatusContext(
        ever_synced=synced is not None,
        job=job,
        job_due=job is not None and job.run_at <= now,
        grant=grant,
        lease_alive=domain.lease_expires_at is not None and domain.lease_expires_at > now,
        has_api_token=token is not None,
        unavailable=facts.unavailable,
        expired=expired(token, grant, now),
    )
    seconds = None if last is None or last.status == "deferred" else run_duration(last, now)
    late_reason = lateness(seconds, synced.finished_at if synced else None, settings, now)
    deadline = reconsent_by(grant, settings, now)
    found = credentials(token, grant, settings, now)
    return DomainHealth(
        domain=domain,
        status=_with_reconsent(domain_status(last, context), deadline),
        last_synced_at=synced.finished_at if synced else None,
        last_sync_seconds=seconds,
        late_reason=late_reason,
        api_key=found[0].masked if token else None,
        api_key_owner=token.owner_email if token else None,
        job=job,
        reconsent_by=deadline,
        consent_shared_with=facts.consent_shared_with,
        credentials=found,
    )


def reconsent_by(grant: OAuthGrant | None, settings: Settings, now: datetime) -> datetime | None:
    """When an active grant's consent ends, once that is ``expiry_warning_days`` away or less;
    otherwise None. Only a new consent (Reconnect) moves it."""
    if grant is None or grant.status != "active":
        return None
    deadline = consent_ends(grant)
    return deadline if now >= deadline - timedelta(days=settings.expiry_warning_days) else None


def reconsent_needed(deadline: datetime) -> Outcome:
    return Outcome(Code.RECONSENT_NEEDED, {"by": deadline.isoformat()})


def reconsent_reason(deadline: datetime) -> str:
    return reconsent_needed(deadline).text


def _with_reconsent(status: DomainStatus, deadline: datetime | None) -> DomainStatus:
    """The status keeps its label; the deadline becomes its reason when it has none."""
    if deadline is None or status.outcome is not None:
        return status
    return DomainStatus(status.label, reconsent_needed(deadline))


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
