"""WS-07: errors and configuration fail safe. An unhandled error is a generic answer carrying only a
reference (the request id) and no detail; no API browser (/docs, /redoc) is served, the OpenAPI
document only to signed-in users; nothing outside the routes is served (no /.git, no directory
listing); TRACE and other methods a path does not take are 405, naming the ones it does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from starlette.testclient import TestClient

from appgov.runtime import Runtime
from appgov.web.app import create_app
from support.in_process import ADMIN, Browser, started

SECRET = "the database password is hunter2"
failing = APIRouter()


@failing.get("/api/v1/fails")
@failing.get("/fails")
def fails() -> None:
    """Test-only: a bug."""
    raise RuntimeError(SECRET)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    yield from started(tmp_path)


@pytest.mark.parametrize("path", ["/api/v1/fails", "/fails"])
def test_an_unhandled_error_is_a_generic_500_with_only_a_reference(runtime: Runtime, path: str) -> None:
    app = create_app(runtime)
    app.include_router(failing)
    answer = TestClient(app, raise_server_exceptions=False).get(path)
    assert answer.status_code == 500
    reference = answer.headers["X-Request-Id"]
    assert answer.text == f"Something went wrong (reference {reference})."
    assert "hunter2" not in answer.text


@pytest.mark.parametrize(
    "path",
    ["/docs", "/redoc", "/api/docs", "/api/v1/docs", "/openapi.json", "/docs/oauth2-redirect"],
)
def test_no_api_browser_is_served_even_signed_in(runtime: Runtime, path: str) -> None:
    assert Browser(runtime).sign_in(ADMIN).client.get(path).status_code == 404


def test_the_openapi_document_is_for_signed_in_users_only(runtime: Runtime) -> None:
    assert Browser(runtime).client.get("/api/openapi.json").status_code == 401
    document = Browser(runtime).sign_in(ADMIN).client.get("/api/openapi.json")
    assert document.status_code == 200
    assert "/api/v1/domains" in document.json()["paths"]


@pytest.mark.parametrize(
    "path",
    [
        "/.git/config",
        "/.git/HEAD",
        "/.env",
        "/static/",
        "/static/..%2f..%2fpyproject.toml",
    ],
)
def test_nothing_outside_the_routes_is_served(runtime: Runtime, path: str) -> None:
    answer = Browser(runtime).sign_in(ADMIN).client.get(path)
    assert answer.status_code == 404, answer.text[:200]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/", "GET"),
        ("/login", "GET, POST"),
        ("/api/v1/domains", "GET, POST"),
        ("/api/v1/domains/1", "GET, DELETE"),
        ("/api/v1/users/1", "GET, PATCH"),
    ],
)
@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "PROPFIND"])
def test_a_method_a_path_does_not_take_is_405_naming_the_ones_it_does(
    runtime: Runtime, path: str, allowed: str, method: str
) -> None:
    answer = Browser(runtime).sign_in(ADMIN).client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == allowed
    assert "server" not in answer.headers
