"""A domain's lifecycle, shared by the console's pages and its REST API: add (OAuth consent, then the
site and its API token), reconnect, replace the API token, delete. Every action leaves an
``AuditEvent`` (``audit.trail``) whose actor is the ``Principal`` that acted.

The consent (reliability OA-01, OA-02):

- ``start_consent`` stores an ``OAuthFlow``: the state only as its SHA-256 (the state itself travels
  through the browser), bound to the web session that asked, single-use, valid ten minutes; the PKCE
  verifier encrypted.
- ``finish_consent`` checks the state *before* any request to Atlassian (missing, unknown, another
  session's, used, expired: refused), marks it used with a conditional UPDATE so two concurrent
  replays cannot both pass, then exchanges the code with the verifier and the one configured
  redirect URI, stores the grant, and keeps who consented and the sites it reaches on the flow.
- ``connect_site`` validates the API token against the picked site before anything is stored,
  then, in one transaction, creates the domain with its grant and token and queues its first sync.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.audit.trail import record_audit
from appgov.config import https_or_loopback
from appgov.connectors.atlassian.clients import authorization_server
from appgov.connectors.atlassian.connector import ATLASSIAN
from appgov.connectors.atlassian.grants import accessible_resources, consenting_account, store_grant
from appgov.connectors.atlassian.oauth import GrantGone
from appgov.connectors.atlassian.site_rows import atlassian_site, domains_of_grant, grant_of
from appgov.connectors.atlassian.sites import SiteURLError, normalize_site_url
from appgov.connectors.base import ConnectorError
from appgov.integrations.credentials import check_expiry
from appgov.integrations.domains import (
    DomainError,
    add_domain,
    clean_token,
    domain_row,
    put_api_token,
)
from appgov.jobs.queue import cancel_jobs, enqueue_sync
from appgov.runtime import Runtime
from appgov.security.secrets import SecretError, mask
from appgov.storage.models import ApiToken, AtlassianSite, AuditEvent, Domain, OAuthFlow, OAuthGrant
from appgov.storage.sealed import verifier_context

STATE_TTL = timedelta(minutes=10)  # from Add to Atlassian's answer
PICK_TTL = timedelta(minutes=30)  # from Add to Connect: how long the site picker stays open


class ConsentRefused(DomainError):
    """Atlassian's answer cannot be honoured; the message says why, and nothing changed."""


class DomainNotFound(DomainError):
    """No domain has that id (any more)."""


@dataclass(frozen=True)
class ConsentStarted:
    flow_id: int
    authorization_url: str


@dataclass(frozen=True)
class ConsentFinished:
    flow_id: int
    purpose: str  # add | reconnect
    event_id: int | None  # the audit event of a reconnect


@dataclass(frozen=True)
class Site:
    cloud_id: str
    url: str
    name: str


@dataclass(frozen=True)
class PendingConnection:
    """After the consent: who consented and the sites it reaches that are not connected yet."""

    flow_id: int
    account_email: str | None
    sites: list[Site]


@dataclass(frozen=True)
class Done:
    domain_id: int
    event_id: int


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def check_redirect_uri(uri: str) -> None:
    """The callback Atlassian sends the code to: https, except plain http on loopback."""
    if https_or_loopback(uri):
        return
    raise DomainError(
        f"the OAuth callback {uri} must use https (plain http only on 127.0.0.1 or localhost): "
        "set APPGOV_PUBLIC_URL or APPGOV_ATLASSIAN_REDIRECT_URI"
    )


# --- consent ------------------------------------------------------------------------------------


async def start_consent(runtime: Runtime, session_id: str, domain_id: int | None = None) -> ConsentStarted:
    """A new consent for the web session (to add a site, or to reconnect ``domain_id``)."""
    redirect_uri = runtime.settings.redirect_uri
    check_redirect_uri(redirect_uri)
    server = authorization_server(runtime)
    try:
        request = server.authorization_request(redirect_uri)
    finally:
        await server.aclose()
    now = runtime.clock.now()
    hashed = state_hash(request.state)
    with runtime.sessions.begin() as session:
        if domain_id is not None:
            _domain(session, domain_id)
        flow = OAuthFlow(
            state_hash=hashed,
            session_id=session_id,
            code_verifier=runtime.secrets.encrypt(request.code_verifier, verifier_context(hashed)),
            purpose="add" if domain_id is None else "reconnect",
            domain_id=domain_id,
            created_at=now,
            expires_at=now + STATE_TTL,
        )
        session.add(flow)
        session.flush()
        return ConsentStarted(flow.id, request.url)


