"""Who a request comes from: ``appgov serve`` believes ``X-Forwarded-For`` only from the proxies named in
APPGOV_TRUSTED_PROXIES (uvicorn alone would believe it from loopback), and names no server software."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.console import Console, csrf_of
from support.integrations import audit_events
from support.simulator import Simulator

SPOOFED = "203.0.113.9"


def failed_sign_in_address(console: Console) -> str | None:
    client = console.client()
    form = {"email": "nobody@example.com", "password": "wrong password 123", "csrf_token": ""}
    form["csrf_token"] = csrf_of(client.get("/login").text)
    answer = client.post("/login", data=form, headers={"X-Forwarded-For": SPOOFED})
    assert answer.status_code == 401
    assert "server" not in answer.headers
    (event,) = audit_events(console, "signin.failed", 0)
    return event.address


@pytest.fixture
def console(sim: Simulator, request: pytest.FixtureRequest) -> Iterator[Console]:
    running = Console(sim, **request.param)
    yield running
    running.stop()


@pytest.mark.parametrize("console", [{}], indirect=True)
def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(console: Console) -> None:
    assert failed_sign_in_address(console) == "127.0.0.1"


@pytest.mark.parametrize("console", [{"APPGOV_TRUSTED_PROXIES": "127.0.0.1"}], indirect=True)
def test_a_trusted_proxys_forwarded_for_names_the_client(console: Console) -> None:
    assert failed_sign_in_address(console) == SPOOFED
