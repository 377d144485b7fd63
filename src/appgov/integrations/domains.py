"""Connecting Atlassian sites: validate an API token against the site before storing it (encrypted),
find connected domains, and build the client a sync uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.connectors.atlassian.client import AtlassianClient, AtlassianError, BasicCredentials
from appgov.connectors.atlassian.marketplace import MarketplaceEnricher
from appgov.connectors.atlassian.retry import RetryPolicy
from appgov.connectors.atlassian.sites import normalize_site_url
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, Domain, SyncRun

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
        site_url, BasicCredentials(email, api_token), policy=VALIDATION_POLICY, verify=verify, timeout=20
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


async def add_domain(runtime: Runtime, raw_url: str, email: str, api_token: str, added_by: str) -> Domain:
    site_url = normalize_site_url(raw_url, runtime.settings.allowed_hosts)
    api_token = api_token.strip()
    if not api_token or any(ch.isspace() for ch in api_token) or len(api_token) > 1024:
        raise DomainError("the API token is empty or malformed")
    with runtime.sessions() as session:
        if session.scalar(select(Domain).where(Domain.site_url == site_url)):
            raise DomainError(f"{site_url} is already connected")
    probe = await probe_site(site_url, email, api_token, runtime.verify)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        domain = Domain(
            site_url=site_url,
            name=site_name(site_url),
            cloud_id=probe.cloud_id,
            products=probe.products,
            created_at=now,
            created_by=added_by,
        )
        session.add(domain)
        session.flush()
        session.add(
            ApiToken(
                domain_id=domain.id,
                owner_email=email,
                owner_account_id=probe.account_id,
                secret=runtime.secrets.encrypt(api_token, _token_context(domain.id)),
                last4=api_token[-4:],
                created_at=now,
                validated_at=now,
            )
        )
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


def client_for(
    runtime: Runtime,
    session: Session,
    domain: Domain,
    concurrency: int = 8,
    policy: RetryPolicy | None = None,
) -> AtlassianClient:
    token = session.scalar(select(ApiToken).where(ApiToken.domain_id == domain.id))
    if token is None:
        raise DomainError(f"{domain.name} has no API token; the app inventory needs one")
    secret = runtime.secrets.decrypt(token.secret, _token_context(domain.id))
    return AtlassianClient(
        domain.site_url,
        BasicCredentials(token.owner_email, secret),
        concurrency=concurrency,
        verify=runtime.verify,
    )


def marketplace_for(runtime: Runtime) -> MarketplaceEnricher:
    """The Marketplace client (public, no credentials) that enriches the app inventory."""
    client = AtlassianClient(runtime.settings.marketplace_url, None, verify=runtime.verify, timeout=30)
    return MarketplaceEnricher(client)