async def finish_consent(
    runtime: Runtime,
    session_id: str,
    state: str | None,
    code: str | None,
    error: str | None,
    actor: Principal,
) -> ConsentFinished:
    """Atlassian's answer on the callback: the state is checked before anything is asked of Atlassian."""
    flow = _claim(runtime, session_id, state)
    if error:
        denied = (
            "the consent was denied at Atlassian"
            if error == "access_denied"
            else f"Atlassian answered {error}"
        )
        raise ConsentRefused(f"{denied}: nothing was connected")
    if not code:
        raise ConsentRefused("Atlassian's answer carries no authorization code: start again")
    try:
        verifier = runtime.secrets.decrypt(flow.code_verifier, verifier_context(flow.state_hash))
    except SecretError:
        raise ConsentRefused("this consent's stored verifier cannot be read: start again") from None
    grant, account_email, resources = await _grant_from_code(runtime, code, verifier)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        row = session.get_one(OAuthFlow, flow.id)
        row.grant_id, row.account_email, row.resources = grant.id, account_email, resources
        event = _rebind(session, row, actor, now) if row.purpose == "reconnect" else None
    return ConsentFinished(flow.id, flow.purpose, event.id if event else None)


def _claim(runtime: Runtime, session_id: str, state: str | None) -> OAuthFlow:
    """The flow the state names, used up now; refused unless it is this session's, unused and fresh."""
    if not state:
        raise ConsentRefused(
            "Atlassian's answer carries no state, so it cannot be matched to a request from here"
        )
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        flow = session.scalar(select(OAuthFlow).where(OAuthFlow.state_hash == state_hash(state)))
        if flow is None:
            raise ConsentRefused("this answer does not match any consent started here (unknown state)")
        if flow.session_id != session_id:
            raise ConsentRefused("this consent was started from another browser session: start again here")
        if flow.used_at is not None:
            raise ConsentRefused("this consent answer was already used: start again")
        if flow.expires_at <= now:
            raise ConsentRefused("the consent took longer than 10 minutes: start again")
        taken = session.execute(
            update(OAuthFlow).where(OAuthFlow.id == flow.id, OAuthFlow.used_at.is_(None)).values(used_at=now)
        )
        if not getattr(taken, "rowcount", 0):
            raise ConsentRefused("this consent answer was already used: start again")
        return flow


async def _grant_from_code(
    runtime: Runtime, code: str, verifier: str
) -> tuple[OAuthGrant, str | None, list[dict[str, Any]]]:
    """Exchange the code, learn who consented and which sites the grant reaches, store the grant."""
    settings = runtime.settings
    server = authorization_server(runtime)
    try:
        tokens = await server.exchange_code(code, settings.redirect_uri, verifier)
        me = await consenting_account(settings.atlassian.api_url, tokens.access_token, runtime.verify)
        resources = await accessible_resources(
            settings.atlassian.api_url, tokens.access_token, runtime.verify
        )
    except GrantGone as gone:
        raise ConsentRefused(f"Atlassian refused the authorization code ({gone}): start again") from None
    except ConnectorError as err:
        raise ConsentRefused(f"Atlassian could not complete the consent ({err}): try again") from None
    finally:
        await server.aclose()
    email = str(me["email"]) if me.get("email") else None
    grant = store_grant(
        runtime.sessions,
        runtime.secrets,
        server.client_id,
        str(me["account_id"]),
        email,
        tokens,
        runtime.clock.now(),
    )
    kept = [{k: r.get(k) for k in ("id", "url", "name", "scopes")} for r in resources]
    return grant, email, kept


