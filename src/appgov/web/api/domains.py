"""The domain lifecycle over REST (``/api/v1``): list, add with an API token, start the OAuth consent
and finish it by picking a site, replace the API token, reconnect, delete. Tokens go in and never
come back: answers carry them masked, and validation errors never echo what was sent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, Field, SecretStr, StrictBool

from appgov.accounts.permissions import Permission
from appgov.integrations import connect
from appgov.integrations.credentials import Credential, expiry_of
from appgov.integrations.domains import DomainError, is_masked
from appgov.integrations.status import DomainHealth, domain_health, domain_healths
from appgov.outcomes import Outcome
from appgov.storage.models import Domain
from appgov.web.auth import Viewer, browser_session, require, runtime_of
from appgov.web.inputs import RequestBody, RowId
from appgov.web.openapi import BAD_REQUEST

router = APIRouter(tags=["domains"], responses={400: BAD_REQUEST})


class ReasonOut(BaseModel):
    code: str = Field(description="a stable reason code; the words may change, the code does not")
    params: dict[str, Any] = Field(description="the code's parameters (times are ISO-8601)")
    text: str = Field(description="the code and its parameters in words, as the console shows them")


def reason_out(outcome: Outcome | None) -> ReasonOut | None:
    return ReasonOut(**outcome.as_json()) if outcome else None


class CredentialOut(BaseModel):
    kind: str = Field(description="api_token or oauth_grant")
    masked: str = Field(
        description="the API token masked to its last four characters; the grant: who consented"
    )
    expires_at: datetime | None = Field(
        description="the API token: the expiry date entered with it (null: not given); the grant: "
        "365 days after its consent, when Atlassian ends it"
    )
    state: str = Field(
        description="valid, expires_soon (within APPGOV_EXPIRY_WARNING_DAYS), expired; a grant "
        "Atlassian refused: expired or revoked"
    )

    @classmethod
    def of(cls, credential: Credential) -> CredentialOut:
        return cls(
            kind=credential.kind,
            masked=credential.masked,
            expires_at=credential.expires_at,
            state=credential.state,
        )


class DomainOut(BaseModel):
    id: int
    name: str
    site_url: str
    products: list[str]
    api_key: str | None = Field(description="the API key masked to its last four characters")
    api_key_owner: str | None
    first_connected_at: datetime
    first_connected_by: str
    last_synced_at: datetime | None = Field(description="the end of the last sync that brought data")
    last_sync_seconds: float | None
    late: bool = Field(description="the last sync was slow, or the last success is too old")
    late_reason: str | None
    status: str = Field(description="In progress, Success or Error")
    status_reason: str | None = Field(description="the outcome's words")
    outcome: ReasonOut | None = Field(description="why the status is what it is (on a Success: a note)")
    reconsent_by: datetime | None = Field(
        description="when Atlassian ends the OAuth consent (365 days after it), once that is near: "
        "reconnect before then; null otherwise"
    )
    consent_shared_with: list[str] = Field(
        description="the other domains read with the same OAuth consent: it expires for all of them "
        "at once, and one reconnect renews it for all"
    )
    credentials: list[CredentialOut] = Field(description="the API token and the OAuth grant, with their ends")


# Atlassian's API tokens are a few hundred characters; a bound keeps a huge body from reaching the probe
TOKEN_LIMIT = 2000


def _not_masked(token: SecretStr) -> SecretStr:
    """The masked form appgov answers with is never taken for a token (CS-05)."""
    if is_masked(token.get_secret_value()):
        raise ValueError("this is the masked form appgov shows, not an API token")
    return token


ApiTokenIn = Annotated[SecretStr, Field(max_length=TOKEN_LIMIT), AfterValidator(_not_masked)]
ExpiresOn = Annotated[
    date | None,
    Field(
        description="the API token's expiry date, as chosen when it was created at Atlassian (which "
        "does not tell it): appgov warns APPGOV_EXPIRY_WARNING_DAYS before it and stops syncing on it"
    ),
]


class DomainAdd(RequestBody):
    site_url: str = Field(max_length=2000, examples=["https://acme.atlassian.net"])
    email: str = Field(
        max_length=320, description="the Atlassian account that owns the API token (a site admin)"
    )
    api_token: ApiTokenIn
    api_token_expires_on: ExpiresOn = None


class ApiTokenReplace(RequestBody):
    email: str = Field(max_length=320)
    api_token: ApiTokenIn
    api_token_expires_on: ExpiresOn = None
    confirm: StrictBool = Field(False, description="must be true: the new token replaces the current one")


class ApiTokenChange(RequestBody):
    """What can change of the API token without giving it again: its expiry date alone (a token sent
    here, masked or not, is an unknown field: refused, never stored)."""

    api_token_expires_on: ExpiresOn


class Authorization(BaseModel):
    flow_id: int
    authorization_url: str = Field(description="open it in the browser whose session asked for it")


class PendingSite(BaseModel):
    cloud_id: str
    url: str
    name: str


class PendingConnection(BaseModel):
    flow_id: int
    account_email: str | None
    sites: list[PendingSite] = Field(description="sites the consent reaches that are not connected yet")


class SiteConnect(RequestBody):
    cloud_id: str = Field(max_length=100)
    email: str = Field(max_length=320)
    api_token: ApiTokenIn
    api_token_expires_on: ExpiresOn = None


def domain_out(health: DomainHealth) -> DomainOut:
    domain = health.domain
    return DomainOut(
        id=domain.id,
        name=domain.name,
        site_url=domain.site_url,
        products=list(domain.products),
        api_key=health.api_key,
        api_key_owner=health.api_key_owner,
        first_connected_at=domain.created_at,
        first_connected_by=domain.created_by,
        last_synced_at=health.last_synced_at,
        last_sync_seconds=health.last_sync_seconds,
        late=health.late,
        late_reason=health.late_reason,
        status=health.status.label,
        status_reason=health.status.reason,
        outcome=reason_out(health.status.outcome),
        reconsent_by=health.reconsent_by,
        consent_shared_with=list(health.consent_shared_with),
        credentials=[CredentialOut.of(c) for c in health.credentials],
    )


def _one(request: Request, domain_id: int) -> DomainOut:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        domain = session.get(Domain, domain_id)
        if domain is None:
            raise HTTPException(404, "no connected domain has this id")
        return domain_out(domain_health(session, domain, runtime.settings, runtime.clock.now()))


def _refused(err: DomainError) -> HTTPException:
    return HTTPException(404 if isinstance(err, connect.DomainNotFound) else 400, str(err))


@router.get("/domains")
def list_domains(request: Request, _: Annotated[Viewer, require(Permission.READ)]) -> list[DomainOut]:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        return [domain_out(h) for h in domain_healths(session, runtime.settings, runtime.clock.now())]


@router.post("/domains", status_code=201)
async def add_domain(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], body: DomainAdd
) -> DomainOut:
    """Connect a site with an API token alone, validated against the site first; its first sync
    starts at once."""
    runtime = runtime_of(request)
    try:
        done = await connect.add_with_token(
            runtime,
            body.site_url,
            body.email,
            body.api_token.get_secret_value(),
            viewer.principal,
            expiry_of(body.api_token_expires_on),
        )
    except DomainError as err:
        raise _refused(err) from None
    return _one(request, done.domain_id)


@router.post("/integrations/atlassian/authorize")
async def authorize(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)]
) -> Authorization:
    """Start the OAuth consent; the callback only honours it in this same session."""
    try:
        started = await connect.start_consent(runtime_of(request), browser_session(viewer))
    except DomainError as err:
        raise _refused(err) from None
    return Authorization(flow_id=started.flow_id, authorization_url=started.authorization_url)


@router.get("/integrations/atlassian/flows/{flow_id}")
def pending_connection(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], flow_id: RowId
) -> PendingConnection:
    """After the consent: the sites it reaches that are not connected yet."""
    try:
        pending = connect.pending_connection(runtime_of(request), flow_id, browser_session(viewer))
    except DomainError as err:
        raise _refused(err) from None
    sites = [PendingSite(cloud_id=s.cloud_id, url=s.url, name=s.name) for s in pending.sites]
    return PendingConnection(flow_id=pending.flow_id, account_email=pending.account_email, sites=sites)


@router.post("/integrations/atlassian/flows/{flow_id}/connect", status_code=201)
async def connect_site(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    flow_id: RowId,
    body: SiteConnect,
) -> DomainOut:
    """Connect a site of the consent with its API token; its first sync starts at once."""
    try:
        done = await connect.connect_site(
            runtime_of(request),
            flow_id,
            browser_session(viewer),
            body.cloud_id,
            body.email,
            body.api_token.get_secret_value(),
            viewer.principal,
            expiry_of(body.api_token_expires_on),
        )
    except DomainError as err:
        raise _refused(err) from None
    return _one(request, done.domain_id)


@router.put("/domains/{domain_id}/api-token")
async def replace_api_token(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    domain_id: RowId,
    body: ApiTokenReplace,
) -> DomainOut:
    """Replace the API token; the new one is validated first, and the old one stays if it fails."""
    if not body.confirm:
        raise HTTPException(400, 'send "confirm": true: the new token replaces the current one')
    try:
        await connect.replace_api_token(
            runtime_of(request),
            domain_id,
            body.email,
            body.api_token.get_secret_value(),
            viewer.principal,
            expiry_of(body.api_token_expires_on),
        )
    except DomainError as err:
        raise _refused(err) from None
    return _one(request, domain_id)


@router.patch("/domains/{domain_id}/api-token")
def change_api_token(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    domain_id: RowId,
    body: ApiTokenChange,
) -> DomainOut:
    """Change the API token's expiry date (null: not known) without giving the token again; the
    stored token stays as it is. A new date clears an expired status; no sync is queued."""
    try:
        connect.set_api_token_expiry(
            runtime_of(request), domain_id, expiry_of(body.api_token_expires_on), viewer.principal
        )
    except DomainError as err:
        raise _refused(err) from None
    return _one(request, domain_id)


@router.post("/domains/{domain_id}/reconnect")
async def reconnect(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], domain_id: RowId
) -> Authorization:
    """A new consent for the domain; the callback binds the fresh grant to it and queues a sync."""
    try:
        started = await connect.start_consent(runtime_of(request), browser_session(viewer), domain_id)
    except DomainError as err:
        raise _refused(err) from None
    return Authorization(flow_id=started.flow_id, authorization_url=started.authorization_url)


@router.delete("/domains/{domain_id}", status_code=204)
def delete_domain(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    domain_id: RowId,
    confirm: Annotated[bool, Query(description="must be true: the domain's credentials and data go")] = False,
) -> Response:
    """Cancel the domain's work and delete its credentials and data; the audit trail keeps a record."""
    if not confirm:
        raise HTTPException(400, "add ?confirm=true: deleting removes the domain's credentials and data")
    try:
        connect.delete_domain(runtime_of(request), domain_id, viewer.principal)
    except DomainError as err:
        raise _refused(err) from None
    return Response(status_code=204)
