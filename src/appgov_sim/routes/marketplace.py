"""The Atlassian Marketplace (``marketplace.atlassian.com``), mounted at ``/marketplace``.

REST v2 as docs/atlassian-references.md §M describes it: anonymous JSON reads, HAL ``_links``/``_embedded``
with hrefs relative to the host (so they carry the ``/marketplace`` prefix here), ``offset``/``limit``
paging, plus each Connect version's descriptor and the website's GraphQL for Forge scopes. Built
from ``tenant.listings`` and ``tenant.vendors``: private apps and OAuth 2.0 integrations are not
listed and answer 404. Vendor-controlled text (``--hostile``) is served verbatim.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.endpoint import transport_faults
from appgov_sim.http import ApiError, JSONResponse, bool_param, int_param
from appgov_sim.paging import CAPS, window, with_query
from appgov_sim.state import LoggedRequest, SimState
from appgov_sim.tenant.model import AppListing, AppVersion, Vendor

MOUNT = "/marketplace"
API = f"{MOUNT}/rest/2"
HOSTINGS = ("any", "cloud", "server", "datacenter")
# Connect scope names and the plugin manager's consent wording (references §M.5)
CONNECT_SCOPES = {
    "READ": ("Read", "Read data from the host application"),
    "WRITE": ("Write", "Write data to the host application"),
    "DELETE": ("Delete", "Delete data from the host application"),
    "PROJECT_ADMIN": ("Project administration", "Administer projects in the host application"),
    "SPACE_ADMIN": ("Space administration", "Administer spaces in the host application"),
    "ADMIN": ("Administer", "Administer the host application"),
    "ACT_AS_USER": ("Act as user", "Act on a user's behalf, even when the user is offline"),
    "ACCESS_EMAIL_ADDRESSES": ("Access email addresses", "Access the email addresses of users"),
}


class AppKeyConvertor(Convertor[str]):
    """App keys: plain keys, or Forge ARIs such as ``ari:cloud:ecosystem::app/<uuid>`` (with a ``/``)."""

    regex = r"ari:cloud:ecosystem::app/[^/]+|[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("appkey", AppKeyConvertor())

Handler = Callable[[Request, SimState], Awaitable[Response]]


def marketplace_error(status: int, message: str) -> JSONResponse:
    """The Marketplace's error body [I]: the same shape app.py gives unknown ``/marketplace`` paths."""
    return JSONResponse({"message": message, "status": status}, status)


MARKETPLACE_FAULTS = "marketplace"


def marketplace_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Anonymous reads: render ``ApiError`` in the Marketplace's shape and log the request."""

    async def endpoint(request: Request) -> Response:
        state: SimState = request.app.state.sim
        path = request.url.path[len(MOUNT) :]
        # faults switched on for the site name "marketplace" (and only those) apply here
        faults = [f for f in state.faults.matching(MARKETPLACE_FAULTS, path) if f.site == MARKETPLACE_FAULTS]
        injected = await transport_faults(request, faults, "marketplace") if faults else None
        try:
            response = injected or await handler(request, state)
        except ApiError as err:
            response = marketplace_error(err.status, err.message)
        if faults and injected is None:
            response = await transport_faults(request, faults, "marketplace", processed=True) or response
        auth = request.headers.get("authorization", "").partition(" ")[0].lower() or "none"
        state.record(
            LoggedRequest(
                time.time(),
                request.method,
                request.url.path,
                request.url.query,
                response.status_code,
                "marketplace",
                None,
                auth,
            )
        )
        return response

    endpoint.__name__ = handler.__name__
    return endpoint


# --- lookups ------------------------------------------------------------------------------------


def public_listings(state: SimState) -> list[AppListing]:
    return [listing for listing in state.tenant.listings.values() if is_listed(listing)]


def is_listed(listing: AppListing) -> bool:
    """On the Marketplace: not private, and not an OAuth 2.0 integration (those have no listing) [I]."""
    return not listing.private and listing.latest.framework != "oauth"


def listing_for(request: Request, state: SimState) -> AppListing:
    key = request.path_params["key"]
    listing = state.tenant.listings.get(key)
    if listing is None or not is_listed(listing):
        raise ApiError(404, f"No app with key {key[:200]}")
    return listing


