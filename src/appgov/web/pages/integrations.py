"""The Integrations page and a domain's lifecycle in the browser: platforms and their domains (status,
masked API key, first connected, last synced), Add (consent at Atlassian, the callback, pick the
site, its API key, Connect), Reconnect, Edit API key and Delete, each behind a confirmation where
it replaces or removes something. The work itself is ``integrations.connect``'s. The optional
Atlassian organization likewise: connected with its org API key from the Integrations page, its page
(the audit log's app actions, the managed accounts' API tokens, the organization's API keys),
replace its key, delete it (``integrations.organizations``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from appgov.accounts.permissions import Permission
from appgov.connectors import registry
from appgov.connectors.protocol import Connector
from appgov.integrations import connect
from appgov.integrations import organizations as orgs
from appgov.integrations.credentials import expiry_of
from appgov.integrations.domains import DomainError, site_name
from appgov.integrations.status import IN_PROGRESS, DomainHealth, domain_health, domain_healths, worst
from appgov.storage.models import AuditEvent, Domain, Organization
from appgov.web.auth import Viewer, browser_session, require, runtime_of
from appgov.web.inputs import RowId
from appgov.web.templating import render

router = APIRouter()
NOTICES = {
    "domain.added": "{name} is connected. Ingestion has started in the background and is still "
    "processing; you get an email when the domain is ready.",
    "domain.reconnected": "{name} is reconnected with a new consent; a sync has started for it and for "
    "the domains that share the consent.",
    "domain.api_key_replaced": "The API key of {name} was replaced; a sync has started with it.",
    "domain.deleted": "{name} was deleted with its credentials, queued work and data.",
    "organization.added": "The organization {name} is connected; it is being read in the background.",
    "organization.api_key_replaced": "The API key of the organization {name} was replaced; a read has "
    "started.",
    "organization.deleted": "The organization {name} was deleted with its key and what was read with it.",
}


@dataclass(frozen=True)
class PlatformView:
    """A platform (its connector) with its domains' health."""

    connector: Connector
    healths: list[DomainHealth]

    @property
    def worst(self) -> DomainHealth | None:
        return worst(self.healths)

    @property
    def polling(self) -> bool:
        """While a domain is in progress its row refreshes itself (htmx), until none is."""
        return any(h.status.label == IN_PROGRESS for h in self.healths)


def _views(request: Request, platform: str | None = None) -> list[PlatformView]:
    runtime = runtime_of(request)
    connectors = [c for c in registry.connectors() if platform in (None, c.platform)]
    if not connectors:
        return []
    with runtime.sessions() as session:
        healths = domain_healths(session, runtime.settings, runtime.clock.now())
    return [PlatformView(c, [h for h in healths if h.domain.platform == c.platform]) for c in connectors]


def _api_token_page() -> str | None:
    return registry.connector("atlassian").ui.help_url("api_token")


def _organizations(request: Request) -> list[tuple[Organization, str]]:
    """The connected organizations, each with its masked key."""
    with runtime_of(request).sessions() as session:
        return [(org, orgs.masked_key(org)) for org in orgs.organizations(session)]


def _page(request: Request, viewer: Viewer, status_code: int = 200, **context: object) -> Response:
    return render(
        request,
        "integrations/index.html",
        viewer,
        status_code,
        nav="integrations",
        platforms=_views(request),
        organizations=_organizations(request),
        **context,
    )


def _notice(request: Request, viewer: Viewer, event_id: int | None) -> str | None:
    """The message for an action this user just did (named by its audit event, so not forgeable)."""
    if event_id is None:
        return None
    with runtime_of(request).sessions() as session:
        event = session.get(AuditEvent, event_id)
    if event is None or event.actor_user_id != viewer.user.id or event.action not in NOTICES:
        return None
    return NOTICES[event.action].format(name=site_name(event.target))


def _sentence(err: Exception) -> str:
    """The error as a sentence: capitalised, unless it starts with an email address or a URL."""
    text = str(err)
    first = text.split(" ", 1)[0]
    return text if "@" in first or "://" in first else text[:1].upper() + text[1:]


