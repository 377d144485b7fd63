"""The ``org_sync`` kind: a job that reads a connected organization (``integrations.organizations``),
queued when it is connected or its key replaced, and by the scheduler's pass at the sync cadence."""

from __future__ import annotations

from appgov.accounts.principal import SCHEDULER
from appgov.connectors.retry import Deferred
from appgov.integrations.organizations import (
    ORG_SYNC,
    OrganizationNotFound,
    due_organizations,
    enqueue_org_sync,
    sync_organization,
)
from appgov.jobs.kinds import ClaimedJob, JobEnd, JobKind, Later
from appgov.runtime import Runtime


async def run_org_sync(runtime: Runtime, job: ClaimedJob) -> JobEnd:
    organization_id = int(job.payload["organization_id"])
    try:
        added = await sync_organization(runtime, organization_id)
    except Deferred as deferred:  # the events list asked to wait long: resume from the stored cursor then
        raise Later(deferred.resume_at - runtime.clock.now(), deferred.reason) from deferred
    except OrganizationNotFound:  # deleted meanwhile
        return JobEnd("done")
    return JobEnd("done", {"app_events": added})


def plan_org_syncs(runtime: Runtime) -> int:
    """Queue the organizations' reads that are due and not queued yet; how many were queued."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        return sum(enqueue_org_sync(session, org, SCHEDULER, now) for org in due_organizations(session, now))


ORG_SYNC_KIND = JobKind(ORG_SYNC, run_org_sync)
