"""Connecting Atlassian sites: validate an API token against the site before storing it (encrypted),
find connected domains, and build the client a sync uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.connectors.atlassian.client import AtlassianClient, AtlassianError, RequestBudget
from appgov.connectors.atlassian.marketplace import MarketplaceEnricher
from appgov.connectors.atlassian.oauth import AuthorizationServer
from appgov.connectors.atlassian.retry import RetryPolicy
from appgov.connectors.atlassian.sites import normalize_site_url
from appgov.integrations.grants import GrantAuth, GrantTokens
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, Domain, SyncRun
from appgov.sync.engine import DomainClients

VALIDATION_POLICY = RetryPolicy(max_attempts=3, base_delay=0.5, defer_after=10.0)


class DomainError(Exception):
    """A domain could not be connected; the message says why in plain words."""


@dataclass(frozen=True)
class SiteProbe:
    products: list[str]
    cloud_id: str | None
    account_id: str | None


def _token_context(domain_id: int) -> str:
    return f"api_token:domain:{domain_id}"


async def probe_site(site_url: str, email: str, api_token: str, verify: str | bool) -> SiteProbe:
    """Check the token works on the site and belongs to a site admin; find the site's products."""
    async with AtlassianClient(
        site_url, httpx.BasicAuth(email, api_token), policy=VALIDATION_POLICY, verify=verify, timeout=20
    ) as client:
        try:
            jira = await client.get("/rest/api/3/myself")
            wiki = await client.get("/wiki/rest/api/settings/systemInfo")
        except AtlassianError as err:
            raise DomainError(f"{site_url} is unreachable: {err}") from None
        if 401 in (jira.status, wiki.status):
            raise DomainError(
                f"Atlassian refused the API token for {email}: it is invalid, expired, "
                "or belongs to another account"
            )
        products = [p for p, reply in (("jira", jira), ("confluence", wiki)) if reply.status != 404]
        if not products:
            raise DomainError(f"{site_url} answers like neither Jira nor Confluence Cloud")
        plugins = await client.get("/rest/plugins/1.0/" if "jira" in products else "/wiki/rest/plugins/1.0/")
        if plugins.status in (401, 403):
            raise DomainError(f"{email} is not a site admin of {site_url}: the installed-app list needs one")
        tenant = await client.get("/_edge/tenant_info")
    cloud_id = (tenant.data or {}).get("cloudId") if tenant.status == 200 else None
    account_id = (jira.data or {}).get("accountId") if jira.status == 200 else None
    return SiteProbe(products, cloud_id, account_id)


def clean_token(api_token: str) -> str:
    """The token as typed, trimmed; refused when it cannot be an API token (before any request)."""
    token = api_token.strip()
    if not token or any(ch.isspace() for ch in token) or len(token) > 1024:
        raise DomainError("the API token is empty or malformed")
    return token


async def add_domain(
    runtime: Runtime, raw_url: str, email: str, api_token: str, added_by: Principal
) -> Domain:
    """Connect a site with an API token, or give one to a site already connected with OAuth."""
    site_url = normalize_site_url(raw_url, runtime.settings.allowed_hosts)
    api_token = clean_token(api_token)
    with runtime.sessions() as session:
        existing = session.scalar(select(Domain).where(Domain.site_url == site_url))
        if existing and session.scalar(select(ApiToken).where(ApiToken.domain_id == existing.id)):
            raise DomainError(f"{site_url} is already connected")
    probe = await probe_site(site_url, email, api_token, runtime.verify)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        domain = domain_row(session, site_url, probe.products, added_by, now)
        domain.cloud_id = domain.cloud_id or probe.cloud_id
        session.flush()
        put_api_token(runtime, session, domain.id, email, api_token, probe, now)
    return domain


def put_api_token(
    runtime: Runtime,
    session: Session,
    domain_id: int,
    email: str,
    api_token: str,
    probe: SiteProbe,
    now: datetime,
) -> ApiToken:
    """Store a validated token (encrypted) as the domain's one API token, replacing any other."""
    token = session.scalar(select(ApiToken).where(ApiToken.domain_id == domain_id))
    if token is None:
        token = ApiToken(domain_id=domain_id)
        session.add(token)
    token.created_at, token.validated_at = now, now
    token.owner_email, token.owner_account_id = email, probe.account_id
    token.secret = runtime.secrets.encrypt(api_token, _token_context(domain_id))
    token.last4 = api_token[-4:]
    return token


