"""One domain's details over REST: status, counts per data set, unavailable data sets with their
reasons, recent runs and app changes; Sync now (202 and the job) and Cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Query, Request
from pydantic import BaseModel, Field, StrictBool

from appgov.accounts.permissions import Permission
from appgov.integrations.activity import (
    RUNS_SHOWN,
    AppChange,
    RunSummary,
    domain_activity,
    recent_runs,
    request_cancel,
    request_sync,
)
from appgov.jobs.queue import full_sync, sync_run_id
from appgov.storage.models import DatasetState, Domain, Job
from appgov.web.api.domains import DomainOut, ReasonOut, domain_out, reason_out
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.inputs import RequestBody, RowId

router = APIRouter(tags=["domains"])


class DatasetOut(BaseModel):
    name: str
    status: str = Field(description="pending, running, ok, unavailable or error")
    count: int | None = Field(description="live items after the last complete pass; null when unavailable")
    reason: str | None = Field(description="Atlassian's reason when unavailable or failed")
    note: str | None = Field(
        None,
        description="a reason code when the data set is complete but part of it waits:"
        " enrichment_pending (apps stored, their Marketplace enrichment comes with the next sync)",
    )
    outcome: ReasonOut | None = Field(description="the reason as a code when unavailable or failed")
    completed_at: datetime | None


class UnavailableOut(BaseModel):
    name: str
    reason: str | None
    outcome: ReasonOut | None


class JobOut(BaseModel):
    id: int
    domain_id: int
    status: str = Field(description="queued, running, done or cancelled")
    full: bool
    run_at: datetime
    requested_by: str
    cancel_requested: bool
    run_id: int | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        """A domain's sync job (whose ``full`` and ``run_id`` are its payload's and result's)."""
        assert job.domain_id is not None, "a sync job has a domain"
        return cls(
            id=job.id, domain_id=job.domain_id, status=job.status, full=full_sync(job), run_at=job.run_at,
            requested_by=job.requested_by, cancel_requested=job.cancel_requested, run_id=sync_run_id(job),
        )  # fmt: skip


class DomainDetailOut(DomainOut):
    """What ``GET /domains`` says of the domain, and its activity."""

    datasets: list[DatasetOut]
    unavailable: list[UnavailableOut]
    runs: list[RunSummary]
    app_changes: list[AppChange]
    job: JobOut | None = Field(description="the sync queued or running now, if any")


class SyncRequest(RequestBody):
    full: StrictBool = Field(False, description="ignore audit-log bookmarks and read everything again")


class SyncOut(BaseModel):
    job: JobOut
    queued_now: bool = Field(description="false when a sync was already queued or running (that job)")


class CancelOut(BaseModel):
    cancelled: int = Field(description="queued jobs dropped plus running ones asked to stop")


def _dataset(state: DatasetState, note: str | None) -> DatasetOut:
    counted = state.status not in ("unavailable", "pending")
    return DatasetOut(
        name=state.dataset,
        status=state.status,
        count=state.count if counted else None,
        reason=state.reason,
        note=note,
        outcome=reason_out(state.outcome),
        completed_at=state.completed_at,
    )


def _missing(domain_id: int) -> HTTPException:
    return HTTPException(404, f"no domain has id {domain_id}")


@router.get("/domains/{domain_id}")
def domain_detail(
    request: Request, domain_id: RowId, _: Annotated[Viewer, require(Permission.READ)]
) -> DomainDetailOut:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        activity = domain_activity(session, domain_id, runtime.settings, runtime.clock.now())
    if activity is None:
        raise _missing(domain_id)
    return DomainDetailOut(
        **domain_out(activity.health).model_dump(),
        datasets=[_dataset(state, activity.notes.get(state.dataset)) for state in activity.datasets],
        unavailable=[
            UnavailableOut(name=s.dataset, reason=s.reason, outcome=reason_out(s.outcome))
            for s in activity.unavailable
        ],
        runs=activity.runs,
        app_changes=activity.changes,
        job=JobOut.of(activity.job) if activity.job else None,
    )


@router.get("/domains/{domain_id}/runs")
def domain_runs(
    request: Request,
    domain_id: RowId,
    _: Annotated[Viewer, require(Permission.READ)],
    limit: Annotated[int, Query(ge=1, le=200)] = RUNS_SHOWN,
) -> list[RunSummary]:
    """The domain's most recent runs, newest first."""
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        if session.get(Domain, domain_id) is None:
            raise _missing(domain_id)
        return recent_runs(session, domain_id, runtime.clock.now(), limit)


@router.post("/domains/{domain_id}/sync", status_code=202)
def sync_now(
    request: Request,
    domain_id: RowId,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_SYNC)],
    body: Annotated[SyncRequest | None, Body()] = None,
) -> SyncOut:
    """Queue a sync now; if one is already queued or running, that job is returned instead."""
    runtime = runtime_of(request)
    full = body.full if body else False
    with runtime.sessions.begin() as session:
        requested = request_sync(session, domain_id, viewer.principal, runtime.clock.now(), full=full)
        if requested is None:
            raise _missing(domain_id)
        job, queued = requested
        return SyncOut(job=JobOut.of(job), queued_now=queued)


@router.post("/domains/{domain_id}/cancel")
def cancel(
    request: Request, domain_id: RowId, viewer: Annotated[Viewer, require(Permission.DOMAINS_SYNC)]
) -> CancelOut:
    """Drop queued syncs and ask a running one to stop at its next checkpoint."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        touched = request_cancel(session, domain_id, viewer.principal, runtime.clock.now())
    if touched is None:
        raise _missing(domain_id)
    return CancelOut(cancelled=touched)