def cloud_hosting(request: Request) -> bool:
    """Every listing is a cloud app: ``hosting=server``/``datacenter`` matches nothing."""
    hosting = request.query_params.get("hosting", "any")
    if hosting not in HOSTINGS:
        raise ApiError(400, f"Invalid hosting: {hosting[:100]}. Expected one of {', '.join(HOSTINGS)}")
    return hosting in ("any", "cloud")


def offset_and_limit(request: Request) -> tuple[int, int]:
    default, maximum = CAPS["marketplace"]
    params = request.query_params
    return int_param(params, "offset", 0), int_param(params, "limit", default, maximum=maximum)


# --- shapes -------------------------------------------------------------------------------------


def href(path: str, **extra: Any) -> dict[str, Any]:
    return {"href": path, **extra}


def addon_path(listing: AppListing) -> str:
    return f"{API}/addons/{listing.key}"


def release_date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def iso_timestamp(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def trust_status(approved: bool) -> dict[str, str]:
    return {"status": "approved" if approved else "not-requested"}


def render_vendor_summary(vendor: Vendor) -> dict[str, Any]:
    return {
        "_links": {
            "self": href(f"{API}/vendors/{vendor.vendor_id}"),
            "alternate": href(f"{MOUNT}/vendors/{vendor.vendor_id}", type="text/html"),
        },
        "name": vendor.name,
        "verifiedStatus": "verified" if vendor.top_vendor or vendor.is_atlassian else "not-requested",
        "isAtlassian": vendor.is_atlassian,
        "programs": {"topVendor": trust_status(vendor.top_vendor)},
    }


def render_vendor(vendor: Vendor) -> dict[str, Any]:
    """The full vendor: contacts and vendor links (verbatim, hostile or not)."""
    return {
        **render_vendor_summary(vendor),
        "description": f"{vendor.name} builds apps for Atlassian products.",
        "email": vendor.email,
        "phone": "+1 555 0100",
        "vendorLinks": {
            "homePage": vendor.link,
            "sla": f"{vendor.link}/sla",
            "trustCenterUrl": f"{vendor.link}/trust",
        },
        "supportDetails": {
            "supportOrg": {"supportEmail": vendor.email, "supportUrl": f"{vendor.link}/support"}
        },
    }


def render_distribution(listing: AppListing) -> dict[str, Any]:
    return {
        "bundled": False,
        "bundledCloud": False,
        "downloads": listing.total_installs,
        "totalInstalls": listing.total_installs,
        "totalUsers": listing.total_users,
    }


def render_addon(state: SimState, listing: AppListing, version: AppVersion | None) -> dict[str, Any]:
    """An app as ``/addons`` lists it and ``/addons/{key}`` returns it (``version`` with withVersion)."""
    path = addon_path(listing)
    page = f"{MOUNT}/apps/{listing.marketplace_id}"
    embedded: dict[str, Any] = {
        "distribution": render_distribution(listing),
        "reviews": {"averageStars": listing.rating, "count": listing.rating_count},
        "vendor": render_vendor_summary(listing.vendor),
        "logo": {"_links": {"image": href(listing.icon_link)}},
        "lastModified": iso_timestamp(listing.latest.release_ms),
    }
    if version is not None:
        embedded["version"] = render_version(state, listing, version)
    return {
        "_links": {
            "self": href(path),
            "alternate": href(f"{page}?hosting=cloud&tab=overview", type="text/html"),
            "vendor": href(f"{API}/vendors/{listing.vendor.vendor_id}"),
            "versions": href(f"{path}/versions"),
            "distribution": href(f"{path}/distribution"),
            "privacyAndSecurity": href(f"{path}/privacy-and-security"),
            "reviews": [
                href(f"{path}/reviews{{?sort,offset,limit}}", templated=True),
                href(f"{page}?hosting=cloud&tab=reviews", type="text/html"),
            ],
        },
        "_embedded": embedded,
        "id": str(listing.marketplace_id),
        "key": listing.key,
        "name": listing.name,
        "tagLine": listing.summary,
        "summary": listing.summary,
        "description": listing.description,
        "status": "public",
        "storesPersonalData": listing.latest.framework == "connect" or bool(listing.latest.egress),
        "programs": {
            "cloudFortified": trust_status(listing.cloud_fortified),
            "bugBountyParticipant": {"cloud": trust_status(listing.bug_bounty)},
        },
    }


def descriptor_url(state: SimState, listing: AppListing, version: AppVersion) -> str:
    """Vendor-hosted in reality, so absolute; here the simulator serves it itself."""
    return f"{state.base_url}{MOUNT}/descriptors/{listing.key}/{version.build_number}/atlassian-connect.json"


def connect_scope(scope: str) -> dict[str, Any]:
    name, description = CONNECT_SCOPES.get(scope, (scope.title(), scope))
    docs = "https://developer.atlassian.com/cloud/jira/platform/scopes-for-connect-apps/"
    return {"_links": {"alternate": href(docs)}, "key": scope, "name": name, "description": description}


def render_version(state: SimState, listing: AppListing, version: AppVersion) -> dict[str, Any]:
    """One version: ``deployment.connect`` tells the framework; Connect scopes are its permissions."""
    connect = version.framework == "connect"
    self_path = f"{addon_path(listing)}/versions/build/{version.build_number}"
    artifact = f"{API}/assets/artifacts/{listing.marketplace_id}-{version.build_number}"
    body: dict[str, Any] = {
        "_links": {
            "self": href(self_path),
            "artifact": href(artifact),
            "license": href(f"{API}/licenseTypes/commercial"),
        },
        "buildNumber": version.build_number,
        "name": version.name,
        "status": "public",
        "paymentModel": "atlassian",
        "static": False,
        "deployable": True,
        "release": {
            "date": release_date(version.release_ms),
            "releasedBy": listing.vendor.name,
            "beta": False,
            "supported": True,
        },
        "deployment": {
            "server": False,
            "cloud": True,
            "connect": connect,
            "autoUpdateAllowed": not connect,
            "dataCenter": False,
            "permissions": [connect_scope(s) for s in version.scopes] if connect else [],
        },
        "compatibilities": [{"application": p, "hosting": {"cloud": {}}} for p in listing.products],
        "text": {"releaseSummary": version.release_notes, "releaseNotes": f"<p>{version.release_notes}</p>"},
    }
    if connect:
        descriptor = descriptor_url(state, listing, version)
        body["_embedded"] = {
            "artifact": {
                "_links": {"self": href(artifact), "binary": href(descriptor), "remote": href(descriptor)}
            }
        }
    return body


def newest_first(listing: AppListing) -> list[AppVersion]:
    return sorted(listing.versions, key=lambda v: v.build_number, reverse=True)


def next_links(request: Request, path: str, offset: int, limit: int, total: int) -> dict[str, Any]:
    """``next``/``prev`` hrefs for an offset/limit page (absent at either end)."""
    params = request.query_params
    links: dict[str, Any] = {}
    if limit and offset + limit < total:
        links["next"] = with_query(path, params, offset=offset + limit, limit=limit)
    if offset:
        links["prev"] = with_query(path, params, offset=max(0, offset - limit), limit=limit)
    return links


# --- handlers -----------------------------------------------------------------------------------


@marketplace_endpoint
async def entry_point(request: Request, state: SimState) -> Response:
    return JSONResponse(
        {
            "_links": {
                "self": href(API),
                "addons": href(f"{API}/addons"),
                "vendors": href(f"{API}/vendors"),
            }
        }
    )


@marketplace_endpoint
async def addons(request: Request, state: SimState) -> Response:
    """``/addons``: filtered by ``text``, ``hosting``, ``application``; ``next`` is a JSON+HTML pair."""
    return addon_collection(request, state, public_listings(state))


@marketplace_endpoint
async def vendor_addons(request: Request, state: SimState) -> Response:
    vendor_id = request.path_params["vendor_id"]
    listings = [li for li in public_listings(state) if li.vendor.vendor_id == vendor_id]
    return addon_collection(request, state, listings)


def addon_collection(request: Request, state: SimState, listings: list[AppListing]) -> Response:
    params = request.query_params
    offset, limit = offset_and_limit(request)
    text = params.get("text", "").lower()
    application = params.get("application")
    matching = [
        listing
        for listing in (listings if cloud_hosting(request) else [])
        if (not text or text in f"{listing.key} {listing.name} {listing.summary}".lower())
        and (application is None or application in listing.products)
    ]
    page = window(matching, offset, limit, []).items if limit else []
    with_version = bool_param(params, "withVersion", False)
    path = request.url.path
    links: dict[str, Any] = {
        "self": href(with_query(path, params)),
        "byKey": href(f"{API}/addons/{{addonKey}}", templated=True),
    }
    for rel, target in next_links(request, path, offset, limit, len(matching)).items():
        html = with_query(f"{MOUNT}/search", params, offset=None, limit=None)
        links[rel] = [href(target, type="application/json"), href(html, type="text/html")]
    addons_json = [render_addon(state, li, li.latest if with_version else None) for li in page]
    return JSONResponse({"_links": links, "_embedded": {"addons": addons_json}, "count": len(matching)})


@marketplace_endpoint
async def addon(request: Request, state: SimState) -> Response:
    """``/addons/{key}``: ``withVersion=true`` embeds the latest cloud version."""
    listing = listing_for(request, state)
    with_version = bool_param(request.query_params, "withVersion", False) and cloud_hosting(request)
    return JSONResponse(render_addon(state, listing, listing.latest if with_version else None))


@marketplace_endpoint
async def versions(request: Request, state: SimState) -> Response:
    """``/addons/{key}/versions``: newest first; ``next`` is a single link object."""
    listing = listing_for(request, state)
    offset, limit = offset_and_limit(request)
    all_versions = newest_first(listing) if cloud_hosting(request) else []
    page = window(all_versions, offset, limit, []).items if limit else []
    path = request.url.path
    links = {"self": href(with_query(path, request.query_params))}
    links.update(
        {
            rel: href(target)
            for rel, target in next_links(request, path, offset, limit, len(all_versions)).items()
        }
    )
    body = [render_version(state, listing, v) for v in page]
    return JSONResponse({"_links": links, "_embedded": {"versions": body}, "count": len(all_versions)})


def one_version(
    request: Request, state: SimState, pick: Callable[[AppListing], AppVersion | None]
) -> Response:
    listing = listing_for(request, state)
    version = pick(listing) if cloud_hosting(request) else None
    if version is None:
        raise ApiError(404, f"No such version of {listing.key[:200]}")
    return JSONResponse(render_version(state, listing, version))


@marketplace_endpoint
async def latest_version(request: Request, state: SimState) -> Response:
    return one_version(request, state, lambda listing: newest_first(listing)[0])


@marketplace_endpoint
async def version_by_name(request: Request, state: SimState) -> Response:
    name = request.path_params["name"]
    return one_version(request, state, lambda listing: listing.version(name))


@marketplace_endpoint
async def version_by_build(request: Request, state: SimState) -> Response:
    build = request.path_params["build"]
    return one_version(
        request, state, lambda listing: next((v for v in listing.versions if v.build_number == build), None)
    )


@marketplace_endpoint
async def vendor(request: Request, state: SimState) -> Response:
    vendor_id = request.path_params["vendor_id"]
    found = state.tenant.vendors.get(vendor_id)
    if found is None:
        raise ApiError(404, f"No vendor with id {vendor_id}")
    return JSONResponse(render_vendor(found))


@marketplace_endpoint
async def distribution(request: Request, state: SimState) -> Response:
    return JSONResponse(render_distribution(listing_for(request, state)))


@marketplace_endpoint
async def reviews(request: Request, state: SimState) -> Response:
    """Reviews are not modelled: an empty page whose ``count`` is 0 [I]."""
    listing = listing_for(request, state)
    self_link = href(with_query(f"{addon_path(listing)}/reviews", request.query_params))
    return JSONResponse({"_links": {"self": self_link}, "_embedded": {"reviews": []}, "count": 0})


@marketplace_endpoint
async def privacy_and_security(request: Request, state: SimState) -> Response:
    """The Privacy & Security tab; 404 for an app that never filled it in."""
    listing = listing_for(request, state)
    stage = request.query_params.get("state", "live")
    if stage not in ("live", "draft"):
        raise ApiError(400, f"Invalid state: {stage[:100]}. Expected live or draft")
    if not listing.privacy_and_security:
        raise ApiError(404, f"No privacy and security information for {listing.key[:200]}")
    return JSONResponse(render_privacy(listing))


def render_privacy(listing: AppListing) -> dict[str, Any]:
    """From the latest version: Connect apps, and Forge apps with egress, keep data outside Atlassian."""
    latest = listing.latest
    outside = latest.framework == "connect" or bool(latest.egress)
    third_parties = [
        {
            "name": domain,
            "link": f"https://{domain.lstrip('*.')}",
            "purpose": "Processing",
            "thirdPartyCountries": ["United States"],
        }
        for domain in latest.egress
    ]
    flag = "TRUE" if outside else "FALSE"
    return {
        "dataAccessAndStorage": {
            "isSameDataProcessedAndStored": True,
            "appProcessEUDOutsideAtlassian": outside,
            "typesOfDataAccessed": ["Issue content"] if "jira" in listing.products else ["Page content"],
            "appStoresEUDOutsideAtlassian": outside,
            "typesOfDataStored": ["User identifiers"] if outside else [],
        },
        "thirdPartyInformation": {
            "isEndUserDataShared": bool(third_parties),
            "dataSubProcessors": f"{listing.vendor.link}/subprocessors",
            "thirdPartyDetails": third_parties,
        },
        "logDetails": {
            "logEndUserData": outside,
            "logProcessAndOrStoreEUDOutsideAtlassian": outside,
            "logEUDShareWithThirdParty": False,
            "logsIntegralForAppFunctionality": False,
        },
        "dataResidency": {
            "isDataResidencySupported": "APP_DOES_NOT_SUPPORT_DR"
            if outside
            else "STORED_IN_ATLASSIAN_N_DR_SUPPORTED",
            "countriesWhereEndUserDataStored": ["United States"] if outside else [],
            "realmMigrationSupported": not outside,
            "inScopeDataTypes": [],
        },
        "dataRetention": {
            "isDataRetentionSupported": True,
            "retentionDurationInDays": {"min": 30, "max": 90},
            "isCustomRetentionPeriodAllowed": False,
            "isRetentionDurationIndefinite": False,
        },
        "privacy": {
            "privacyEnhancingTechniques": {
                "arePrivacyEnhancingTechniquesSupported": True,
                "privacyEnhancingTechniquesSupported": ["Encryption at rest"],
            },
            "gdpr": {
                "dataController": {"isAppDataController": "FALSE"},
                "dataProcessor": {"isAppDataProcessor": flag, "endUserDataTypes": []},
                "dataTransfer": {
                    "isEndUserDataTransferredOutsideEEA": outside,
                    "isTransferComplianceMechanismsAdhered": True,
                },
            },
            "ccpa": {
                "business": {"isAppBusiness": "NOT_APPLICABLE"},
                "serviceProvider": {"isAppServiceProvider": flag, "endUserDataTypes": []},
            },
            "dataProcessingAgreement": {"isDPASupported": "TRUE"},
        },
        "security": {
            "isDiskEncryptionSupported": True,
            "securityContact": listing.vendor.email,
            "publicSecurityPoliciesLink": f"{listing.vendor.link}/security",
            "permissionsJustification": "Data not provided",
            "requiresUsersToProvidePATs": False,
        },
        "properties": {"formStatus": "APPROVED"},
    }


@marketplace_endpoint
async def connect_descriptor(request: Request, state: SimState) -> Response:
    """A Connect version's ``atlassian-connect.json``: its scopes, lower-case as vendors write them."""
    listing = listing_for(request, state)
    build = request.path_params["build"]
    version = next((v for v in listing.versions if v.build_number == build), None)
    if version is None or version.framework != "connect":
        raise ApiError(404, f"No Connect descriptor for build {build} of {listing.key[:200]}")
    return JSONResponse(
        {
            "key": listing.key,
            "name": listing.name,
            "description": listing.summary,
            "vendor": {"name": listing.vendor.name, "url": listing.vendor.link},
            "baseUrl": f"https://app-{listing.marketplace_id}.vendor.example",
            "authentication": {"type": "jwt"},
            "apiVersion": 1,
            "scopes": [s.lower() for s in version.scopes],
            "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled"},
            "modules": {},
        }
    )