def domain_row(
    session: Session, site_url: str, products: list[str], added_by: Principal, now: datetime
) -> Domain:
    """The site's domain row, created on first connection (whichever credential comes first)."""
    domain = session.scalar(select(Domain).where(Domain.site_url == site_url))
    if domain is None:
        domain = Domain(
            site_url=site_url,
            name=site_name(site_url),
            products=products,
            created_at=now,
            created_by=added_by.name,
            created_by_user_id=added_by.user_id,
            created_via=added_by.via,
        )
        session.add(domain)
    return domain


def site_name(site_url: str) -> str:
    """What `domains list` shows and `sync` accepts: the site's host name (or its simulator path)."""
    parts = urlsplit(site_url)
    host = parts.hostname or site_url
    path = parts.path.strip("/").rsplit("/", 1)[-1]
    return path or host.removesuffix(".atlassian.net")


def find_domain(session: Session, identifier: str) -> Domain:
    """A domain by its name or site URL."""
    wanted = identifier.strip().rstrip("/")
    for domain in session.scalars(select(Domain)):
        if wanted in (domain.name, domain.site_url) or f"https://{wanted}" == domain.site_url:
            return domain
    raise DomainError(f"no connected domain is called {identifier!r} (see `appgov domains list`)")


def last_run(session: Session, domain_id: int) -> SyncRun | None:
    return session.scalar(
        select(SyncRun).where(SyncRun.domain_id == domain_id).order_by(SyncRun.id.desc()).limit(1)
    )


def authorization_server(runtime: Runtime) -> AuthorizationServer:
    settings = runtime.settings
    if not settings.oauth_client_id or not settings.oauth_client_secret:
        raise DomainError(
            "OAuth is not configured: set APPGOV_ATLASSIAN_CLIENT_ID and APPGOV_ATLASSIAN_CLIENT_SECRET"
        )
    return AuthorizationServer(
        settings.auth_url,
        settings.oauth_client_id,
        settings.oauth_client_secret,
        verify=runtime.verify,
        clock=runtime.clock,
    )


def clients_for(
    runtime: Runtime,
    session: Session,
    domain: Domain,
    policy: RetryPolicy | None = None,
) -> DomainClients:
    """Basic auth on the site when the domain has an API token; OAuth through the gateway, one
    client per product, when it has a grant."""
    clients = DomainClients()
    concurrency = runtime.settings.sync_concurrency
    limit = runtime.settings.sync_request_budget
    budget = RequestBudget(limit) if limit else None
    token = session.scalar(select(ApiToken).where(ApiToken.domain_id == domain.id))
    if token is not None:
        secret = runtime.secrets.decrypt(token.secret, _token_context(domain.id))
        clients.site = AtlassianClient(
            domain.site_url,
            httpx.BasicAuth(token.owner_email, secret),
            concurrency=concurrency,
            verify=runtime.verify,
            policy=policy,
            budget=budget,
        )
    if domain.oauth_grant_id is not None and domain.cloud_id:
        clients.token_endpoint = authorization_server(runtime)
        tokens = GrantTokens(
            runtime.sessions,
            runtime.secrets,
            domain.oauth_grant_id,
            clients.token_endpoint,
            clock=runtime.clock,
        )
        auth = GrantAuth(tokens)
        for product in domain.products:
            base = f"{runtime.settings.api_url}/ex/{product}/{domain.cloud_id}"
            clients.gateway[product] = AtlassianClient(
                base, auth, concurrency=concurrency, verify=runtime.verify, policy=policy, budget=budget
            )
    if not clients.all():
        raise DomainError(f"{domain.name} has neither an API token nor an OAuth grant")
    return clients


def marketplace_for(runtime: Runtime) -> MarketplaceEnricher:
    """The Marketplace client (public, no credentials) that enriches the app inventory."""
    client = AtlassianClient(runtime.settings.marketplace_url, None, verify=runtime.verify, timeout=30)
    return MarketplaceEnricher(client)


def products_of(scopes: list[str]) -> list[str]:
    """Which products a resource's scopes reach (``read:jira-user``, ``read:group:confluence``...)."""
    return [p for p in ("jira", "confluence") if any(s.endswith(f":{p}") or f":{p}-" in s for s in scopes)]


def connect_oauth_domain(
    runtime: Runtime, grant_id: int, resource: dict[str, Any], added_by: Principal
) -> Domain:
    """A site from the grant's accessible resources, connected with OAuth (an API token may follow)."""
    site_url = normalize_site_url(str(resource["url"]), runtime.settings.allowed_hosts)
    products = products_of([str(s) for s in resource.get("scopes") or []])
    if not products:
        raise DomainError(f"the consent gave appgov no Jira or Confluence scope on {site_url}")
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        domain = domain_row(session, site_url, products, added_by, now)
        domain.cloud_id, domain.oauth_grant_id = str(resource["id"]), grant_id
        session.flush()
        return domain
