"""Marketplace enrichment of an installed app (marketplace-facts.md): is it listed or private, its
framework, the scopes its installed version declares, its vendor and trust signals.

Connect versions carry their scopes in ``deployment.permissions`` of the REST v2 version; Forge
versions' scopes are only in the Marketplace's GraphQL (``cloudAppVersions``). A failure to enrich
never fails a sync: the app keeps what the plugin manager said and records why enrichment failed.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from appgov.connectors.atlassian.client import AtlassianClient, AtlassianError

GRAPHQL_QUERY = """
query appVersions($appKey: ID!) {
  marketplaceApp(appKey: $appKey) {
    appKey partner { partnerTier { type } }
    cloudAppVersions { edges { node { version deployment { __typename ... on MarketplaceCloudAppDeployment
      { cloudAppId scopes { id capability } } } } } }
  }
}
"""


class MarketplaceEnricher:
    def __init__(self, client: AtlassianClient, concurrency: int = 8) -> None:
        self.client = client
        self._slots = asyncio.Semaphore(concurrency)

    async def enrich(self, plugins: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each plugin with a ``marketplace`` entry added."""
        return list(await asyncio.gather(*(self._one(plugin) for plugin in plugins)))

    async def _one(self, plugin: dict[str, Any]) -> dict[str, Any]:
        async with self._slots:
            try:
                found = await self.describe(str(plugin["key"]), str(plugin.get("version") or ""))
            except AtlassianError as err:
                found = {"error": str(err)}
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
