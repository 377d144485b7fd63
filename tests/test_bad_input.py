"""Bad input on every surface: Atlassian's status codes and error bodies, never a 500, never a hang."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

from support.simulator import Simulator

Shape = Callable[[Any, int], bool]


def jira_shape(body: Any, status: int) -> bool:
    return isinstance(body, dict) and set(body) == {"errorMessages", "errors"}


def confluence_shape(body: Any, status: int) -> bool:
    return isinstance(body, dict) and body.get("statusCode") == status and "data" in body


def gateway_shape(body: Any, status: int) -> bool:
    return isinstance(body, dict) and body.get("code") == status and "message" in body


def admin_shape(body: Any, status: int) -> bool:
    keys = {"timestamp", "path", "status", "error", "message", "requestId"}
    return isinstance(body, dict) and set(body) == keys and body["status"] == status


def control_shape(body: Any, status: int) -> bool:
    return isinstance(body, dict) and "message" in body


def basic(raw: bytes) -> str:
    return "Basic " + base64.b64encode(raw).decode()


MALFORMED_AUTH: dict[str, str | bytes] = {
    "not base64": "Basic !!!not-base64!!!",
    "no colon": basic(b"ada.admin@acme.example.com"),
    "wrong scheme": "Digest username=ada",
    "scheme only": "Basic",
    "not utf-8": basic(b"\xff\xfe:\xfd"),
    "non-ascii bytes": b"Basic \xc3\xa9\xc3\xa9",
    "huge": "Basic " + "A" * 60_000,
}


def surfaces(sim: Simulator) -> dict[str, tuple[str, Shape]]:
    """A protected URL per surface, with the shape of its error body."""
    cloud_id = sim.site()["cloud_id"]
    return {
        "jira": (sim.site_url() + "/rest/api/3/users/search", jira_shape),
        "confluence": (sim.site_url() + "/wiki/rest/api/group", confluence_shape),
        "gateway": (f"{sim.url}/ex/jira/{cloud_id}/rest/api/3/users/search", gateway_shape),
        "admin": (f"{sim.url}/admin/v1/orgs", admin_shape),
        "control": (f"{sim.url}/_sim/faults", control_shape),
    }


@pytest.mark.parametrize("case", list(MALFORMED_AUTH))
@pytest.mark.parametrize("surface", ["jira", "confluence", "gateway", "admin", "control"])
def test_a_malformed_authorization_header_is_a_401_in_the_surface_shape(
    sim: Simulator, surface: str, case: str
) -> None:
    url, shape = surfaces(sim)[surface]
    response = sim.http.get(url, headers={"Authorization": MALFORMED_AUTH[case]})
    assert response.status_code == 401
    if surface in ("jira", "confluence"):
        assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    if surface == "jira":
        assert response.json() == {
            "message": "Client must be authenticated to access this resource.",
            "status-code": 401,
        }
    else:
        assert shape(response.json(), 401)


def unknown_paths(sim: Simulator) -> list[tuple[str, Shape]]:
    cloud_id = sim.site()["cloud_id"]
    return [
        (sim.site_url() + "/rest/api/3/no-such-resource", jira_shape),
        (sim.site_url() + "/wiki/rest/api/no-such-resource", confluence_shape),
        (f"{sim.url}/ex/jira/{cloud_id}/rest/api/3/no-such-resource", jira_shape),
        (f"{sim.url}/ex/confluence/{cloud_id}/wiki/rest/api/no-such-resource", confluence_shape),
        (f"{sim.url}/admin/v1/no-such-resource", gateway_shape),
        (f"{sim.url}/_sim/no-such-resource", control_shape),
    ]


def test_unknown_paths_are_404_in_each_surface_shape(sim: Simulator) -> None:
    for url, shape in unknown_paths(sim):
        response = sim.http.get(url, headers=sim.basic())
        assert response.status_code == 404, url
        assert shape(response.json(), 404), (url, response.text)


def test_unknown_sites_and_cloud_ids_are_404(sim: Simulator) -> None:
    assert sim.get(f"{sim.url}/sites/no-such-site/rest/api/3/serverInfo").status_code == 404
    response = sim.get(f"{sim.url}/ex/jira/no-such-cloud/rest/api/3/serverInfo")
    assert response.status_code == 404
    assert gateway_shape(response.json(), 404)


def test_unknown_methods_are_405_in_each_surface_shape(sim: Simulator) -> None:
    cloud_id = sim.site()["cloud_id"]
    cases: list[tuple[str, str, Shape]] = [
        ("DELETE", sim.site_url() + "/rest/api/3/users/search", jira_shape),
        ("PROPFIND", sim.site_url() + "/rest/api/3/serverInfo", jira_shape),
        ("POST", sim.site_url() + "/wiki/rest/api/group", confluence_shape),
        ("PATCH", f"{sim.url}/ex/jira/{cloud_id}/rest/api/3/serverInfo", jira_shape),
        ("POST", f"{sim.url}/admin/v1/orgs", gateway_shape),
        ("PUT", f"{sim.url}/_sim/faults", control_shape),
    ]
    for method, url, shape in cases:
        response = sim.http.request(method, url, headers=sim.basic())
        assert response.status_code == 405, (method, url)
        assert shape(response.json(), 405), (method, url, response.text)


PAGING: list[tuple[str, str, str, Shape]] = [
    ("/rest/api/3/users/search", "startAt", "maxResults", jira_shape),
    ("/rest/api/3/group/bulk", "startAt", "maxResults", jira_shape),
    ("/rest/api/3/project/search", "startAt", "maxResults", jira_shape),
    ("/wiki/rest/api/group", "start", "limit", confluence_shape),
]


@pytest.mark.parametrize(("path", "start", "size", "shape"), PAGING)
@pytest.mark.parametrize("value", ["-1", "99999999999", "1e3", "abc"])
def test_negative_huge_or_garbage_paging_numbers_are_a_400(
    sim: Simulator, path: str, start: str, size: str, shape: Shape, value: str
) -> None:
    for name in (start, size):
        response = sim.site_get(path, params={name: value})
        assert response.status_code == 400, (path, name, value)
        assert shape(response.json(), 400)


@pytest.mark.parametrize(("path", "start", "size", "shape"), PAGING)
def test_a_start_past_the_end_is_an_empty_page_and_a_huge_size_is_capped(
    sim: Simulator, path: str, start: str, size: str, shape: Shape
) -> None:
    past = sim.site_get(path, params={start: 2**31 - 1}).json()
    items = past if isinstance(past, list) else past.get("values", past.get("results"))
    assert items == []
    capped = sim.site_get(path, params={size: 2**31 - 1})
    assert capped.status_code == 200


def test_bad_cursors_on_the_admin_api_are_a_400(sim: Simulator) -> None:
    key = {"Authorization": f"Bearer {sim.state['org']['api_key']}"}
    org = f"{sim.url}/admin/v1/orgs/{sim.state['org']['org_id']}"
    for cursor in ("garbage", "eyJvIjoiYSJ9", "eyJ4IjoxfQ", "////", "=" * 3):
        response = sim.http.get(f"{org}/users", params={"cursor": cursor}, headers=key)
        assert response.status_code == 400, cursor
        assert admin_shape(response.json(), 400)


def test_bad_control_api_input_is_a_400_and_switches_nothing_on(fresh_sim: Simulator) -> None:
    token = {"Authorization": f"Bearer {fresh_sim.state['control_token']}"}
    bodies: list[bytes | dict[str, Any]] = [
        b"not json",
        b"[1, 2]",
        {"kind": "gremlins"},
        {"kind": "latency", "params": {"ms": "slow"}},
        {"kind": "latency", "params": [1]},
        {"kind": "server_error", "params": {"status": 200}},
        {"kind": "rate_limit", "params": {"retry_after": 10**20}},
        {"kind": "latency", "path": 5},
        {"kind": "latency", "times": "often"},
    ]
    for body in bodies:
        kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": body}
        response = fresh_sim.http.post(f"{fresh_sim.url}/_sim/faults", headers=token, **kwargs)
        assert response.status_code == 400, body
    assert fresh_sim.control("GET", "/faults").json() == []
    for query in ("limit=abc", "limit=-3"):
        assert fresh_sim.http.get(f"{fresh_sim.url}/_sim/log?{query}", headers=token).status_code == 400
    clock = fresh_sim.http.post(f"{fresh_sim.url}/_sim/clock", json={"seconds": "soon"}, headers=token)
    assert clock.status_code == 400
    assert fresh_sim.site_get("/rest/api/3/users/search").status_code == 200


def test_a_huge_url_is_refused_or_served_but_never_a_500(sim: Simulator) -> None:
    response = sim.site_get("/rest/api/3/users/search", params={"query": "q" * 50_000})
    assert response.status_code < 500


def test_a_zero_log_limit_returns_no_entries(sim: Simulator) -> None:
    sim.site_get("/rest/api/3/serverInfo")
    assert sim.control("GET", "/log?limit=0").json() == []