def _rebind(session: Session, flow: OAuthFlow, actor: Principal, now: datetime) -> AuditEvent:
    """Reconnect: the fresh grant now reads the domain, and a sync is queued at once for it and for
    every other domain of that grant the consent reaches (they share it: one consent renews all)."""
    domain = session.get(Domain, flow.domain_id) if flow.domain_id else None
    if domain is None:
        raise ConsentRefused("the domain to reconnect was deleted meanwhile")
    cloud_id = atlassian_site(session, domain.id).cloud_id
    resource = next((r for r in flow.resources or [] if _same_site(domain, cloud_id, r)), None)
    if resource is None:
        raise ConsentRefused(
            f"the consent does not cover {domain.site_url}: on Atlassian's consent page, pick that site"
        )
    site = atlassian_site(session, domain.id)
    previous = site.oauth_grant_id
    site.oauth_grant_id, site.cloud_id = flow.grant_id, str(resource["id"])
    session.flush()
    if previous is not None and previous != flow.grant_id:
        _drop_grant_if_unused(session, previous)
    sharing = domains_of_grant(session, flow.grant_id) if flow.grant_id is not None else [domain]
    for renewed in sharing:
        reached = atlassian_site(session, renewed.id).cloud_id
        if renewed.id == domain.id or any(_same_site(renewed, reached, r) for r in flow.resources or []):
            enqueue_sync(session, renewed.id, actor, now)
    return record_audit(
        session, actor, "domain.reconnected", domain.site_url, now, account=flow.account_email
    )


def _same_site(domain: Domain, cloud_id: str | None, resource: dict[str, Any]) -> bool:
    if cloud_id and cloud_id == resource.get("id"):
        return True
    return str(resource.get("url", "")).rstrip("/") == domain.site_url


# --- add: pick the site, give its API token -----------------------------------------------------


def pending_connection(runtime: Runtime, flow_id: int, session_id: str) -> PendingConnection:
    """The sites the consent reaches that are not connected yet."""
    with runtime.sessions() as session:
        flow = _open_flow(runtime, session, flow_id, session_id)
        connected = session.execute(
            select(Domain, AtlassianSite.cloud_id).outerjoin(
                AtlassianSite, AtlassianSite.domain_id == Domain.id
            )
        ).all()
        sites = [
            Site(str(r["id"]), str(r["url"]), str(r.get("name") or r["url"]))
            for r in flow.resources or []
            if not any(_same_site(domain, cloud_id, r) for domain, cloud_id in connected)
        ]
        return PendingConnection(flow.id, flow.account_email, sites)


def _open_flow(runtime: Runtime, session: Session, flow_id: int, session_id: str) -> OAuthFlow:
    flow = session.get(OAuthFlow, flow_id)
    fresh = flow is not None and flow.created_at + PICK_TTL > runtime.clock.now()
    if (
        flow is None
        or flow.session_id != session_id
        or flow.purpose != "add"
        or flow.grant_id is None
        or not fresh
    ):
        raise DomainError("this connection request is unknown or has expired: start again with Add")
    return flow


async def connect_site(
    runtime: Runtime,
    flow_id: int,
    session_id: str,
    cloud_id: str,
    email: str,
    api_token: str,
    actor: Principal,
    expires_at: datetime | None = None,
) -> Done:
    """Connect the picked site with its API token (validated first) and the token's expiry date when
    known; its first sync starts at once."""
    with runtime.sessions() as session:
        flow = _open_flow(runtime, session, flow_id, session_id)
        resource = next((r for r in flow.resources or [] if r.get("id") == cloud_id), None)
    if resource is None:
        raise DomainError("pick one of the sites the consent covers")
    try:
        site_url = normalize_site_url(str(resource["url"]), runtime.settings.allowed_hosts)
    except SiteURLError as err:
        raise DomainError(f"this site is not allowed: {err}") from None
    email = clean_email(email)
    token = clean_token(api_token)
    check_expiry(expires_at, runtime.clock.now())
    probe = await ATLASSIAN.probe(site_url, {"email": email, "api_token": token}, runtime.verify)
    if probe.cloud_id and probe.cloud_id != cloud_id:
        raise DomainError(f"{site_url} is not the site Atlassian's consent named")
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        same_cloud = select(AtlassianSite.domain_id).where(AtlassianSite.cloud_id == cloud_id)
        taken = select(Domain).where(or_(Domain.site_url == site_url, Domain.id.in_(same_cloud)))
        if session.scalar(taken) is not None:
            raise DomainError(f"{site_url} is already connected")
        domain = domain_row(session, site_url, probe.products, actor, now)
        session.flush()
        site = atlassian_site(session, domain.id)
        site.cloud_id, site.oauth_grant_id = cloud_id, flow.grant_id
        put_api_token(runtime, session, domain.id, email, token, probe, now, expires_at)
        enqueue_sync(session, domain.id, actor, now)
        event = record_audit(
            session, actor, "domain.added", domain.site_url, now, via="oauth", api_key_owner=email
        )
        return Done(domain.id, event.id)


