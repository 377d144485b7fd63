"""What a finished run means for people: the domain's first successful sync makes it *ready* (one
transaction sets ``Domain.ready_at``, queues the email and notifies every user), and a run that ends
failed, partial or deferred notifies every user once per new reason.

Ready means the app inventory is complete: a run that ended ``success``, or ``partial`` with every
app data set synced (the failures were elsewhere). Every console user is notified: all are
administrators until roles arrive.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from appgov.accounts.permissions import Role
from appgov.connectors import registry
from appgov.integrations.status import domain_status
from appgov.notify.outbox import queue_email
from appgov.runtime import Runtime
from appgov.storage.models import App, DirectoryUser, Domain, Notification, SyncRun, User

log = logging.getLogger(__name__)
ERROR_STATUSES = ("failed", "partial", "deferred")
OUTCOMES = ("success", *ERROR_STATUSES)  # how a run can end, cancellation aside
# (status, reason code, its parameters, failed data sets)
Outcome = tuple[str, str | None, dict[str, Any], tuple[str, ...]] | None


def outcome(run: SyncRun | None) -> Outcome:
    """What a run's outcome is compared by: its reason code, never its words. A deferred run's
    parameters (how long, for which URL) are left out: a run deferred again for the same cause is
    the same outcome."""
    if run is None:
        return None
    params = {} if run.status == "deferred" else dict(run.reason_params or {})
    return run.status, run.reason_code, params, tuple(sorted(run.errors or {}))


def previous_outcome(session: Session, domain_id: int) -> Outcome:
    """The outcome of the domain's last run that ended (a cancelled one does not count)."""
    run = session.scalar(
        select(SyncRun)
        .where(SyncRun.domain_id == domain_id, SyncRun.status.in_(OUTCOMES))
        .order_by(SyncRun.id.desc())
        .limit(1)
    )
    return outcome(run)


def run_finished(runtime: Runtime, run: SyncRun, before: Outcome) -> None:
    """Called once a run has committed, with the outcome the domain had before it."""
    if makes_ready(run):
        mark_ready(runtime, run.domain_id)
    if run.status in ERROR_STATUSES and outcome(run) != before:
        notify_error(runtime, run)


def makes_ready(run: SyncRun) -> bool:
    if run.status == "success":
        return True
    apps = [name for name in run.counts or {} if name in registry.app_datasets()]
    return run.status == "partial" and bool(apps) and all(isinstance(run.counts[n], int) for n in apps)


def mark_ready(runtime: Runtime, domain_id: int) -> bool:
    """In one transaction: ``ready_at``, the email to whoever connected it, a notification per user.
    The conditional UPDATE makes it happen once whoever calls it (the runner, the CLI, the sweep)."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        taken = session.execute(
            update(Domain).where(Domain.id == domain_id, Domain.ready_at.is_(None)).values(ready_at=now)
        )
        if not getattr(taken, "rowcount", 0):
            return False
        domain = session.get_one(Domain, domain_id)
        apps, users = _counts(session, domain)
        name = plain(domain.name)
        address = connected_by(session, domain)
        if address is not None:
            subject = f"appgov: {name} is ready"
            queue_email(
                session,
                f"domain-ready:{domain_id}",
                address,
                subject,
                ready_body(runtime, domain, apps, users),
                now,
            )
        else:
            log.info("domain %s is ready; %r who added it has no email address", domain_id, domain.created_by)
        text = f"{name} is ready: {apps} apps and {users} users synced."
        notify_everyone(session, domain_id, "domain_ready", text, now)
    return True


def connected_by(session: Session, domain: Domain) -> str | None:
    """The email of the console user who connected the domain, now; None for one added from the
    command line (a system user) or whose user is gone."""
    if domain.created_by_user_id is None:
        return None
    user = session.get(User, domain.created_by_user_id)
    return user.email if user is not None else None


def repair_ready(runtime: Runtime) -> int:
    """Domains with a run that made them ready but no ``ready_at`` (a crash between the run's commit
    and the ready transaction) are marked ready now. Returns how many."""
    with runtime.sessions() as session:
        runs = session.scalars(
            select(SyncRun)
            .join(Domain, Domain.id == SyncRun.domain_id)
            .where(Domain.ready_at.is_(None), SyncRun.status.in_(("success", "partial")))
        )
        domain_ids = sorted({run.domain_id for run in runs if makes_ready(run)})
    return sum(mark_ready(runtime, domain_id) for domain_id in domain_ids)


def notify_error(runtime: Runtime, run: SyncRun) -> None:
    reason = domain_status(run).reason or f"the sync ended {run.status}"
    with runtime.sessions.begin() as session:
        domain = session.get(Domain, run.domain_id)
        if domain is None:
            return  # deleted meanwhile
        text = f"{plain(domain.name)}: {reason}"
        notify_everyone(session, domain.id, "sync_error", text, runtime.clock.now())


def ready_body(runtime: Runtime, domain: Domain, apps: int, users: int) -> str:
    link = f"{runtime.settings.public_url}/domains/{domain.id}"
    return (
        f"{plain(domain.name)} ({plain(domain.site_url)}) finished its first sync in appgov.\n\n"
        f"Apps: {apps}\nUsers: {users}\n\n"
        f"See it in appgov: {link}\n"
    )


def plain(text: str, limit: int = 200) -> str:
    """One line of text: control and formatting characters (newlines, bidi overrides) removed."""
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    return kept[:limit]


def _counts(session: Session, domain: Domain) -> tuple[int, int]:
    apps = session.scalar(select(func.count()).where(App.domain_id == domain.id, App.removed_at.is_(None)))
    # the typed directory: a Confluence-only site lists no users, its groups' members are its users
    users = session.scalar(select(func.count()).where(DirectoryUser.domain_id == domain.id))
    return apps or 0, users or 0


def notify_everyone(
    session: Session, domain_id: int, kind: str, message: str, now: datetime, role: Role | None = None
) -> None:
    """A notification for every user (or every user of ``role``)."""
    users = select(User.id) if role is None else select(User.id).where(User.role == str(role))
    for user_id in session.scalars(users):
        session.add(
            Notification(user_id=user_id, domain_id=domain_id, kind=kind, message=message, created_at=now)
        )
