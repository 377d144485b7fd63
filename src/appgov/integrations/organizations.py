"""An optional Atlassian organization, connected with its organization API key: its lifecycle
(connect, replace the key, delete: each audited), the background read of what the organization
admin API tells (``sync_organization``: the "App actions" of its audit log, incrementally from a
bookmark and resumable from its page cursor; its managed accounts' API tokens; its own API keys,
metadata only). New installations
name their installers in the inventory at once (``installers.from_organization`` is their first
source).

The key is validated against the org admin API before it is stored (the organization's id and
name come from it), stored only encrypted (``storage.sealed``), shown only masked, never echoed.
Nothing else needs an organization: without one every domain feature works as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.audit.trail import record_audit
from appgov.connectors.atlassian.apps import refresh_installers
from appgov.connectors.atlassian.client import AtlassianError
from appgov.connectors.atlassian.orgadmin import (
    AppAction,
    OrgKey,
    OrgProbe,
    OrgToken,
    action_names,
    admin_client,
    app_action,
    event_pages,
    event_time,
    events_from,
    org_keys,
    org_tokens,
    probe_org,
)
from appgov.connectors.base import DomainError
from appgov.connectors.paging import Cursor
from appgov.connectors.retry import RetryPolicy
from appgov.integrations.domains import clean_token
from appgov.jobs.queue import ACTIVE, cancel_where, enqueue
from appgov.runtime import Runtime
from appgov.security.secrets import SecretError, mask
from appgov.storage.models import Base, Domain, Job, Organization, OrgApiKey, OrgApiToken, OrgAppEvent
from appgov.storage.sealed import organization_key_context

ORG_SYNC = "org_sync"  # the job kind reading an organization (workers.org_sync_job)
ORG_KEY = "organization API key"


class OrganizationNotFound(DomainError):
    """No organization has that id (any more)."""


@dataclass(frozen=True)
class OrgDone:
    organization_id: int
    event_id: int


# --- lifecycle ------------------------------------------------------------------------------------


async def _probe(runtime: Runtime, api_key: str) -> tuple[str, OrgProbe]:
    key = clean_token(api_key, ORG_KEY)
    return key, await probe_org(runtime.settings.atlassian.admin_url, key, runtime.verify)


def _put_key(runtime: Runtime, org: Organization, key: str, now: datetime) -> None:
    org.secret = runtime.secrets.encrypt(key, organization_key_context(org.id))
    org.last4, org.validated_at = key[-4:], now


async def add_organization(runtime: Runtime, api_key: str, actor: Principal) -> OrgDone:
    """Connect the organization the key belongs to (validated first); its first read starts at once."""
    key, probe = await _probe(runtime, api_key)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        if session.scalar(select(Organization).where(Organization.org_id == probe.org_id)) is not None:
            raise DomainError(f"the organization {probe.name} is already connected: replace its key instead")
        org = Organization(
            org_id=probe.org_id, name=probe.name, secret=b"", last4="", created_at=now,
            created_by=actor.name, validated_at=now,
        )  # fmt: skip
        session.add(org)
        session.flush()
        _put_key(runtime, org, key, now)
        enqueue_org_sync(session, org.id, actor, now)
        event = record_audit(session, actor, "organization.added", _target(org), now, api_key=mask(key))
        return OrgDone(org.id, event.id)


async def replace_org_key(runtime: Runtime, organization_id: int, api_key: str, actor: Principal) -> OrgDone:
    """The new key is validated first and must belong to the same organization; if not, the old stays."""
    with runtime.sessions() as session:
        org_id = _organization(session, organization_id).org_id
    key, probe = await _probe(runtime, api_key)
    if probe.org_id != org_id:
        raise DomainError(f"this key belongs to another organization ({probe.name}), not the one connected")
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        org = _organization(session, organization_id)
        org.name = probe.name
        _put_key(runtime, org, key, now)
        org.sync_error = None
        enqueue_org_sync(session, org.id, actor, now)
        event = record_audit(
            session, actor, "organization.api_key_replaced", _target(org), now, api_key=mask(key)
        )
        return OrgDone(org.id, event.id)


def delete_organization(runtime: Runtime, organization_id: int, actor: Principal) -> OrgDone:
    """The key and everything read with it deleted (rows cascade); its reads cancelled."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        org = _organization(session, organization_id)
        target = _target(org)
        jobs = cancel_where(session, Job.id.in_(_org_jobs(session, org.id)), now)
        session.delete(org)
        event = record_audit(session, actor, "organization.deleted", target, now, jobs_cancelled=jobs)
        return OrgDone(organization_id, event.id)


