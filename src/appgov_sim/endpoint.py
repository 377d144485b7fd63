"""The one request pipeline for every site endpoint, reached directly or through the gateway.

A handler declares, beside itself, what Atlassian requires to call it (the scope table of
references §1.7, admin rights, anonymous access). ``site_endpoint`` then: resolves the site,
authenticates (Basic with an API token on the site host, Bearer through the gateway), checks scopes
and permissions, applies the site's burst limit and any switched-on faults, calls the handler,
renders ``ApiError`` in the surface's own error shape, and logs and counts the request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from appgov_sim.faults import PAGING_KINDS, Fault
from appgov_sim.http import ApiError, JSONResponse, confluence_error, gateway_error, jira_error, upm_error
from appgov_sim.state import LoggedRequest, SimState
from appgov_sim.tenant.model import Account, Site

UNAUTHENTICATED = "Client must be authenticated to access this resource."


@dataclass(slots=True)
class SiteContext:
    """What a handler gets: the site, who is calling and how, and the URL base they called."""

    request: Request
    state: SimState
    site: Site
    account: Account | None
    via_gateway: bool
    base: str  # e.g. http://127.0.0.1:PORT/sites/acme or http://127.0.0.1:PORT/ex/jira/<cloudId>
    path: str  # site-relative path, e.g. /rest/api/3/users/search
    quirks: list[Fault]
    admin: bool | None = None  # is_admin's answer, read once per request

    @property
    def params(self) -> Any:
        return self.request.query_params

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def is_admin(self) -> bool:
        # handlers ask once per item (e.g. per project a search may show): scan the groups once
        if self.admin is None:
            self.admin = self.account is not None and self.site.is_admin(self.account.account_id)
        return self.admin


Handler = Callable[[SiteContext], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Requirement:
    """What Atlassian requires of a caller (references §1.7)."""

    surface: str  # jira | confluence | upm | graphql
    classic: str | None = None  # classic scope, alone sufficient
    granular: tuple[str, ...] = ()  # granular scopes, all required
    anonymous: bool = False
    admin: bool = False
    gateway: bool = True  # reachable through api.atlassian.com with OAuth
    admin_message: str = "You are not authorized to perform this operation. Administrator access required."


def site_endpoint(requirement: Requirement) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await _serve(request, requirement, handler)

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return wrap


def error_response(
    surface: str,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    sub_code: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    if surface == "confluence":
        return confluence_error(status, message, headers)
    if surface == "upm":
        return upm_error(status, message, sub_code, headers)
    return jira_error(status, message, errors, headers)


async def _serve(request: Request, req: Requirement, handler: Handler) -> Response:
    state: SimState = request.app.state.sim
    params = request.path_params
    via_gateway = "cloud_id" in params
    site = (
        state.tenant.site_by_cloud_id(params["cloud_id"])
        if via_gateway
        else state.tenant.site(params.get("site", ""))
    )
    # from the scope, not request.url: building a URL costs more than the rest of the pipeline
    prefix = request.scope.get("root_path", "")
    path = request.scope["path"][len(prefix) :] or "/"
    auth_kind = "none"
    status = 500
    limiter = state.limiters.get(site.name) if site else None
    admitted = False
    try:
        if site is None:
            response = _no_site(via_gateway)
            status = response.status_code
            return response
        product = (
            req.surface if req.surface != "upm" else ("confluence" if path.startswith("/wiki") else "jira")
        )
        if req.surface != "graphql" and not site.has(product):  # the GraphQL gateway is every site's
            # the real host has no such product: Atlassian's own 404 page
            response = PlainTextResponse("Not Found", 404)
            status = 404
            return response
        account, auth_kind, denial = _authenticate(request, state, site, req, via_gateway)
        if denial is not None:
            status = denial.status_code
            return denial
        if limiter is not None:
            limited = limiter.acquire()
            if limited is not None:
                status = 429
                return error_response(req.surface, 429, "Rate limit exceeded.", limited)
            admitted = True
        faults = state.faults.matching(site.name, path)
        injected = await transport_faults(request, faults, req.surface)
        if injected is not None:
            status = injected.status_code
            return injected
        if req.admin and not site.is_admin(account.account_id if account else ""):
            status = 403
            return error_response(
                req.surface,
                403,
                req.admin_message,
                sub_code="upm.permission.denied" if req.surface == "upm" else None,
            )
        base = f"{state.base_url}{prefix}"
        quirks = [f for f in faults if f.kind in PAGING_KINDS]
        ctx = SiteContext(request, state, site, account, via_gateway, base, path, quirks)
        try:
            response = await handler(ctx)
        except ApiError as err:
            response = error_response(
                req.surface, err.status, err.message, err.headers, err.sub_code, err.errors
            )
        lost = await transport_faults(request, faults, req.surface, processed=True)
        if lost is not None:
            status = lost.status_code
            return lost
        if account is not None and req.surface == "jira":
            # appended raw: no handler sets it, so MutableHeaders' replace-scan is not needed
            response.raw_headers.append((b"x-aaccountid", account.account_id.encode("latin-1")))
        response = await _body_faults(request, faults, response)
        status = response.status_code
        return response
    finally:
        if admitted and limiter is not None:
            limiter.release()
        state.record(
            LoggedRequest(
                time.time(),
                request.method,
                request.scope["path"],
                request.scope["query_string"].decode("latin-1"),
                status,
                "gateway" if via_gateway else "site",
                site.name if site else None,
                auth_kind,
            )
        )


def _no_site(via_gateway: bool) -> Response:
    if via_gateway:
        return gateway_error(404, "Not Found")
    return PlainTextResponse("Site not found", 404)


def _authenticate(
    request: Request, state: SimState, site: Site, req: Requirement, via_gateway: bool
) -> tuple[Account | None, str, Response | None]:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if via_gateway:
        return _authenticate_bearer(state, site, req, scheme, credentials.strip())
    if not header:
        if req.anonymous:
            return None, "none", None
        return None, "none", _site_unauthenticated(req)
    if scheme != "basic":
        return None, scheme, _site_unauthenticated(req)
    try:
        email, _, secret = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None, "basic", _site_unauthenticated(req)
    account = state.tenant.account_by_email(email) if email else None
    if account is None or account.account_id not in site.user_ids or not account.active:
        return None, "basic", _site_unauthenticated(req)
    if account.password and secret == account.password:
        return (
            None,
            "basic",
            PlainTextResponse(
                "Basic authentication with passwords is deprecated. For more information, see: "
                "https://developer.atlassian.com/cloud/confluence/deprecation-notice-basic-auth/",
                401,
                headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
            ),
        )
    now_ms = int(state.clock.time() * 1000)
    token = next((t for t in account.api_tokens if t.secret == secret and not t.revoked), None)
    if token is None or token.expires_ms < now_ms:
        return None, "basic", _site_unauthenticated(req)
    token.last_access_ms = now_ms
    return account, "basic", None


def _site_unauthenticated(req: Requirement) -> Response:
    headers = {
        "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
        "WWW-Authenticate": 'Basic realm="protected-area"',
    }
    if req.surface == "confluence":
        return confluence_error(401, "This request requires authentication.", headers)
    return JSONResponse({"message": UNAUTHENTICATED, "status-code": 401}, 401, headers)


def _authenticate_bearer(
    state: SimState, site: Site, req: Requirement, scheme: str, token: str
) -> tuple[Account | None, str, Response | None]:
    if not req.gateway:
        return None, scheme or "none", gateway_error(404, "Not Found")
    live = state.oauth.access(token) if scheme == "bearer" and token else None
    if live is None:
        return None, scheme or "none", gateway_error(401, "Unauthorized")
    grant, _ = live
    if site.cloud_id not in grant.cloud_ids:
        return None, "bearer", gateway_error(404, "Not Found")
    scopes = set(grant.scopes)
    needs_scope = req.classic is not None or req.granular
    if needs_scope and req.classic not in scopes and not (req.granular and set(req.granular) <= scopes):
        return None, "bearer", gateway_error(401, "Unauthorized; scope does not match")
    return state.tenant.accounts.get(grant.account_id), "bearer", None


async def transport_faults(
    request: Request, faults: list[Fault], surface: str, *, processed: bool = False
) -> Response | None:
    """The answer a fault gives instead of the handler's, or None. Before the handler (``processed``
    false) the faults without the ``processed`` flag apply; after it, the ones with it."""
    faults = [f for f in faults if bool(f.params.get("processed")) == processed]
    for fault in faults:
        if fault.kind == "latency" and fault.spend():
            await asyncio.sleep(float(fault.params.get("ms", 100)) / 1000)
    state: SimState = request.app.state.sim
    if state.config.latency_ms:
        await asyncio.sleep(state.config.latency_ms / 1000)
    for fault in faults:
        if fault.kind == "rate_limit" and fault.spend():
            return error_response(surface, 429, "Rate limit exceeded.", _retry_after(state, fault))
        if fault.kind == "server_error" and fault.spend():
            code = int(fault.params.get("status", 503))
            headers = _retry_after(state, fault) if "retry_after" in fault.params else None
            return error_response(surface, code, "Service temporarily unavailable.", headers)
        if fault.kind == "reset" and fault.spend():
            _reset_connection(request)
            return PlainTextResponse("", 502)  # only reached if the transport could not be aborted
    return None


def _retry_after(state: SimState, fault: Fault) -> dict[str, str]:
    seconds = float(fault.params.get("retry_after", 1))
    if fault.params.get("retry_after_format") == "date":
        moment = datetime.fromtimestamp(state.clock.time() + seconds, tz=UTC)
        value = moment.strftime("%a, %d %b %Y %H:%M:%S GMT")
    else:
        value = str(int(seconds))
    reset = datetime.fromtimestamp(state.clock.time() + seconds, tz=UTC).strftime("%Y-%m-%dT%H:%MZ")
    return {
        "Retry-After": value,
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": reset,
        "RateLimit-Reason": "jira-burst-based",
    }


def _reset_connection(request: Request) -> None:
    """Abort the TCP connection with an RST (SO_LINGER 0), as a flaky proxy does."""
    raw_send = request.scope.get("sim.raw_send")
    transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


async def _body_faults(request: Request, faults: list[Fault], response: Response) -> Response:
    for fault in faults:
        if fault.kind == "oversize" and fault.spend() and response.body:
            response.body = _padded(bytes(response.body), int(fault.params.get("bytes", 10_000_000)))
            response.headers["content-length"] = str(len(response.body))
        if fault.kind == "truncate" and fault.spend():
            return TruncatedResponse(response)
    return response


def _padded(body: bytes, padding: int) -> bytes:
    """A JSON object grows a huge ``_padding`` field; any other body (an array, text) trailing
    whitespace, which keeps a JSON array valid."""
    if body.startswith(b"{"):
        data = orjson.loads(body)
        data["_padding"] = "x" * padding
        return orjson.dumps(data)
    return body + b" " * padding


class TruncatedResponse(Response):
    """Sends the headers of the full body, half the body, then drops the connection."""

    def __init__(self, original: Response) -> None:
        self.original = original
        super().__init__(None, original.status_code)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = self.original.body
        await send(
            {
                "type": "http.response.start",
                "status": self.original.status_code,
                "headers": self.original.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        # returning without completing: the server closes the connection mid-body
