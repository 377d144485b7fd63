"""The simulator's site GraphQL gateway (installed Forge apps) and the switches that decide where
Forge apps, app audit records and the plugin manager's feed appear (docs/simulator/gateway.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.simulator import Simulator

FORGE = "ari:cloud:ecosystem::app/"
QUERY = "query { ecosystem { appInstallationsByContext { nodes { app { id } } } } }"


def installations(sim: Simulator, site: str = "acme", first: int = 100, who: str = "site_admin") -> Any:
    """Every page of the site's installations, and how many requests it took."""
    contexts = [f"ari:cloud:{p}::site/{sim.site(site)['cloud_id']}" for p in sim.site(site)["products"]]
    nodes, after, requests = [], None, 0
    while True:
        reply = sim.http.post(
            sim.site_url(site) + "/gateway/api/graphql",
            json={"query": QUERY, "variables": {"contexts": contexts, "first": first, "after": after}},
            headers=sim.basic(who),
        )
        requests += 1
        assert reply.status_code == 200
        body = reply.json()
        if body.get("errors"):
            return body, requests
        connection = body["data"]["ecosystem"]["appInstallationsByContext"]
        nodes += connection["nodes"]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes, requests
        after = connection["pageInfo"]["endCursor"]


def upm_keys(sim: Simulator, site: str = "acme", product: str = "jira") -> set[str]:
    root = "/wiki/rest/plugins/1.0/" if product == "confluence" else "/rest/plugins/1.0/"
    return {p["key"] for p in sim.site_get(root, site).json()["plugins"] if p["userInstalled"]}


@pytest.fixture(scope="module")
def switched() -> Iterator[Simulator]:
    simulator = Simulator("tiny")
    yield simulator
    simulator.stop()


def test_the_gateway_lists_forge_apps_by_default_and_the_plugin_manager_does_not(sim: Simulator) -> None:
    nodes, _ = installations(sim)
    truth = sim.ground_truth()["sites"]["acme"]["products"]
    assert nodes
    assert all(n["app"]["id"].startswith(FORGE) for n in nodes)
    assert len(nodes) == sum(p["forge_installations"]["count"] for p in truth.values())
    assert not any(k.startswith(FORGE) for k in upm_keys(sim) | upm_keys(sim, product="confluence"))
    node = nodes[0]
    assert node["createdBy"]["accountId"]
    assert node["createdAt"].endswith("Z")
    assert node["installationContext"].startswith("ari:cloud:")
    assert {"scopes", "egress"} <= set(node["appEnvironmentVersion"]["permissions"][0])


def test_paging_follows_the_cursor_to_the_same_installations(sim: Simulator) -> None:
    whole, one_request = installations(sim)
    paged, requests = installations(sim, first=1)
    assert one_request == 1
    assert requests == len(whole) > 1
    assert [n["app"]["id"] for n in paged] == [n["app"]["id"] for n in whole]


def test_errors_have_atlassians_graphql_shape_with_http_200(sim: Simulator) -> None:
    body, _ = installations(sim, who="ordinary")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["statusCode"] == 403
    foreign = sim.http.post(
        sim.site_url("acme-eng") + "/gateway/api/graphql",
        json={"query": QUERY, "variables": {"contexts": [f"ari:cloud:jira::site/{sim.site()['cloud_id']}"]}},
        headers=sim.basic(),
    )
    assert foreign.status_code == 200
    assert foreign.json()["errors"][0]["extensions"]["errorType"] == "PERMISSION_DENIED"
    anonymous = sim.http.post(sim.site_url() + "/gateway/api/graphql", json={"query": QUERY})
    assert anonymous.status_code == 401


def test_the_switch_moves_forge_apps_between_sources_and_the_inventory_stays(switched: Simulator) -> None:
    before = switched.ground_truth()["sites"]["acme"]["products"]["jira"]
    forge = {n["app"]["id"] for n in installations(switched)[0] if "::site/" in n["installationContext"]}
    switched.control("PUT", "/switches", {"forge_apps": "upm"})
    assert installations(switched)[0] == []
    assert forge <= upm_keys(switched) | upm_keys(switched, product="confluence")
    after = switched.ground_truth()["sites"]["acme"]["products"]["jira"]
    assert after["app_inventory"] == before["app_inventory"]
    assert after["apps"]["count"] == before["apps"]["count"] + before["forge_installations"]["count"]
    switched.control("PUT", "/switches", {"forge_apps": "both"})
    assert {n["app"]["id"] for n in installations(switched)[0]} == forge
    assert forge <= upm_keys(switched) | upm_keys(switched, product="confluence")
    switched.control("PUT", "/switches", {"forge_apps": "gateway"})
    with pytest.raises(httpx.HTTPStatusError):
        switched.control("PUT", "/switches", {"forge_apps": "elsewhere"})
    with pytest.raises(httpx.HTTPStatusError):
        switched.control("PUT", "/switches", {"no_such_switch": True})


def app_records(sim: Simulator) -> list[dict[str, Any]]:
    reply = sim.site_get("/rest/api/3/auditing/record", params={"limit": 1000})
    return [
        r for r in reply.json()["records"] if r["category"] == "apps" and r["objectItem"]["typeName"] == "APP"
    ]


def test_app_audit_records_and_the_plugin_manager_feed_are_behind_switches_off_by_default(
    switched: Simulator,
) -> None:
    assert app_records(switched) == []
    assert switched.site_get("/rest/plugins/1.0/log/feed").status_code == 404
    switched.control("PUT", "/switches", {"app_audit_records": True, "upm_log_feed": True})
    try:
        assert app_records(switched)
        feed = switched.site_get("/rest/plugins/1.0/log/feed")
        assert feed.status_code == 200
        assert feed.headers["content-type"].startswith("application/atom+xml")
        assert "<entry><title" in feed.text
        assert "Installed plugin" in feed.text
    finally:
        switched.control("PUT", "/switches", {"app_audit_records": False, "upm_log_feed": False})
