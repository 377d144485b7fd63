"""Bodies over the ceiling are refused with 413 before any route parses them, whether they declare
their length or stream it in chunks; a body under it goes through."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from appgov.web.app import create_app
from appgov.web.limits import MAX_BODY_BYTES
from support.in_process import started

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    for runtime in started(tmp_path):
        yield TestClient(create_app(runtime), follow_redirects=False)


def test_a_body_declaring_more_than_the_ceiling_is_refused_with_413(client: TestClient) -> None:
    answer = client.post("/login", content=b"a" * (MAX_BODY_BYTES + 1))
    assert answer.status_code == 413
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_streamed_body_is_cut_off_once_past_the_ceiling(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b"a" * (MAX_BODY_BYTES // 2)

    assert client.post("/login", content=chunks(), headers=FORM).status_code == 413


def test_a_body_under_the_ceiling_reaches_its_route(client: TestClient) -> None:
    answer = client.post(
        "/login", content=b"a" * 1000, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code in (403, 422)  # the route's own answer: no CSRF token, no fields
