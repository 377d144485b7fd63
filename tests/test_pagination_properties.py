"""Pagination is complete and terminates whatever a busy tenant does to its pages (reliability
SY-08): Hypothesis switches the simulator's paging quirks on for each paging style, and appgov's one
pagination module must return exactly the ground truth's items, de-duplicated, without looping."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appgov.connectors.atlassian.client import AtlassianClient
from appgov.connectors.atlassian.pagination import BareArray, OffsetLimit, PageBean, StartLimitLinks
from appgov.connectors.paging import Style, pages, start
from appgov.connectors.retry import RetryPolicy
from support.simulator import Simulator

# (path, paging style, page size, natural key of an item, ground-truth product and data set)
ENDPOINTS: dict[str, tuple[str, Style, dict[str, Any], str, str, str]] = {
    "bare array": (
        "/rest/api/3/users/search",
        BareArray(),
        {"maxResults": 1000},
        "accountId",
        "jira",
        "users",
    ),
    "PageBean": ("/rest/api/3/group/bulk", PageBean(), {"maxResults": 50}, "groupId", "jira", "groups"),
    "offset/limit": (
        "/rest/api/3/auditing/record",
        OffsetLimit(),
        {"limit": 1000},
        "id",
        "jira",
        "audit_records",
    ),
    "start/limit": ("/wiki/rest/api/group", StartLimitLinks(), {"limit": 50}, "id", "confluence", "groups"),
}

QUIRK = st.one_of(
    st.builds(lambda page: ("empty_page", 1, {"page": page}), st.integers(1, 2)),
    st.builds(lambda page: ("duplicates", -1, {"page": page}), st.integers(1, 2)),
    st.builds(lambda page: ("insert_while_paging", -1, {"page": page}), st.integers(1, 2)),
    st.builds(lambda size: ("short_page", -1, {"size": size}), st.integers(1, 5)),
    st.builds(lambda delta: ("wrong_total", -1, {"delta": delta}), st.integers(-10, 10)),
)


@pytest.fixture(scope="module")
def paged() -> Iterator[Simulator]:
    """Tiny data with small pages: every style still spans several pages, and examples stay fast."""
    simulator = Simulator("tiny")
    yield simulator
    simulator.stop()


async def read_all(sim: Simulator, path: str, style: Style, params: dict[str, Any], key: str) -> list[str]:
    admin = sim.state["accounts"]["site_admin"]
    client = AtlassianClient(
        sim.site_url(),
        httpx.BasicAuth(admin["email"], admin["api_token"]),
        policy=RetryPolicy(max_attempts=2),
    )
    keys: list[str] = []
    async with client:
        async for page, reply in pages(client, style, start(path, params), max_pages=200):
            assert reply.status == 200
            keys += [str(item[key]) for item in page.items]
    return keys


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(sorted(ENDPOINTS)), quirks=st.lists(QUIRK, min_size=1, max_size=3))
def test_every_item_comes_back_exactly_once_and_paging_ends(
    paged: Simulator, endpoint: str, quirks: list[tuple[str, int, dict[str, Any]]]
) -> None:
    path, style, params, key, product, dataset = ENDPOINTS[endpoint]
    truth = paged.ground_truth()["sites"]["acme"]["products"][product][dataset]
    paged.control("DELETE", "/faults")
    try:
        for kind, times, fault_params in quirks:
            paged.fault(kind, site="acme", path=path, times=times, params=fault_params)
        keys = asyncio.run(read_all(paged, path, style, params, key))
    finally:
        paged.control("DELETE", "/faults")
    assert len(set(keys)) == truth["count"]
