"""The REST API's OpenAPI document with the answers every operation can give besides its own (BI-01):
each route's 400, 404 or 409 come from its router's ``responses``; this adds, in one place, the ones
that come from what every route shares: sign-in (401), the permission and CSRF checks (403), the
body ceiling (413, plain text), input the route cannot read (422), with a path id 404 and with a body
400 (one that is not JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR = "Error"
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
        "description": "the request body is over 1 MiB",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    "422": _json(
        "input the route cannot read: a value out of range, of the wrong kind, or holding a NUL or a"
        " lone surrogate; the fields and what is wrong, never the value sent"
    ),
}
NOT_FOUND = _json("nothing has this id, or nothing of yours")
BAD_REQUEST = _json("refused as it stands: the words say why")
CONFLICT = _json("the change would break a rule: the words say which")


def documented_openapi(app: FastAPI) -> dict[str, Any]:
    """``app.openapi()``, built once, with the shared answers on every operation."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        document.setdefault("components", {}).setdefault("schemas", {})[ERROR] = ERROR_SCHEMA
        for path, operations in document.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.update(SHARED)
                if "{" in path:
                    responses.setdefault("404", NOT_FOUND)
                if "requestBody" in operation:  # a body that is not JSON at all
                    responses.setdefault("400", BAD_REQUEST)
        app.openapi_schema = document
    return app.openapi_schema