@marketplace_endpoint
async def graphql(request: Request, state: SimState) -> Response:
    """The website's GraphQL, only the app-listing query: per-version deployment and (Forge) scopes.

    The query text is not parsed: ``variables.appKey`` or ``variables.appId`` picks the app [I].
    """
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ApiError(400, "Request body is not valid JSON") from None
    variables = payload.get("variables") if isinstance(payload, dict) else None
    if not isinstance(variables, dict):
        raise ApiError(400, "A GraphQL request needs a variables object")
    listing = graphql_listing(state, variables)
    if listing is None:
        return JSONResponse(
            {
                "data": {"marketplaceApp": None},
                "errors": [{"message": "App not found", "path": ["marketplaceApp"]}],
            }
        )
    return JSONResponse({"data": {"marketplaceApp": render_graphql_app(listing)}})


def graphql_listing(state: SimState, variables: dict[str, Any]) -> AppListing | None:
    app_key, app_id = variables.get("appKey"), str(variables.get("appId", ""))
    for listing in public_listings(state):
        if listing.key == app_key or str(listing.marketplace_id) == app_id:
            return listing
    return None


def render_graphql_app(listing: AppListing) -> dict[str, Any]:
    return {
        "appKey": listing.key,
        "appId": str(listing.marketplace_id),
        "name": listing.name,
        "partner": {
            "partnerTier": {"type": listing.vendor.partner_tier} if listing.vendor.partner_tier else None
        },
        "programs": {
            "cloudFortified": {"status": trust_status(listing.cloud_fortified)["status"]},
            "bugBountyParticipant": {"cloud": trust_status(listing.bug_bounty)},
        },
        "distribution": {
            "downloadCount": listing.total_installs,
            "installationCount": listing.total_installs,
            "isPreinstalledInCloud": False,
            "isPreinstalledInServerDC": False,
        },
        "reviewSummary": {"rating": listing.rating, "count": listing.rating_count},
        "cloudAppVersions": {"edges": [{"node": graphql_version(listing, v)} for v in newest_first(listing)]},
    }


