"""The optional organization over REST (``/api/v1/organizations``): connect one with its org API key
(validated against the org admin API first), replace the key, delete it, read it again now, and what
its read found: the audit log's app actions, the managed accounts' API tokens and the organization's
own API keys (metadata only). The key goes in
and never comes back: answers carry it masked, and errors never echo it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictBool

from appgov.accounts.permissions import Permission
from appgov.integrations import organizations as orgs
from appgov.integrations.domains import DomainError
from appgov.storage.models import Organization, OrgApiKey, OrgApiToken, OrgAppEvent
from appgov.web.api.domains import ApiTokenIn
from appgov.web.auth import Viewer, require, runtime_of
from appgov.web.inputs import RequestBody, RowId
from appgov.web.openapi import BAD_REQUEST

router = APIRouter(tags=["organizations"], responses={400: BAD_REQUEST})


class OrganizationOut(BaseModel):
    id: int
    org_id: str = Field(description="Atlassian's organization id")
    name: str
    api_key: str = Field(description="the organization API key masked to its last four characters")
    connected_at: datetime
    connected_by: str
    key_validated_at: datetime
    last_read_at: datetime | None = Field(description="the end of the last complete read")
    read_error: str | None = Field(description="why the last read failed (null: it did not)")


class OrgAppEventOut(BaseModel):
    event_id: str
    kind: str = Field(description="install, uninstall, enable, disable, update or auto_update_failed")
    action: str = Field(description="Atlassian's action id")
    display_name: str = Field(description="the action's name in Atlassian's audit log")
    app_key: str
    app_name: str | None
    site_id: str | None = Field(description="the site's cloud id")
    site_name: str | None
    actor_account_id: str
    actor_name: str | None
    at: datetime


class OrgApiTokenOut(BaseModel):
    token_id: str
    label: str
    status: str | None
    owner_account_id: str
    owner_name: str | None
    owner_email: str | None
    created_at: datetime | None
    last_active_at: datetime | None
    expires_at: datetime | None


class OrgApiKeyOut(BaseModel):
    key_id: str
    label: str
    created_by_id: str | None = Field(description="the account id of who created the key")
    created_by_name: str | None
    created_by_email: str | None
    created_at: datetime | None
    expires_at: datetime | None
    last_active_at: datetime | None = Field(description="when the key was last used")
    scopes: list[str]


class OrganizationAdd(RequestBody):
    api_key: ApiTokenIn = Field(
        description="an organization API key (admin.atlassian.com, Settings, API keys)"
    )


class OrgKeyReplace(RequestBody):
    api_key: ApiTokenIn
    confirm: StrictBool = Field(False, description="must be true: the new key replaces the current one")


def organization_out(org: Organization) -> OrganizationOut:
    return OrganizationOut(
        id=org.id, org_id=org.org_id, name=org.name, api_key=orgs.masked_key(org),
        connected_at=org.created_at, connected_by=org.created_by, key_validated_at=org.validated_at,
        last_read_at=org.synced_at, read_error=org.sync_error,
    )  # fmt: skip


def event_out(event: OrgAppEvent) -> OrgAppEventOut:
    return OrgAppEventOut(
        event_id=event.event_id, kind=event.kind, action=event.action, display_name=event.display_name,
        app_key=event.app_key, app_name=event.app_name, site_id=event.site_id, site_name=event.site_name,
        actor_account_id=event.actor_account_id, actor_name=event.actor_name, at=event.at,
    )  # fmt: skip


def token_out(token: OrgApiToken) -> OrgApiTokenOut:
    return OrgApiTokenOut(
        token_id=token.token_id, label=token.label, status=token.status,
        owner_account_id=token.owner_account_id, owner_name=token.owner_name, owner_email=token.owner_email,
        created_at=token.created_at, last_active_at=token.last_active_at, expires_at=token.expires_at,
    )  # fmt: skip


def key_out(key: OrgApiKey) -> OrgApiKeyOut:
    return OrgApiKeyOut(
        key_id=key.key_id, label=key.label, created_by_id=key.created_by_id,
        created_by_name=key.created_by_name, created_by_email=key.created_by_email,
        created_at=key.created_at, expires_at=key.expires_at, last_active_at=key.last_active_at,
        scopes=key.scopes,
    )  # fmt: skip


def _refused(err: DomainError) -> HTTPException:
    return HTTPException(404 if isinstance(err, orgs.OrganizationNotFound) else 400, str(err))


def _one(request: Request, organization_id: int) -> OrganizationOut:
    with runtime_of(request).sessions() as session:
        org = session.get(Organization, organization_id)
        if org is None:
            raise HTTPException(404, "no organization has this id")
        return organization_out(org)


@router.get("/organizations")
def list_organizations(
    request: Request, _: Annotated[Viewer, require(Permission.READ)]
) -> list[OrganizationOut]:
    with runtime_of(request).sessions() as session:
        return [organization_out(org) for org in orgs.organizations(session)]


@router.post("/organizations", status_code=201)
async def add_organization(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], body: OrganizationAdd
) -> OrganizationOut:
    """Connect the organization the key belongs to, validated first; its first read starts at once."""
    try:
        done = await orgs.add_organization(
            runtime_of(request), body.api_key.get_secret_value(), viewer.principal
        )
    except DomainError as err:
        raise _refused(err) from None
    return _one(request, done.organization_id)


@router.get("/organizations/{organization_id}")
def get_organization(
    request: Request, _: Annotated[Viewer, require(Permission.READ)], organization_id: RowId
) -> OrganizationOut:
    return _one(request, organization_id)


@router.put("/organizations/{organization_id}/api-key")
async def replace_api_key(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    organization_id: RowId,
    body: OrgKeyReplace,
) -> OrganizationOut:
    """Replace the key with another of the same organization, validated first: if it fails, the old
    one stays."""
    if not body.confirm:
        raise HTTPException(400, 'send "confirm": true: the new key replaces the current one')
    try:
        await orgs.replace_org_key(
            runtime_of(request), organization_id, body.api_key.get_secret_value(), viewer.principal
        )
    except DomainError as err:
        raise _refused(err) from None
    return _one(request, organization_id)


@router.post("/organizations/{organization_id}/sync", status_code=202)
def sync_organization(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], organization_id: RowId
) -> OrganizationOut:
    """Queue a read of the organization now (unless one is queued or running)."""
    runtime = runtime_of(request)
    with runtime.sessions.begin() as session:
        if session.get(Organization, organization_id) is None:
            raise HTTPException(404, "no organization has this id")
        orgs.enqueue_org_sync(session, organization_id, viewer.principal, runtime.clock.now())
    return _one(request, organization_id)


@router.delete("/organizations/{organization_id}", status_code=204)
def delete_organization(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    organization_id: RowId,
    confirm: Annotated[bool, Query(description="must be true: the key and what was read with it go")] = False,
) -> Response:
    """Delete the key and everything read with it; the audit trail keeps a record."""
    if not confirm:
        raise HTTPException(400, "add ?confirm=true: deleting removes the organization's key and data")
    try:
        orgs.delete_organization(runtime_of(request), organization_id, viewer.principal)
    except DomainError as err:
        raise _refused(err) from None
    return Response(status_code=204)


@router.get("/organizations/{organization_id}/app-events")
def list_app_events(
    request: Request, _: Annotated[Viewer, require(Permission.READ)], organization_id: RowId
) -> list[OrgAppEventOut]:
    """The audit log's app actions (installs, uninstalls, enables, disables, updates), newest first."""
    try:
        with runtime_of(request).sessions() as session:
            return [event_out(e) for e in orgs.app_events(session, organization_id)]
    except DomainError as err:
        raise _refused(err) from None


@router.get("/organizations/{organization_id}/api-tokens")
def list_api_tokens(
    request: Request, _: Annotated[Viewer, require(Permission.READ)], organization_id: RowId
) -> list[OrgApiTokenOut]:
    """The managed accounts' API tokens with their owners, created and last-used dates."""
    try:
        with runtime_of(request).sessions() as session:
            return [token_out(t) for t in orgs.api_tokens(session, organization_id)]
    except DomainError as err:
        raise _refused(err) from None


@router.get("/organizations/{organization_id}/api-keys")
def list_api_keys(
    request: Request, _: Annotated[Viewer, require(Permission.READ)], organization_id: RowId
) -> list[OrgApiKeyOut]:
    """The organization's own API keys with who created them, their scopes, created, expiry and
    last-used dates: metadata only, never a secret."""
    try:
        with runtime_of(request).sessions() as session:
            return [key_out(k) for k in orgs.api_keys(session, organization_id)]
    except DomainError as err:
        raise _refused(err) from None