def organizations(session: Session) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.id)))


def find_organization(session: Session, identifier: str) -> Organization:
    """An organization by Atlassian's id, its name, or appgov's row id."""
    wanted = identifier.strip()
    for org in organizations(session):
        if wanted in (org.org_id, org.name, str(org.id)):
            return org
    raise OrganizationNotFound(f"no connected organization is called {identifier!r} (see `appgov orgs list`)")


def masked_key(org: Organization) -> str:
    return mask("x" * 12 + org.last4)


def app_events(session: Session, organization_id: int, limit: int = 200) -> list[OrgAppEvent]:
    """The organization's app actions, newest first."""
    _organization(session, organization_id)
    query = select(OrgAppEvent).where(OrgAppEvent.organization_id == organization_id)
    return list(session.scalars(query.order_by(OrgAppEvent.at.desc(), OrgAppEvent.id.desc()).limit(limit)))


def api_tokens(session: Session, organization_id: int) -> list[OrgApiToken]:
    """The managed accounts' API tokens, most recently used first."""
    _organization(session, organization_id)
    query = select(OrgApiToken).where(OrgApiToken.organization_id == organization_id)
    return list(session.scalars(query.order_by(OrgApiToken.owner_name, OrgApiToken.label, OrgApiToken.id)))


def api_keys(session: Session, organization_id: int) -> list[OrgApiKey]:
    """The organization's own API keys, by label."""
    _organization(session, organization_id)
    query = select(OrgApiKey).where(OrgApiKey.organization_id == organization_id)
    return list(session.scalars(query.order_by(OrgApiKey.label, OrgApiKey.id)))


def _target(org: Organization) -> str:
    return f"{org.name} ({org.org_id})"


def _organization(session: Session, organization_id: int) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise OrganizationNotFound(f"no organization has the id {organization_id}")
    return org


# --- the background read --------------------------------------------------------------------------


def _org_jobs(session: Session, organization_id: int) -> list[int]:
    """The organization's reads queued or running."""
    rows = session.execute(select(Job.id, Job.payload).where(Job.kind == ORG_SYNC, Job.status.in_(ACTIVE)))
    return [job_id for job_id, payload in rows if payload.get("organization_id") == organization_id]


def enqueue_org_sync(session: Session, organization_id: int, actor: Principal, now: datetime) -> bool:
    """Queue a read of the organization unless one is queued or running; whether one was queued."""
    if _org_jobs(session, organization_id):
        return False
    enqueue(session, ORG_SYNC, actor, now, payload={"organization_id": organization_id})
    return True


def due_organizations(session: Session, now: datetime) -> list[int]:
    """The organizations whose periodic read is due (the scheduler's cadence)."""
    due = or_(Organization.next_sync_at.is_(None), Organization.next_sync_at <= now)
    return list(session.scalars(select(Organization.id).where(due).order_by(Organization.id)))


def _ms(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1000) if moment else 0


async def sync_organization(runtime: Runtime, organization_id: int, policy: RetryPolicy | None = None) -> int:
    """Read the organization: its audit log's app actions from the bookmark on (page by page, each
    committed with the cursor of the next, so a read stopped anywhere resumes there), then its
    managed accounts' API tokens and its own API keys. Returns how many app actions were new. A
    refused key or a failing API is kept as the organization's ``sync_error``; ``Deferred`` (a long
    429) goes to the caller."""
    with runtime.sessions() as session:
        org = _organization(session, organization_id)
        org_id, sealed, bookmark, cursor = org.org_id, org.secret, org.events_from, org.events_cursor
    try:
        key = runtime.secrets.decrypt(sealed, organization_key_context(organization_id))
    except SecretError:
        _failed(runtime, organization_id, "the stored organization API key cannot be decrypted: replace it")
        return 0
    client = admin_client(
        runtime.settings.atlassian.admin_url, key, runtime.verify, policy=policy, clock=runtime.clock
    )
    try:
        names = await action_names(client, org_id)
        cursor = cursor or {**events_from(org_id, _ms(bookmark)), "newest": _ms(bookmark)}
        added = 0
        async for events, following in event_pages(client, cursor):
            times = [_ms(t) for t in map(event_time, events) if t is not None]
            newest = max([int(cursor["newest"]), *times])
            cursor = {**following, "newest": newest} if following else {"newest": newest}
            actions = [a for a in (app_action(e, names) for e in events) if a is not None]
            added += _store_page(runtime, organization_id, actions, cursor)
        tokens = await org_tokens(client, org_id)
        keys = await org_keys(client, org_id)
    except AtlassianError as err:
        # a stored page cursor the API no longer takes (400): the next read starts from the bookmark
        _failed(runtime, organization_id, str(err), drop_cursor=err.status == 400)
        return 0
    finally:
        await client.aclose()
    _store_lists(runtime, organization_id, tokens, keys)
    if added:
        _refresh_installers(runtime)
    return added


