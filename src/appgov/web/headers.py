"""Security headers and a request id (``X-Request-Id``) on every response (WS-04), and the error
answers: a generic error page with the request id as its correlation id (WS-07): no stack trace, no
secret, only an id to find the log line; and 503 with ``Retry-After`` while the database is
unavailable (SY-10), a state that passes, not an error."""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlsplit

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp

from appgov.storage.db import database_unavailable, log_failure

log = logging.getLogger("appgov.web")
UNAVAILABLE = "The database is unavailable; try again shortly."
RETRY_AFTER_SECONDS = 5


def content_security_policy(auth_url: str) -> str:
    # forms may post to us; the Add and Reconnect forms redirect on to Atlassian's consent page
    auth = urlsplit(auth_url)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"form-action 'self' {auth.scheme}://{auth.netloc}",
        ]
    )


class SecurityHeaders(BaseHTTPMiddleware):
    def __init__(self, app: ASGIApp, auth_url: str, hsts: bool) -> None:
        super().__init__(app)
        self.csp = content_security_policy(auth_url)
        self.hsts = hsts

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        # one id per request, in its answer and in the audit records and error logs it caused
        request.state.request_id = secrets.token_hex(8)
        try:
            response = await call_next(request)
        except Exception as error:
            response = _error_response(request, error)
        headers = response.headers
        headers["X-Request-Id"] = request.state.request_id
        headers["Content-Security-Policy"] = self.csp
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"  # no OAuth code or state ever leaks onward (CS-07)
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"
        if self.hsts:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response


def _error_response(request: Request, error: Exception) -> Response:
    if database_unavailable(error):
        log_failure(log, f"{request.method} {request.url.path}", error)
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": UNAVAILABLE}, status_code=503, headers=retry)
        return PlainTextResponse(UNAVAILABLE, status_code=503, headers=retry)
    incident = request.state.request_id
    log.exception("unhandled error %s on %s %s", incident, request.method, request.url.path, exc_info=error)
    return PlainTextResponse(f"Something went wrong (reference {incident}).", status_code=500)
