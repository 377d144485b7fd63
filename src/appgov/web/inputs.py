"""Input refused at the edge, in one place, before a route or the database sees it (BI-01, BI-05):
ids that no row of either database can have (PostgreSQL's ``integer`` stops at 2^31-1, SQLite's at
2^63-1), integers in JSON bodies that are not JSON numbers (booleans take ``StrictBool``), and text no
column can store (a NUL byte, which PostgreSQL refuses) or no encoder can write (a lone surrogate,
which only a JSON ``\\ud800`` escape can carry); on the REST API, query parameters a route does not read
(BI-04). Each is answered 422 through ``errors.invalid_input``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict
from starlette.requests import Request

MAX_ROW_ID = 2**31 - 1  # every id column is an INTEGER: the most both databases store
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# an id in a path or a query string (text, so "7" is 7); the same bounds document it in OpenAPI
RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]


def _json_number(value: object) -> object:
    # pydantic's lax int takes "7" and true; JSON Schema's integer is a number (7 or 7.0), nothing else
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON number")
    return value


# an integer in a JSON body: 7 or 7.0, never "7" or true
JsonInt = Annotated[int, BeforeValidator(_json_number)]
# an id in a JSON body (bounds before the validator, or the schema loses them)
BodyRowId = Annotated[int, Ge(1), Le(MAX_ROW_ID), BeforeValidator(_json_number)]


class RequestBody(BaseModel):
    """A JSON body the API reads: a field it does not know is refused, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def row_id(text: str | None) -> int | None:
    """The id a query string's or a path's text names, or None when no row can have it."""
    if not text or not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ROW_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ROW_ID else None


def unreadable(text: str) -> str | None:
    """What makes ``text`` impossible to store or encode, or None."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not text"
    return None


def _strings(value: Any, location: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in a parsed JSON document (keys too) with where it is; iterative, as a document may
    nest deeper than the interpreter's recursion limit."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(location, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, inner in item.items():
                named = (*where, key.encode(errors="backslashreplace").decode())  # an answer can carry it
                yield named, key
                stack.append((named, inner))
        elif isinstance(item, list):
            stack.extend(((*where, index), inner) for index, inner in enumerate(item))


async def _body_strings(request: Request) -> Iterable[tuple[tuple[str | int, ...], str]]:
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()  # parsed once: the route and the CSRF check read the same one
        return [(("body", name), value) for name, value in form.multi_items() if isinstance(value, str)]
    body = await request.body()
    if not body:
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON: the route's own parsing answers that
        return []
    return list(_strings(document, ("body",)))


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route reads, its dependencies' included."""
    return {field.alias for field in dependant.query_params}.union(
        *(_query_names(sub) for sub in dependant.dependencies)
    )


def _unknown_query(request: Request) -> list[dict[str, Any]]:
    # an allowlist of parameters (BI-04), on the REST API only: the pages take what they offer and
    # ignore the rest (a link's leftovers)
    route = request.scope.get("route")
    if not (isinstance(route, APIRoute) and request.url.path.startswith("/api/")):
        return []
    known = _query_names(route.dependant)
    return [
        {"type": "extra_forbidden", "loc": ("query", name), "msg": "This route reads no such parameter"}
        for name in dict.fromkeys(request.query_params)
        if name not in known
    ]


async def readable_input(request: Request) -> None:
    """A dependency of every route, ahead of the others: 422 for a NUL or a lone surrogate anywhere the
    app reads text (the path, the query string, a header, a form field, a JSON string), and on the
    REST API for a query parameter the route does not read (``?sort=`` where nothing sorts)."""
    found: list[tuple[tuple[str | int, ...], str]] = [
        *((("path", name), value) for name, value in request.path_params.items() if isinstance(value, str)),
        *((("query", name), f"{name}{value}") for name, value in request.query_params.multi_items()),
        *((("header", name), value) for name, value in request.headers.items()),
        *await _body_strings(request),
    ]
    errors = _unknown_query(request) + [
        {"type": "string_unreadable", "loc": location, "msg": f"Value {problem}"}
        for location, text in found
        if (problem := unreadable(text))
    ]
    if errors:
        raise RequestValidationError(errors)
