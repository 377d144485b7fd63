"""Marketplace enrichment of an installed app (docs/atlassian-references.md §M): is it listed or private, its
framework, the scopes its installed version declares, its vendor and trust signals.

Connect versions carry their scopes in ``deployment.permissions`` of the REST v2 version; Forge
versions' scopes are only in the Marketplace's GraphQL (``cloudAppVersions``). A failure to enrich
never fails a sync: the app keeps what the plugin manager said and records why enrichment failed.
A Marketplace that asks to wait longer than the retry policy sleeps does not defer the domain's sync
either: the apps are stored with their enrichment pending (``ENRICHMENT_PENDING``), and the next
sync enriches them.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from appgov.connectors.atlassian.client import AtlassianClient, AtlassianError
from appgov.connectors.retry import Deferred
from appgov.outcomes import Code

GRAPHQL_QUERY = """
query appVersions($appKey: ID!) {
  marketplaceApp(appKey: $appKey) {
    appKey partner { partnerTier { type } }
    cloudAppVersions { edges { node { version deployment { __typename ... on MarketplaceCloudAppDeployment
      { cloudAppId scopes { id capability } } } } } }
  }
}
"""


# The Marketplace asked appgov to wait longer than the retry policy sleeps, so the app is stored
# without this sync's enrichment and enriched by the next sync.
ENRICHMENT_PENDING = Code.ENRICHMENT_PENDING.value


def pending(wait: Deferred) -> dict[str, Any]:
    """The ``marketplace`` entry of an app whose enrichment waits for the next sync."""
    return {"pending": ENRICHMENT_PENDING, "until": wait.resume_at.isoformat()}


class MarketplaceEnricher:
    def __init__(self, client: AtlassianClient, concurrency: int = 8) -> None:
        self.client = client
        self._slots = asyncio.Semaphore(concurrency)

    async def enrich(self, plugins: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each plugin with a ``marketplace`` entry added. Once the Marketplace asks to wait past the
        retry policy's threshold, the apps not yet described are marked ``pending`` without asking
        it again: the apps are stored, and only their enrichment waits, not the domain's sync."""
        waits: list[Deferred] = []
        return list(await asyncio.gather(*(self._one(plugin, waits) for plugin in plugins)))

    async def _one(self, plugin: dict[str, Any], waits: list[Deferred]) -> dict[str, Any]:
        async with self._slots:
            if waits:
                return {**plugin, "marketplace": pending(waits[0])}
            try:
                found = await self.describe(str(plugin["key"]), str(plugin.get("version") or ""))
            except AtlassianError as err:
                found = {"error": str(err)}
            except Deferred as wait:
                waits.append(wait)
                found = pending(wait)
        return {**plugin, "marketplace": found}

    async def describe(self, key: str, version: str) -> dict[str, Any]:
        path = f"/rest/2/addons/{quote(key, safe=':')}"
        listing = await self.client.get(path)
        if listing.status == 404:
            return {"listed": False}
        if listing.status >= 300:
            raise AtlassianError(f"the Marketplace answered HTTP {listing.status} for {key}")
        data = listing.data or {}
        described: dict[str, Any] = {
            "listed": True,
            "id": data.get("id"),
            "vendor": ((data.get("_embedded") or {}).get("vendor") or {}).get("name"),
            "programs": data.get("programs") or {},
            "stores_personal_data": data.get("storesPersonalData"),
        }
        release = (
            await self.client.get(f"{path}/versions/name/{quote(version, safe='')}") if version else None
        )
        deployment = ((release.data or {}) if release and release.status == 200 else {}).get(
            "deployment"
        ) or {}
        if deployment.get("connect"):
            described["framework"] = "connect"
            described["scopes"] = sorted(str(p.get("key")) for p in deployment.get("permissions") or [])
        else:
            described["framework"] = "forge"
            described["scopes"] = await self._forge_scopes(key, version)
        return described

    async def _forge_scopes(self, key: str, version: str) -> list[str] | None:
        # a GraphQL query (no mutation) reads: sent twice, it changes nothing, so it is retried
        reply = await self.client.request(
            "POST",
            "/gateway/api/graphql",
            json={"query": GRAPHQL_QUERY, "variables": {"appKey": key}},
            idempotent=True,
        )
        app = ((reply.data or {}).get("data") or {}).get("marketplaceApp") if reply.status == 200 else None
        for edge in ((app or {}).get("cloudAppVersions") or {}).get("edges") or []:
            node = edge.get("node") or {}
            if node.get("version") == version:
                return sorted(str(s.get("id")) for s in (node.get("deployment") or {}).get("scopes") or [])
        return None
