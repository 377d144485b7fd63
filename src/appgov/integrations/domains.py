"""Connecting Atlassian sites with an API token (probed against the site first, stored encrypted),
and finding connected domains."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.accounts.principal import Principal
from appgov.connectors.atlassian.connector import ATLASSIAN
from appgov.connectors.atlassian.probe import SiteProbe
from appgov.connectors.atlassian.site_rows import atlassian_site
from appgov.connectors.atlassian.sites import normalize_site_url
from appgov.connectors.base import DomainError as DomainError
from appgov.integrations.credentials import check_expiry
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, Domain, SyncRun
from appgov.storage.sealed import api_token_context

MASK_CHARACTER = "\u2022"  # what ``security.secrets.mask`` hides a secret behind


def is_masked(value: str) -> bool:
    """The masked form appgov shows (``••••1a2b``), sent back as if it were a token (CS-05)."""
    return MASK_CHARACTER in value


def clean_token(api_token: str, what: str = "API token") -> str:
    """The token (or key) as typed, trimmed; refused when it cannot be one (before any request)."""
    token = api_token.strip()
    if is_masked(token):
        raise DomainError(f"this is the masked form appgov shows, not an {what}: paste the whole {what}")
    if not token or any(ch.isspace() for ch in token) or len(token) > 1024:
        raise DomainError(f"the {what} is empty or malformed")
    return token


async def add_domain(
    runtime: Runtime,
    raw_url: str,
    email: str,
    api_token: str,
    added_by: Principal,
    expires_at: datetime | None = None,
) -> Domain:
    """Connect a site with an API token (and its expiry date, when known), or give one to a site
    already connected with OAuth."""
    site_url = normalize_site_url(raw_url, runtime.settings.allowed_hosts)
    api_token = clean_token(api_token)
    check_expiry(expires_at, runtime.clock.now())
    with runtime.sessions() as session:
        existing = session.scalar(select(Domain).where(Domain.site_url == site_url))
        if existing and session.scalar(select(ApiToken).where(ApiToken.domain_id == existing.id)):
            raise DomainError(f"{site_url} is already connected")
    probe = await ATLASSIAN.probe(site_url, {"email": email, "api_token": api_token}, runtime.verify)
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        domain = domain_row(session, site_url, probe.products, added_by, now)
        session.flush()
        site = atlassian_site(session, domain.id)
        site.cloud_id = site.cloud_id or probe.cloud_id
        put_api_token(runtime, session, domain.id, email, api_token, probe, now, expires_at)
    return domain


def put_api_token(
    runtime: Runtime,
    session: Session,
    domain_id: int,
    email: str,
    api_token: str,
    probe: SiteProbe,
    now: datetime,
    expires_at: datetime | None,
) -> ApiToken:
    """Store a validated token (encrypted) as the domain's one API token, replacing any other, with
    its expiry date (a new one: not warned of yet)."""
    token = session.scalar(select(ApiToken).where(ApiToken.domain_id == domain_id))
    if token is None:
        token = ApiToken(domain_id=domain_id)
        session.add(token)
    token.created_at, token.validated_at = now, now
    token.owner_email, token.owner_account_id = email, probe.account_id
    token.secret = runtime.secrets.encrypt(api_token, api_token_context(domain_id))
    token.last4 = api_token[-4:]
    token.expires_at, token.expiry_warned_at = expires_at, None
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
