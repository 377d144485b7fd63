"""Probing an Atlassian site before its API token is stored: the token works, belongs to a site
admin, and which products the site has."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from appgov.connectors.atlassian.client import AtlassianClient, AtlassianError
from appgov.connectors.base import DomainError
from appgov.connectors.retry import RetryPolicy

VALIDATION_POLICY = RetryPolicy(max_attempts=3, base_delay=0.5, defer_after=10.0)


@dataclass(frozen=True)
class SiteProbe:
    products: list[str]
    cloud_id: str | None
    account_id: str | None


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