def _expiry(expires_on: str) -> datetime | None:
    """The form's optional expiry date (a date input sends YYYY-MM-DD, or nothing)."""
    if not expires_on.strip():
        return None
    try:
        return expiry_of(date.fromisoformat(expires_on.strip()))
    except ValueError:
        raise DomainError("give the expiry date as YYYY-MM-DD, or leave it empty") from None


ExpiresOnForm = Annotated[str, Form(max_length=10)]


def _done(event_id: int) -> Response:
    return RedirectResponse(f"/integrations?event={event_id}", status_code=303)


def _message(request: Request, viewer: Viewer | None, title: str, message: str, status_code: int) -> Response:
    page = {"title": title, "message": message}
    return render(request, "integrations/message.html", viewer, status_code, nav="integrations", **page)


@router.get("/integrations")
def integrations_page(
    request: Request, viewer: Annotated[Viewer, require(Permission.READ)], event: RowId | None = None
) -> Response:
    notice = _notice(request, viewer, event)
    return _page(request, viewer, flash=notice, flash_kind="success")


@router.get("/integrations/{platform}/domains")
def platform_domains(
    request: Request, viewer: Annotated[Viewer, require(Permission.READ)], platform: str
) -> Response:
    """The domains table alone: what the page's htmx polling swaps in while a sync is in progress."""
    views = _views(request, platform)
    if not views:
        return _message(request, viewer, "Not found", "No such platform.", 404)
    return render(request, "integrations/_domains.html", viewer, view=views[0], oob=True)


# --- add: consent, callback, pick the site and give its API key -----------------------------------


@router.post("/integrations/atlassian/add")
async def add(request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)]) -> Response:
    try:
        started = await connect.start_consent(runtime_of(request), browser_session(viewer))
    except DomainError as err:
        return _page(request, viewer, 400, flash=f"Add is not available: {err}", flash_kind="error")
    return RedirectResponse(started.authorization_url, status_code=303)


@router.get("/integrations/atlassian/callback")
async def callback(
    request: Request,
    viewer: Annotated[Viewer | None, require(Permission.DOMAINS_MANAGE, signed_out=True)],
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """Atlassian's answer. Signed out, it is refused on the spot: sending it through sign-in would
    carry the code in the next URL (CS-07)."""
    title = "The connection to Atlassian was not completed"
    if viewer is None:
        message = "This browser is not signed in to appgov. Sign in, then start again with Add."
        return _message(request, None, title, message, 401)
    try:
        done = await connect.finish_consent(
            runtime_of(request), browser_session(viewer), state, code, error, viewer.principal
        )
    except DomainError as err:
        return _message(request, viewer, title, f"{_sentence(err)}. Nothing was changed.", 400)
    if done.event_id is not None:
        return _done(done.event_id)
    return RedirectResponse(f"/integrations/atlassian/connect?flow={done.flow_id}", status_code=303)


def _connect_form(
    request: Request,
    viewer: Viewer,
    flow: RowId,
    *,
    error: str | None = None,
    email: str | None = None,
    chosen: str | None = None,
    expires_on: str = "",
) -> Response:
    try:
        pending = connect.pending_connection(runtime_of(request), flow, browser_session(viewer))
    except DomainError as err:
        return _message(request, viewer, "Connect an Atlassian site", f"{_sentence(err)}.", 400)
    page = {
        "pending": pending,
        "error": error,
        "email": pending.account_email if email is None else email,
        "chosen": chosen,
        "expires_on": expires_on,
        "api_token_page": _api_token_page(),
    }
    return render(
        request, "integrations/connect.html", viewer, 400 if error else 200, nav="integrations", **page
    )


@router.get("/integrations/atlassian/connect")
def connect_page(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], flow: RowId
) -> Response:
    return _connect_form(request, viewer, flow)


