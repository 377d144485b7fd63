"""Every fault switch of the control API, over real HTTP on real Jira and Confluence endpoints.

One private simulator serves the whole module; each test clears the faults it switched on.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from support.simulator import Simulator

USERS = "/rest/api/3/users/search"
GROUPS = "/rest/api/3/group/bulk"
PROJECTS = "/rest/api/3/project/search"


@pytest.fixture(scope="module")
def faulty() -> Iterator[Simulator]:
    simulator = Simulator("tiny")
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def no_faults_left(faulty: Simulator) -> Iterator[None]:
    yield
    faulty.control("DELETE", "/faults")


def truth(sim: Simulator, name: str) -> int:
    return int(sim.ground_truth()["sites"]["acme"]["products"]["jira"][name]["count"])


def walk_bare(sim: Simulator, page_size: int) -> list[str]:
    """Page users/search as the popular clients do: until a page shorter than asked."""
    seen: list[str] = []
    while True:
        page = sim.site_get(USERS, params={"startAt": len(seen), "maxResults": page_size}).json()
        seen += [u["accountId"] for u in page]
        if len(page) < page_size:
            return seen


def walk_page_bean(sim: Simulator, path: str, page_size: int) -> list[dict[str, Any]]:
    """Every PageBean, following ``nextPage`` until ``isLast``."""
    pages = [sim.site_get(path, params={"maxResults": page_size}).json()]
    while not pages[-1]["isLast"]:
        pages.append(sim.site_get(pages[-1]["nextPage"].removeprefix(sim.site_url())).json())
    return pages


def hits(sim: Simulator, fault_id: int) -> int:
    listed = sim.control("GET", "/faults").json()
    return int(next(f["hits"] for f in listed if f["fault_id"] == fault_id))


# --- transport faults ----------------------------------------------------------------------------


def test_latency_delays_only_the_matching_path(faulty: Simulator) -> None:
    fault = faulty.fault("latency", path="/rest/api/3/serverInfo", params={"ms": 400})
    started = time.monotonic()
    assert faulty.site_get("/rest/api/3/serverInfo").status_code == 200
    assert time.monotonic() - started >= 0.4
    assert faulty.site_get(USERS).status_code == 200
    assert hits(faulty, fault["fault_id"]) == 1


def test_rate_limit_answers_429_with_retry_after_in_seconds_then_recovers(faulty: Simulator) -> None:
    faulty.fault("rate_limit", path=USERS, times=1, params={"retry_after": 7})
    limited = faulty.site_get(USERS)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    assert set(limited.json()) == {"errorMessages", "errors"}
    assert faulty.site_get(USERS).status_code == 200


def test_rate_limit_can_send_retry_after_as_an_http_date(faulty: Simulator) -> None:
    faulty.fault("rate_limit", path=USERS, params={"retry_after": 30, "retry_after_format": "date"})
    limited = faulty.site_get(USERS)
    assert limited.status_code == 429
    wait = parsedate_to_datetime(limited.headers["Retry-After"]).timestamp() - time.time()
    assert 20 <= wait <= 31


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_come_in_a_burst_of_times_then_stop(faulty: Simulator, status: int) -> None:
    faulty.fault("server_error", path=GROUPS, times=3, params={"status": status})
    statuses = [faulty.site_get(GROUPS).status_code for _ in range(4)]
    assert statuses == [status, status, status, 200]


def test_a_503_can_carry_retry_after_and_keeps_the_surface_error_shape(faulty: Simulator) -> None:
    faulty.fault("server_error", path="/wiki/*", params={"status": 503, "retry_after": 5})
    response = faulty.site_get("/wiki/rest/api/group")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["statusCode"] == 503  # Confluence's body, not Jira's


def test_reset_drops_the_connection_and_the_client_sees_a_connection_error(faulty: Simulator) -> None:
    faulty.fault("reset", path=USERS, times=1)
    with pytest.raises(httpx.TransportError):
        faulty.site_get(USERS)
    assert faulty.site_get(USERS).status_code == 200


def test_truncate_sends_half_the_body_and_the_client_sees_an_incomplete_read(faulty: Simulator) -> None:
    faulty.fault("truncate", path=GROUPS, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        faulty.site_get(GROUPS)
    assert faulty.site_get(GROUPS).status_code == 200


@pytest.mark.parametrize("path", [GROUPS, USERS])
def test_oversize_pads_the_body_past_the_asked_size_and_keeps_it_valid_json(
    faulty: Simulator, path: str
) -> None:
    plain = faulty.site_get(path).json()
    faulty.fault("oversize", path=path, params={"bytes": 3_000_000})
    padded = faulty.site_get(path)
    assert len(padded.content) > 3_000_000
    assert int(padded.headers["content-length"]) == len(padded.content)
    body = padded.json()
    if isinstance(body, dict):
        assert body.pop("_padding") == "x" * 3_000_000
    assert body == plain


# --- paging quirks -------------------------------------------------------------------------------


def test_wrong_total_misreports_the_total_of_a_page_bean(faulty: Simulator) -> None:
    faulty.fault("wrong_total", path=PROJECTS, params={"delta": 7, "page": 0})
    page = faulty.site_get(PROJECTS).json()
    assert page["total"] == truth(faulty, "projects") + 7
    assert len(page["values"]) == truth(faulty, "projects")


def test_an_empty_page_in_the_middle_is_not_the_last_and_the_retry_has_the_data(faulty: Simulator) -> None:
    faulty.fault("empty_page", path=GROUPS, times=1, params={"page": 1})
    pages = walk_page_bean(faulty, GROUPS, 3)
    assert [len(p["values"]) for p in pages][:2] == [3, 0]
    assert pages[1]["isLast"] is False
    ids = [g["groupId"] for p in pages for g in p["values"]]
    assert len(ids) == len(set(ids)) == truth(faulty, "groups")


def test_duplicates_repeat_an_item_across_pages(faulty: Simulator) -> None:
    faulty.fault("duplicates", path=USERS, params={"page": 1})
    seen = walk_bare(faulty, 10)
    assert len(seen) == len(set(seen)) + 1
    assert len(set(seen)) == truth(faulty, "users")


def test_short_page_returns_fewer_items_than_asked(faulty: Simulator) -> None:
    faulty.fault("short_page", path=USERS, times=1, params={"size": 3})
    assert len(faulty.site_get(USERS, params={"maxResults": 10}).json()) == 3
    assert len(faulty.site_get(USERS, params={"maxResults": 10}).json()) == 10


def test_insert_while_paging_grows_the_total_and_repeats_the_previous_item(faulty: Simulator) -> None:
    faulty.fault("insert_while_paging", path=GROUPS, params={"page": 1})
    pages = walk_page_bean(faulty, GROUPS, 3)
    groups = truth(faulty, "groups")
    assert [p["total"] for p in pages] == [groups] + [groups + 1] * (len(pages) - 1)
    assert pages[1]["values"][0] == pages[0]["values"][-1]
    ids = [g["groupId"] for p in pages for g in p["values"]]
    assert len(set(ids)) == groups


def test_remove_while_paging_shrinks_the_total_and_skips_an_item(faulty: Simulator) -> None:
    faulty.fault("remove_while_paging", path=GROUPS, params={"page": 1})
    pages = walk_page_bean(faulty, GROUPS, 3)
    groups = truth(faulty, "groups")
    assert [p["total"] for p in pages] == [groups] + [groups - 1] * (len(pages) - 1)
    ids = [g["groupId"] for p in pages for g in p["values"]]
    assert len(ids) == len(set(ids)) == groups - 1


# --- scoping, listing, clearing ------------------------------------------------------------------


def test_a_fault_scoped_to_a_site_leaves_the_other_sites_alone(faulty: Simulator) -> None:
    faulty.fault("server_error", site="acme-eng", params={"status": 500})
    assert faulty.site_get(USERS, site="acme-eng").status_code == 500
    assert faulty.site_get(USERS, site="acme").status_code == 200


def test_a_path_glob_matches_only_the_paths_it_names(faulty: Simulator) -> None:
    faulty.fault("server_error", path="/rest/api/3/group*", params={"status": 502})
    assert faulty.site_get(GROUPS).status_code == 502
    assert faulty.site_get("/rest/api/3/group/member", params={"groupname": "site-admins"}).status_code == 502
    assert faulty.site_get(USERS).status_code == 200


def test_a_path_fault_also_hits_the_same_path_through_the_gateway(faulty: Simulator) -> None:
    grant = faulty.mint_grant(["read:jira-user"])
    faulty.fault("server_error", site="acme", path=USERS, params={"status": 504})
    via_gateway = faulty.get(
        f"{faulty.url}/ex/jira/{faulty.site()['cloud_id']}{USERS}",
        headers={"Authorization": f"Bearer {grant['access_token']}"},
    )
    assert via_gateway.status_code == 504
    assert set(via_gateway.json()) == {"errorMessages", "errors"}


def test_faults_are_listed_removed_one_by_one_and_cleared(faulty: Simulator) -> None:
    first = faulty.fault("latency", path=USERS, params={"ms": 1})
    second = faulty.fault("rate_limit", site="acme-wiki", times=2)
    listed = faulty.control("GET", "/faults").json()
    assert [f["fault_id"] for f in listed] == [first["fault_id"], second["fault_id"]]
    assert listed[1] == {**second, "hits": 0}
    faulty.control("DELETE", f"/faults/{first['fault_id']}")
    assert [f["fault_id"] for f in faulty.control("GET", "/faults").json()] == [second["fault_id"]]
    faulty.control("DELETE", "/faults")
    assert faulty.control("GET", "/faults").json() == []
    token = {"Authorization": f"Bearer {faulty.state['control_token']}"}
    missing = faulty.http.delete(f"{faulty.url}/_sim/faults/{first['fault_id']}", headers=token)
    assert missing.status_code == 404
    unknown = faulty.http.post(f"{faulty.url}/_sim/faults", json={"kind": "gremlins"}, headers=token)
    assert unknown.status_code == 400


def test_the_request_log_and_counters_record_each_request_and_its_status(faulty: Simulator) -> None:
    faulty.control("DELETE", "/log")
    faulty.fault("server_error", path=GROUPS, times=1, params={"status": 503})
    faulty.site_get(GROUPS)
    faulty.site_get(USERS, site="acme-eng", params={"maxResults": 2})
    log = faulty.control("GET", "/log").json()
    assert [(e["method"], e["path"], e["status"], e["site"], e["auth"]) for e in log] == [
        ("GET", "/sites/acme" + GROUPS, 503, "acme", "basic"),
        ("GET", "/sites/acme-eng" + USERS, 200, "acme-eng", "basic"),
    ]
    assert log[1]["query"] == "maxResults=2"
    counters = faulty.control("GET", "/counters").json()["counters"]
    assert counters["site:acme:503"] == 1
    assert counters["site:acme-eng:200"] == 1
    assert counters["requests"] == 2


def refresh(sim: Simulator, refresh_token: str) -> httpx.Response:
    client = sim.state["oauth_client"]
    body = {
        "grant_type": "refresh_token",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "refresh_token": refresh_token,
    }
    return sim.http.post(f"{sim.state['auth_url']}/oauth/token", json=body)


def test_a_token_endpoint_fault_before_processing_leaves_the_refresh_token_unused(faulty: Simulator) -> None:
    minted = faulty.mint_grant(["read:jira-user", "offline_access"])
    faulty.fault("server_error", site="auth", path="/oauth/token", times=1, params={"status": 503})
    before = faulty.control("GET", "/counters").json()["refresh_requests"]
    assert refresh(faulty, minted["refresh_token"]).status_code == 503
    assert faulty.control("GET", "/counters").json()["refresh_requests"] == before
    assert refresh(faulty, minted["refresh_token"]).status_code == 200


@pytest.mark.parametrize("kind", ["server_error", "reset"])
def test_a_processed_token_endpoint_fault_rotates_the_tokens_then_loses_the_answer(
    faulty: Simulator, kind: str
) -> None:
    minted = faulty.mint_grant(["read:jira-user", "offline_access"])
    faulty.fault(kind, site="auth", path="/oauth/token", times=1, params={"status": 502, "processed": True})
    before = faulty.control("GET", "/counters").json()["refresh_requests"]
    if kind == "reset":
        with pytest.raises(httpx.TransportError):
            refresh(faulty, minted["refresh_token"])
    else:
        assert refresh(faulty, minted["refresh_token"]).status_code == 502
    assert faulty.control("GET", "/counters").json()["refresh_requests"] == before + 1
    # rotated: the old token now works only inside the 10-minute reuse leeway
    faulty.control("POST", "/clock", {"seconds": 11 * 60})
    assert refresh(faulty, minted["refresh_token"]).status_code == 403


def test_a_processed_flag_that_is_not_a_boolean_is_refused(faulty: Simulator) -> None:
    answer = faulty.http.post(
        f"{faulty.url}/_sim/faults",
        json={"kind": "reset", "params": {"processed": "yes"}},
        headers={"Authorization": f"Bearer {faulty.state['control_token']}"},
    )
    assert answer.status_code == 400