async def add_with_token(
    runtime: Runtime,
    site_url: str,
    email: str,
    api_token: str,
    actor: Principal,
    expires_at: datetime | None = None,
) -> Done:
    """Connect a site with an API token alone (the REST API's add); its first sync starts at once."""
    try:
        domain = await add_domain(runtime, site_url, clean_email(email), api_token, actor, expires_at)
    except SiteURLError as err:
        raise DomainError(str(err)) from None
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        enqueue_sync(session, domain.id, actor, now)
        event = record_audit(
            session, actor, "domain.added", domain.site_url, now, via="api_token", api_key_owner=email
        )
        return Done(domain.id, event.id)


def clean_email(email: str) -> str:
    email = email.strip()
    if "@" not in email or len(email) > 320 or any(ch.isspace() for ch in email):
        raise DomainError("give the email of the Atlassian account that owns the API token")
    return email


# --- edit the API key, delete ---------------------------------------------------------------------


async def replace_api_token(
    runtime: Runtime,
    domain_id: int,
    email: str,
    api_token: str,
    actor: Principal,
    expires_at: datetime | None = None,
) -> Done:
    """The new token is validated against the site first; when it fails, the old one stays. Its
    expiry date (when known) replaces the old token's, which clears an expired status (CS-08)."""
    with runtime.sessions() as session:
        site_url = _domain(session, domain_id).site_url
    email = clean_email(email)
    token = clean_token(api_token)
    check_expiry(expires_at, runtime.clock.now())
    probe = await ATLASSIAN.probe(site_url, {"email": email, "api_token": token}, runtime.verify)
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        domain = _domain(session, domain_id)
        put_api_token(runtime, session, domain.id, email, token, probe, now, expires_at)
        enqueue_sync(session, domain.id, actor, now)
        event = record_audit(
            session,
            actor,
            "domain.api_key_replaced",
            domain.site_url,
            now,
            api_key=mask(token),
            api_key_owner=email,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
        return Done(domain.id, event.id)


def set_api_token_expiry(
    runtime: Runtime, domain_id: int, expires_at: datetime | None, actor: Principal
) -> Done:
    """Change only the API token's expiry date (None: not known): the token itself is neither needed
    nor touched (CS-05). A new date is warned of again."""
    now = runtime.clock.now()
    check_expiry(expires_at, now)
    with runtime.sessions.begin() as session:
        domain = _domain(session, domain_id)
        token = session.scalar(select(ApiToken).where(ApiToken.domain_id == domain.id))
        if token is None:
            raise DomainError(f"{domain.name} has no API token: add one with Edit API key")
        if token.expires_at != expires_at:
            token.expires_at, token.expiry_warned_at = expires_at, None
        event = record_audit(
            session, actor, "domain.api_key_expiry_changed", domain.site_url, now,
            expires_at=expires_at.isoformat() if expires_at else None,
        )  # fmt: skip
        return Done(domain.id, event.id)


def delete_domain(runtime: Runtime, domain_id: int, actor: Principal) -> Done:
    """Queued jobs cancelled and a running one asked to stop; the domain's secrets and data deleted
    (its row cascades), and its grant when no other domain uses it. The audit trail keeps the record."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        domain = _domain(session, domain_id)
        site_url, name, grant_id = domain.site_url, domain.name, grant_of(session, domain.id)
        jobs = cancel_jobs(session, domain.id, now)
        session.delete(domain)
        session.flush()
        grant_deleted = grant_id is not None and _drop_grant_if_unused(session, grant_id)
        event = record_audit(
            session, actor, "domain.deleted", site_url, now,
            name=name, jobs_cancelled=jobs, grant_deleted=grant_deleted,
        )  # fmt: skip
        return Done(domain_id, event.id)


def _drop_grant_if_unused(session: Session, grant_id: int) -> bool:
    if domains_of_grant(session, grant_id):
        return False
    grant = session.get(OAuthGrant, grant_id)
    if grant is not None:
        session.delete(grant)
    return grant is not None


def _domain(session: Session, domain_id: int) -> Domain:
    domain = session.get(Domain, domain_id)
    if domain is None:
        raise DomainNotFound(f"no domain has the id {domain_id}")
    return domain