def graphql_version(listing: AppListing, version: AppVersion) -> dict[str, Any]:
    deployment: dict[str, Any]
    if version.framework == "forge":
        deployment = {
            "__typename": "MarketplaceCloudAppDeployment",
            "cloudAppId": listing.key.rpartition("/")[2],
            "scopes": [{"id": s, "capability": s.partition(":")[0]} for s in version.scopes],
        }
    else:
        deployment = {
            "__typename": "MarketplaceConnectAppDeployment",
            "scopes": [{"id": s, "capability": s} for s in version.scopes],
        }
    return {
        "version": version.name,
        "buildNumber": str(version.build_number),
        "releaseDate": iso_timestamp(version.release_ms),
        "deployment": deployment,
    }


@marketplace_endpoint
async def retired(request: Request, state: SimState) -> Response:
    """Retired paths (REST v1, v2 vendor reporting): 410, which clients read as "endpoint retired"."""
    return marketplace_error(410, "This API has been retired. Migrate to the Marketplace REST API v3.")


ADDON = "/rest/2/addons/{key:appkey}"

ROUTES: list[BaseRoute] = [
    Route("/rest/2", entry_point),
    Route("/rest/2/addons", addons),
    Route("/rest/2/addons/vendor/{vendor_id:int}", vendor_addons),
    Route(ADDON, addon),
    Route(f"{ADDON}/versions", versions),
    Route(f"{ADDON}/versions/latest", latest_version),
    Route(f"{ADDON}/versions/name/{{name}}", version_by_name),
    Route(f"{ADDON}/versions/build/{{build:int}}", version_by_build),
    Route(f"{ADDON}/distribution", distribution),
    Route(f"{ADDON}/reviews", reviews),
    Route(f"{ADDON}/privacy-and-security", privacy_and_security),
    Route("/rest/2/vendors/{vendor_id:int}", vendor),
    Route("/rest/2/vendors/{vendor_id:int}/reporting{rest:path}", retired),
    Route("/rest/1{rest:path}", retired),
    Route("/descriptors/{key:appkey}/{build:int}/atlassian-connect.json", connect_descriptor),
    Route("/gateway/api/graphql", graphql, methods=["POST"]),
]