def _refresh_installers(runtime: Runtime) -> None:
    """Every Atlassian domain's installers from the sources again: the organization's new
    installations go first (an organization holds all its sites; a site outside it matches none)."""
    with runtime.sessions.begin() as session:
        for domain_id in session.scalars(select(Domain.id).where(Domain.platform == "atlassian")):
            refresh_installers(session, domain_id)


def _store_page(runtime: Runtime, organization_id: int, actions: list[AppAction], cursor: Cursor) -> int:
    """A page's new app actions, with where the read stands: the next page's cursor, or (after the
    last page) the newest event time as the next read's bookmark. Returns how many were new."""
    with runtime.sessions.begin() as session:
        org = _organization(session, organization_id)
        ids = [a.event_id for a in actions]
        known = set(
            session.scalars(
                select(OrgAppEvent.event_id).where(
                    OrgAppEvent.organization_id == organization_id, OrgAppEvent.event_id.in_(ids)
                )
            )
        )
        fresh = {a.event_id: a for a in actions if a.event_id not in known}
        session.add_all(_event_row(organization_id, a) for a in fresh.values())
        if "url" in cursor:
            org.events_cursor = cursor
        else:
            org.events_cursor = None
            if cursor["newest"]:
                org.events_from = datetime.fromtimestamp(cursor["newest"] / 1000, UTC)
        return len(fresh)


def _event_row(organization_id: int, a: AppAction) -> OrgAppEvent:
    return OrgAppEvent(
        organization_id=organization_id, event_id=a.event_id, action=a.action, kind=a.kind,
        display_name=a.display_name, app_key=a.app_key, app_name=a.app_name, site_id=a.site_id,
        site_name=a.site_name, actor_account_id=a.actor_account_id, actor_name=a.actor_name, at=a.at,
    )  # fmt: skip


def _replace(
    session: Session, model: type[OrgApiToken] | type[OrgApiKey], organization_id: int, rows: list[Base]
) -> None:
    """The organization's rows of ``model`` replaced by ``rows`` (the list as read now)."""
    session.execute(delete(model).where(model.organization_id == organization_id))
    session.add_all(rows)


def _store_lists(runtime: Runtime, organization_id: int, tokens: list[OrgToken], keys: list[OrgKey]) -> None:
    """The API tokens and API keys as listed now (replacing the last lists); the read is done."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        org = _organization(session, organization_id)
        unique_tokens = {t.token_id: t for t in tokens}
        _replace(session, OrgApiToken, organization_id, [
            OrgApiToken(
                organization_id=organization_id, token_id=t.token_id, label=t.label[:255], status=t.status,
                owner_account_id=t.owner_account_id, owner_name=t.owner_name, owner_email=t.owner_email,
                created_at=t.created_at, last_active_at=t.last_active_at, expires_at=t.expires_at,
            )
            for t in unique_tokens.values()
        ])  # fmt: skip
        unique_keys = {k.key_id: k for k in keys}
        _replace(session, OrgApiKey, organization_id, [
            OrgApiKey(
                organization_id=organization_id, key_id=k.key_id, label=k.label[:255],
                created_by_id=k.created_by_id, created_by_name=k.created_by_name,
                created_by_email=k.created_by_email, created_at=k.created_at, expires_at=k.expires_at,
                last_active_at=k.last_active_at, scopes=k.scopes,
            )
            for k in unique_keys.values()
        ])  # fmt: skip
        org.synced_at, org.sync_error = now, None
        org.next_sync_at = now + timedelta(minutes=runtime.settings.sync_interval_minutes)


def _failed(runtime: Runtime, organization_id: int, error: str, drop_cursor: bool = False) -> None:
    """The read failed: why (never the key), and the next try at the scheduler's cadence."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        org = session.get(Organization, organization_id)
        if org is not None:
            org.sync_error = error[:500]
            if drop_cursor:
                org.events_cursor = None
            org.next_sync_at = now + timedelta(minutes=runtime.settings.sync_interval_minutes)


# --- what the organization tells the inventory ----------------------------------------------------
