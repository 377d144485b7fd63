"""Responses in each Atlassian surface's own shape: JSON bodies, error bodies and bad-input parsing."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    """orjson-rendered JSON; the simulator's hot path, so no pretty printing."""

    media_type = "application/json;charset=UTF-8"

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type)

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class ApiError(Exception):
    """Raised by a handler; the endpoint wrapper renders it in the caller's surface's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        sub_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}
        self.headers = headers or {}
        self.sub_code = sub_code


REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def jira_error(
    status: int, message: str, errors: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Jira's ErrorCollection (references §4)."""
    body = {"errorMessages": [message] if message else [], "errors": errors or {}}
    return JSONResponse(body, status, headers)


def confluence_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """Confluence v1's error body (references §5)."""
    body = {
        "statusCode": status,
        "data": {
            "authorized": False,  # as a captured 404 of the real cloud shows
            "valid": True,
            "allowedInReadOnlyMode": True,
            "errors": [],
            "successful": False,
        },
        "message": message,
        "reason": REASONS.get(status, "Error"),
    }
    return JSONResponse(body, status, headers)


def upm_error(
    status: int, message: str, sub_code: str | None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The plugin manager's error body: a ``subCode`` and a message (references §3.3, shape [I])."""
    body: dict[str, Any] = {"message": message}
    if sub_code:
        body["subCode"] = sub_code
    return JSONResponse(body, status, headers)


def gateway_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """api.atlassian.com's body: ``{"code":401,"message":"Unauthorized; scope does not match"}``."""
    return JSONResponse({"code": status, "message": message}, status, headers)


def admin_error(
    status: int,
    message: str,
    path: str,
    request_id: str,
    timestamp: str,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The organization admin API's body (references §7.2)."""
    body = {
        "timestamp": timestamp,
        "path": path,
        "status": status,
        "error": REASONS.get(status, "Error"),
        "message": message,
        "requestId": request_id,
    }
    return JSONResponse(body, status, headers)


def int_param(
    params: Any,
    name: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: int | None = None,
    largest: int = 2**31 - 1,
) -> int:
    """An integer query parameter, validated as Atlassian does: garbage is a 400, too large is capped.

    ``largest`` is what the parameter's type holds (Jira's int32; the org API's epoch ms are int64).
    """
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(
            400,
            f"The value '{raw[:100]}' is invalid for the '{name}' parameter.",
            errors={name: "must be an integer"},
        ) from None
    if value < minimum:
        raise ApiError(
            400,
            f"The '{name}' parameter must be greater than or equal to {minimum}.",
            errors={name: f"must be >= {minimum}"},
        )
    if value > largest:
        raise ApiError(
            400,
            f"The value '{raw[:100]}' is invalid for the '{name}' parameter.",
            errors={name: "out of range"},
        )
    return min(value, maximum) if maximum is not None else value


def bool_param(params: Any, name: str, default: bool) -> bool:
    raw = params.get(name)
    return default if raw is None else raw.lower() == "true"
