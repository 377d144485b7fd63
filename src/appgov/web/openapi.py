"""The REST API's OpenAPI document with the answers every operation can give besides its own (BI-01):
each route's 400, 404 or 409 come from its router's ``responses``; this adds, in one place, the ones
that come from what every route shares: sign-in (401), the permission and CSRF checks (403), the
body ceiling (413, plain text), input the route cannot read (422), with a path id 404 and with a body
400 (one its parser cannot read); how to sign in; and that no text a request sends may hold a NUL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from appgov.web.auth import SESSION_COOKIE
from appgov.web.limits import MAX_BODY_BYTES

ERROR = "Error"
NO_NUL = "^[^\\u0000]*$"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}],
            "description": "what is wrong: words, or for 422 the fields and what is wrong with each",
        }
    },
    "required": ["detail"],
}


def _json(description: str) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR}"}}}
    return {"description": description, "content": content}


SHARED: dict[str, dict[str, Any]] = {
    "401": _json("not signed in: no session cookie, or no live personal API token"),
    "403": _json("the role lacks the permission, or (with a session cookie) the CSRF check failed"),
    "413": {
        "description": f"the request body is over {MAX_BODY_BYTES // 1024} KiB",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    "422": _json(
        "input the route cannot read: a value out of range, of the wrong kind, or holding a NUL or a"
        " lone surrogate; the fields and what is wrong, never the value sent"
    ),
}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "token": {
        "type": "http",
        "scheme": "bearer",
        "description": "a personal API token (agv_...), from the Account page or POST /api/v1/tokens",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "the console's session; unsafe methods also need its CSRF token in X-CSRF-Token",
    },
}
NOT_FOUND = _json("nothing has this id, or nothing of yours")
BAD_REQUEST = _json("refused as it stands: the words say why")
CONFLICT = _json("the change would break a rule: the words say which")


def _references(node: Any) -> Iterator[str]:
    """The component schemas ``node`` refers to, directly or not."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[-1]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def _without_nul(schema: dict[str, Any]) -> None:
    """Say of each free-text string a request sends that it holds no NUL (``inputs.readable_input``
    refuses one); a string with a pattern or a set of values says it already."""
    if schema.get("type") == "string" and not {"pattern", "enum", "const"} & set(schema):
        schema["pattern"] = NO_NUL
    for key in ("anyOf", "oneOf", "allOf"):
        for inner in schema.get(key, []):
            _without_nul(inner)
    for inner in schema.get("properties", {}).values():
        _without_nul(inner)
    if isinstance(schema.get("items"), dict):
        _without_nul(schema["items"])


def documented_openapi(app: FastAPI) -> dict[str, Any]:
    """``app.openapi()``, built once, with the shared answers on every operation."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {})
        components.setdefault("schemas", {})[ERROR] = ERROR_SCHEMA
        components["securitySchemes"] = SECURITY_SCHEMES
        document["security"] = [{name: []} for name in SECURITY_SCHEMES]  # either one
        refs: set[str] = set()
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.update(SHARED)
                if "{" in path:
                    responses.setdefault("404", NOT_FOUND)
                if "requestBody" in operation:  # a body the parser cannot read
                    responses.setdefault("400", BAD_REQUEST)
                for parameter in operation.get("parameters", []):
                    _without_nul(parameter["schema"])
                refs.update(_references(operation.get("requestBody", {})))
        for name in refs:
            _without_nul(components["schemas"][name])
        app.openapi_schema = document
    return app.openapi_schema