@router.post("/integrations/atlassian/connect")
async def connect_site(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    flow: Annotated[int, Form()],
    site: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    api_token: Annotated[str, Form(max_length=2000)] = "",
    expires_on: ExpiresOnForm = "",
) -> Response:
    runtime = runtime_of(request)
    try:
        expires_at = _expiry(expires_on)
        done = await connect.connect_site(
            runtime, flow, browser_session(viewer), site, email, api_token, viewer.principal, expires_at
        )
    except DomainError as err:
        error = f"{_sentence(err)}."
        return _connect_form(
            request, viewer, flow, error=error, email=email, chosen=site, expires_on=expires_on
        )
    return _done(done.event_id)


# --- reconnect, edit the API key, delete ----------------------------------------------------------


def _domain(request: Request, domain_id: int) -> DomainHealth | None:
    runtime = runtime_of(request)
    with runtime.sessions() as session:
        domain = session.get(Domain, domain_id)
        if domain is None:
            return None
        return domain_health(session, domain, runtime.settings, runtime.clock.now())


def _unknown(request: Request, viewer: Viewer) -> Response:
    return _message(request, viewer, "Not found", "No connected domain has this id.", 404)


@router.post("/domains/{domain_id}/reconnect")
async def reconnect(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], domain_id: RowId
) -> Response:
    try:
        started = await connect.start_consent(runtime_of(request), browser_session(viewer), domain_id)
    except connect.DomainNotFound:
        return _unknown(request, viewer)
    except DomainError as err:
        return _page(request, viewer, 400, flash=f"Reconnect is not available: {err}", flash_kind="error")
    return RedirectResponse(started.authorization_url, status_code=303)


def _api_key_form(
    request: Request,
    viewer: Viewer,
    health: DomainHealth,
    error: str | None = None,
    email: str | None = None,
    expires_on: str = "",
) -> Response:
    page = {
        "health": health,
        "error": error,
        "email": health.api_key_owner if email is None else email,
        "expires_on": expires_on,
        "api_token_page": _api_token_page(),
    }
    return render(
        request, "integrations/api_key.html", viewer, 400 if error else 200, nav="integrations", **page
    )


@router.get("/domains/{domain_id}/api-key")
def api_key_page(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], domain_id: RowId
) -> Response:
    health = _domain(request, domain_id)
    return _api_key_form(request, viewer, health) if health else _unknown(request, viewer)


@router.post("/domains/{domain_id}/api-key")
async def replace_api_key(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    domain_id: RowId,
    email: Annotated[str, Form(max_length=320)] = "",
    api_token: Annotated[str, Form(max_length=2000)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
    expires_on: ExpiresOnForm = "",
) -> Response:
    health = _domain(request, domain_id)
    if health is None:
        return _unknown(request, viewer)
    if confirm != "yes":
        error = "Tick the box to confirm that the new key replaces the current one."
        return _api_key_form(request, viewer, health, error, email, expires_on)
    try:
        done = await connect.replace_api_token(
            runtime_of(request), domain_id, email, api_token, viewer.principal, _expiry(expires_on)
        )
    except connect.DomainNotFound:
        return _unknown(request, viewer)
    except DomainError as err:
        error = f"{_sentence(err)}. The current API key stays in place."
        return _api_key_form(request, viewer, health, error, email, expires_on)
    return _done(done.event_id)


@router.get("/domains/{domain_id}/delete")
def delete_page(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], domain_id: RowId
) -> Response:
    health = _domain(request, domain_id)
    if health is None:
        return _unknown(request, viewer)
    return render(request, "integrations/delete.html", viewer, nav="integrations", health=health, error=None)


