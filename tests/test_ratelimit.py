"""The per-site burst limit (requests per second and concurrency), set through the control API."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx

from support.simulator import Simulator

USERS = "/rest/api/3/users/search"


def set_burst(sim: Simulator, site: str, concurrency: int, rps: float) -> httpx.Response:
    return sim.http.put(
        f"{sim.url}/_sim/sites/{site}/burst-limit",
        json={"concurrency": concurrency, "requests_per_second": rps},
        headers={"Authorization": f"Bearer {sim.state['control_token']}"},
    )


def assert_burst_429(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Limit"] == limit
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", response.headers["X-RateLimit-Reset"])
    assert response.headers["RateLimit-Reason"] == "jira-burst-based"
    assert set(response.json()) == {"errorMessages", "errors"}


def test_past_the_requests_per_second_a_site_answers_429_until_time_passes(fresh_sim: Simulator) -> None:
    assert set_burst(fresh_sim, "acme", 64, 2).json() == {"concurrency": 64, "requests_per_second": 2.0}
    statuses = [fresh_sim.site_get(USERS).status_code for _ in range(2)]
    assert statuses == [200, 200]
    assert_burst_429(fresh_sim.site_get(USERS), "2")
    assert fresh_sim.site_get(USERS, site="acme-eng").status_code == 200  # the limit is per site
    fresh_sim.control("POST", "/clock", {"seconds": 1})
    assert fresh_sim.site_get(USERS).status_code == 200


def test_past_the_concurrency_overlapping_requests_get_429(fresh_sim: Simulator) -> None:
    set_burst(fresh_sim, "acme", 2, 1000)
    # the latency holds each admitted request in flight, so the burst overlaps
    fresh_sim.fault("latency", site="acme", path=USERS, params={"ms": 1500})
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: fresh_sim.site_get(USERS), range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert 1 <= statuses.count(200) <= 4
    assert statuses.count(429) == 8 - statuses.count(200)
    for limited in (r for r in responses if r.status_code == 429):
        assert_burst_429(limited, "1000")


def test_a_burst_limit_needs_a_known_site_and_sane_numbers(fresh_sim: Simulator) -> None:
    assert set_burst(fresh_sim, "no-such-site", 4, 10).status_code == 404
    assert set_burst(fresh_sim, "acme", 0, 10).status_code == 400
    assert set_burst(fresh_sim, "acme", 4, -1).status_code == 400
    assert fresh_sim.site_get(USERS).status_code == 200
