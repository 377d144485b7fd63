"""The site's GraphQL gateway, ``POST {site}/gateway/api/graphql``: the installed Forge apps of a
site (``ecosystem.appInstallationsByContext``), read with a site admin's API token (Basic auth).

The shapes follow what public clients send and read (docs/simulator/gateway.md, with its sources);
the query text is not parsed: ``variables`` carry the contexts, ``first`` and ``after`` [I].
Which apps it lists is the ``forge_apps`` switch (``Switches.in_gateway``).
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.endpoint import Requirement, SiteContext, site_endpoint
from appgov_sim.http import JSONResponse
from appgov_sim.routes.marketplace import iso_timestamp
from appgov_sim.tenant.model import InstalledApp, Site

GRAPHQL = Requirement("graphql", gateway=False)
MAX_PAGE = 100  # [I] the largest ``first`` answered; a larger one is cut to it
DEFAULT_PAGE = 25  # [I]


def graphql_error(message: str, status: int, error_type: str) -> JSONResponse:
    """Atlassian's GraphQL error: HTTP 200, ``data`` null, the status inside ``extensions``."""
    return JSONResponse(
        {
            "errors": [
                {
                    "message": message,
                    "extensions": {
                        "statusCode": status,
                        "errorType": error_type,
                        "classification": error_type,
                    },
                }
            ],
            "data": None,
        }
    )


def context_ari(site: Site, product: str) -> str:
    return f"ari:cloud:{product}::site/{site.cloud_id}"


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: object) -> int | None:
    if cursor in (None, ""):
        return 0
    try:
        text = base64.b64decode(str(cursor), validate=True).decode()
        kind, _, number = text.partition(":")
        return int(number) if kind == "offset" and int(number) >= 0 else None
    except ValueError:
        return None


def render_installation(ctx: SiteContext, app: InstalledApp) -> dict[str, Any]:
    tenant = ctx.state.tenant
    installer = tenant.accounts.get(app.installed_by)
    listing = tenant.listings.get(app.key)
    version = next((v for v in listing.versions if v.name == app.version), None) if listing else None
    environment_version: dict[str, Any] = {
        "version": app.version,
        "isLatest": bool(listing and listing.latest.name == app.version),
    }
    if tenant.switches.gateway_permissions and version is not None:
        environment_version["permissions"] = [
            {
                "scopes": [{"key": scope} for scope in version.scopes],
                "egress": [{"type": "FETCH_BACKEND_SIDE", "addresses": list(version.egress)}]
                if version.egress
                else [],
            }
        ]
    return {
        "id": f"{app.key.rpartition('/')[2]}:{ctx.site.cloud_id}:{app.product}",
        "installationContext": context_ari(ctx.site, app.product),
        "createdAt": iso_timestamp(app.installed_ms),
        "createdBy": {"accountId": app.installed_by, "name": installer.display_name if installer else None},
        # [U] ``vendorName``: on the App type of the Forge schema as public clients read it
        "app": {
            "id": app.key,
            "name": app.name,
            "description": app.description,
            "vendorName": app.vendor_name,
        },
        "appEnvironment": {"type": "PRODUCTION", "key": "production"},
        "appEnvironmentVersion": environment_version,
    }


@site_endpoint(GRAPHQL)
async def graphql(ctx: SiteContext) -> Response:
    """Only ``appInstallationsByContext``: nodes and edges, ``pageInfo`` with an opaque cursor."""
    try:
        payload = orjson.loads(await ctx.request.body())
    except orjson.JSONDecodeError:
        return graphql_error("Request body is not valid JSON", 400, "BAD_REQUEST")
    variables = payload.get("variables") if isinstance(payload, dict) else None
    if not isinstance(variables, dict) or not isinstance(variables.get("contexts"), list):
        return graphql_error("Variable 'contexts' of type [ID!]! is required", 400, "BAD_REQUEST")
    if not ctx.is_admin():
        return graphql_error("Not permitted to read the site's app installations", 403, "PERMISSION_DENIED")
    products = {context_ari(ctx.site, p): p for p in ctx.site.products}
    unknown = [c for c in variables["contexts"] if c not in products]
    if unknown:
        return graphql_error(f"Unknown installation context {unknown[0]}", 403, "PERMISSION_DENIED")
    offset = _offset(variables.get("after"))
    if offset is None:
        return graphql_error("Invalid cursor", 400, "BAD_REQUEST")
    first = min(max(int(variables.get("first") or DEFAULT_PAGE), 1), MAX_PAGE)
    wanted = {products[c] for c in variables["contexts"]}
    shown = ctx.state.tenant.switches.in_gateway
    apps = [a for a in ctx.site.apps if a.product in wanted and shown(a)]
    page = apps[offset : offset + first]
    nodes = [render_installation(ctx, a) for a in page]
    end = offset + len(page)
    connection = {
        "nodes": nodes,
        "edges": [{"node": n, "cursor": _cursor(offset + i + 1)} for i, n in enumerate(nodes)],
        "pageInfo": {
            "hasNextPage": end < len(apps),
            "endCursor": _cursor(end) if nodes else None,
        },
    }
    return JSONResponse({"data": {"ecosystem": {"appInstallationsByContext": connection}}})


ROUTES: list[BaseRoute] = [Route("/gateway/api/graphql", graphql, methods=["POST"])]
