"""The one place that decides what a domain's status is: *In progress*, *Success* or *Error* with a
reason in plain words, from its last run and its data sets."""

from __future__ import annotations

from dataclasses import dataclass

from appgov.storage.models import SyncRun


@dataclass(frozen=True)
class DomainStatus:
    label: str  # In progress | Success | Error | Not synced
    reason: str | None = None


def domain_status(last_run: SyncRun | None) -> DomainStatus:
    if last_run is None:
        return DomainStatus("Not synced", "waiting for the first sync")
    if last_run.status == "running":
        return DomainStatus("In progress")
    if last_run.status == "success":
        return DomainStatus("Success")
    if last_run.status == "deferred":
        when = last_run.resume_at.strftime("%Y-%m-%d %H:%M UTC") if last_run.resume_at else "later"
        return DomainStatus("Error", f"rate limited (retrying at {when})")
    if last_run.status == "partial":
        failed = ", ".join(sorted(last_run.errors or {})) or "some data sets"
        return DomainStatus("Error", f"some data sets failed: {failed}")
    return DomainStatus("Error", last_run.message or "the last sync failed")
