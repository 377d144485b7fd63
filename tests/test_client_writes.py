"""Only idempotent requests are sent again: a POST that may have reached the server is never
repeated (a 5xx, a 429, a reset after sending), while a GET, a POST its caller declares idempotent
(the Marketplace's read-only GraphQL) and a POST that never left (no connection) are retried. The
simulator's request log counts what reached it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from appgov.connectors.atlassian.client import AtlassianClient, AtlassianError, Reply, Unconfirmed
from appgov.connectors.atlassian.marketplace import GRAPHQL_QUERY
from appgov.connectors.retry import RetryPolicy
from support.simulator import Simulator

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, defer_after=30)
GRAPHQL = "/gateway/api/graphql"
QUERY = {"query": GRAPHQL_QUERY, "variables": {"appKey": "no.such.app"}}


def post_graphql(sim: Simulator, idempotent: bool | None = None, base_url: str | None = None) -> Reply:
    async def post() -> Reply:
        async with AtlassianClient(
            base_url or sim.state["marketplace_url"], None, policy=FAST, verify=sim.verify
        ) as client:
            return await client.request("POST", GRAPHQL, json=QUERY, idempotent=idempotent)

    return asyncio.run(post())


def requests_to(sim: Simulator, path: str) -> list[dict[str, Any]]:
    return [e for e in sim.control("GET", "/log?limit=10000").json() if e["path"].endswith(path)]


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("server_error", {"status": 503}),
        ("rate_limit", {"retry_after": 0}),
        ("reset", {}),
    ],
)
def test_a_post_that_may_have_been_processed_is_never_sent_again(
    fresh_sim: Simulator, kind: str, params: dict[str, Any]
) -> None:
    fresh_sim.fault(kind, site="marketplace", path=GRAPHQL, times=1, params=params)
    with pytest.raises(Unconfirmed, match="not sent again"):
        post_graphql(fresh_sim)
    assert len(requests_to(fresh_sim, GRAPHQL)) == 1


def test_a_post_declared_idempotent_is_retried_like_a_get(fresh_sim: Simulator) -> None:
    fresh_sim.fault("server_error", site="marketplace", path=GRAPHQL, times=2, params={"status": 502})
    reply = post_graphql(fresh_sim, idempotent=True)
    assert reply.status == 200
    assert [e["status"] for e in requests_to(fresh_sim, GRAPHQL)] == [502, 502, 200]


def test_a_get_is_retried_after_a_reset(fresh_sim: Simulator) -> None:
    fresh_sim.fault("reset", site="marketplace", path="/rest/2", times=1)

    async def get() -> Reply:
        async with AtlassianClient(
            fresh_sim.state["marketplace_url"], None, policy=FAST, verify=fresh_sim.verify
        ) as client:
            return await client.get("/rest/2")

    assert asyncio.run(get()).status == 200
    assert len(requests_to(fresh_sim, "/rest/2")) == 2


def test_a_post_that_could_not_connect_is_retried_as_nothing_was_sent(sim: Simulator) -> None:
    with socket.socket() as closed:  # a port nothing listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(AtlassianError, match=f"failed {FAST.max_attempts} times") as raised:
        post_graphql(sim, base_url=f"http://127.0.0.1:{port}")
    assert not isinstance(raised.value, Unconfirmed)