@router.post("/domains/{domain_id}/delete")
def delete(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    domain_id: RowId,
    confirm_name: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    health = _domain(request, domain_id)
    if health is None:
        return _unknown(request, viewer)
    if confirm_name.strip() != health.domain.name:
        error = f"Type {health.domain.name} to confirm the deletion."
        return render(
            request, "integrations/delete.html", viewer, 400, nav="integrations", health=health, error=error
        )
    try:
        done = connect.delete_domain(runtime_of(request), domain_id, viewer.principal)
    except connect.DomainNotFound:
        return _unknown(request, viewer)
    return _done(done.event_id)


# --- the optional organization --------------------------------------------------------------------


KeyForm = Annotated[str, Form(max_length=2000)]


def _org(request: Request, organization_id: int) -> Organization | None:
    with runtime_of(request).sessions() as session:
        return session.get(Organization, organization_id)


def _unknown_org(request: Request, viewer: Viewer) -> Response:
    return _message(request, viewer, "Not found", "No connected organization has this id.", 404)


@router.post("/integrations/atlassian/organization")
async def connect_organization(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], api_key: KeyForm = ""
) -> Response:
    try:
        done = await orgs.add_organization(runtime_of(request), api_key, viewer.principal)
    except DomainError as err:
        flash = f"The organization was not connected: {err}."
        return _page(request, viewer, 400, flash=flash, flash_kind="error")
    return _done(done.event_id)


@router.get("/organizations/{organization_id}")
def organization_page(
    request: Request, viewer: Annotated[Viewer, require(Permission.READ)], organization_id: RowId
) -> Response:
    with runtime_of(request).sessions() as session:
        org = session.get(Organization, organization_id)
        if org is None:
            return _unknown_org(request, viewer)
        events = orgs.app_events(session, organization_id)
        tokens = orgs.api_tokens(session, organization_id)
        keys = orgs.api_keys(session, organization_id)
    page = {"org": org, "masked": orgs.masked_key(org), "events": events, "tokens": tokens, "keys": keys}
    return render(request, "organizations/page.html", viewer, 200, nav="integrations", **page)


def _key_form(request: Request, viewer: Viewer, org: Organization, error: str | None = None) -> Response:
    page = {"org": org, "masked": orgs.masked_key(org), "error": error}
    return render(
        request, "organizations/api_key.html", viewer, 400 if error else 200, nav="integrations", **page
    )


@router.get("/organizations/{organization_id}/api-key")
def org_api_key_page(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], organization_id: RowId
) -> Response:
    org = _org(request, organization_id)
    return _key_form(request, viewer, org) if org else _unknown_org(request, viewer)


@router.post("/organizations/{organization_id}/api-key")
async def replace_org_api_key(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    organization_id: RowId,
    api_key: KeyForm = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    org = _org(request, organization_id)
    if org is None:
        return _unknown_org(request, viewer)
    if confirm != "yes":
        return _key_form(
            request, viewer, org, "Tick the box to confirm that the new key replaces the current one."
        )
    try:
        done = await orgs.replace_org_key(runtime_of(request), organization_id, api_key, viewer.principal)
    except orgs.OrganizationNotFound:
        return _unknown_org(request, viewer)
    except DomainError as err:
        return _key_form(request, viewer, org, f"{_sentence(err)}. The current key stays in place.")
    return _done(done.event_id)


def _delete_form(request: Request, viewer: Viewer, org: Organization, error: str | None = None) -> Response:
    page = {"org": org, "error": error}
    return render(
        request, "organizations/delete.html", viewer, 400 if error else 200, nav="integrations", **page
    )


@router.get("/organizations/{organization_id}/delete")
def org_delete_page(
    request: Request, viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)], organization_id: RowId
) -> Response:
    org = _org(request, organization_id)
    return _delete_form(request, viewer, org) if org else _unknown_org(request, viewer)


@router.post("/organizations/{organization_id}/delete")
def delete_org(
    request: Request,
    viewer: Annotated[Viewer, require(Permission.DOMAINS_MANAGE)],
    organization_id: RowId,
    confirm_name: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    org = _org(request, organization_id)
    if org is None:
        return _unknown_org(request, viewer)
    if confirm_name.strip() != org.name:
        return _delete_form(request, viewer, org, f"Type {org.name} to confirm the deletion.")
    try:
        done = orgs.delete_organization(runtime_of(request), organization_id, viewer.principal)
    except orgs.OrganizationNotFound:
        return _unknown_org(request, viewer)
    return _done(done.event_id)
