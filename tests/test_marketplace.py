"""The Marketplace over real HTTP: apps, versions and their scopes, vendors, trust data and bad input."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from support.simulator import Simulator

REST = "/marketplace/rest/2"


def get_json(sim: Simulator, path: str, **params: Any) -> Any:
    response = sim.get(path, params=params) if params else sim.get(path)  # httpx drops the URL's query for {}
    assert response.status_code == 200, response.text
    return response.json()


def json_next(links: dict[str, Any]) -> str | None:
    """``next`` is an array (JSON and HTML links) on ``/addons`` and one object on ``/versions``."""
    rel = links.get("next")
    if rel is None:
        return None
    if isinstance(rel, list):
        return str(next(link["href"] for link in rel if link.get("type") == "application/json"))
    return str(rel["href"])


def every_page(sim: Simulator, path: str) -> list[dict[str, Any]]:
    pages, url = [], path
    while True:
        page = get_json(sim, url)
        pages.append(page)
        following = json_next(page["_links"])
        if following is None:
            return pages
        url = following


def all_addons(sim: Simulator) -> list[dict[str, Any]]:
    return [a for page in every_page(sim, f"{REST}/addons") for a in page["_embedded"]["addons"]]


def installed_keys(sim: Simulator) -> set[str]:
    """App keys the Confluence audit logs installed, on both Confluence sites."""
    keys = set()
    for site in ("acme", "acme-wiki"):
        page = sim.site_get(
            "/wiki/rest/api/audit", site=site, params={"searchString": "app installed", "limit": 1000}
        )
        keys |= {a["name"] for r in page.json()["results"] for a in r["associatedObjects"]}
    return keys


def the_listing_with_many_versions(sim: Simulator) -> dict[str, Any]:
    return next(a for a in all_addons(sim) if get_json(sim, a["_links"]["versions"]["href"])["count"] >= 25)


def test_entry_point_links_to_the_addons(sim: Simulator) -> None:
    links = get_json(sim, REST)["_links"]
    assert links["self"]["href"] == REST
    assert links["addons"]["href"] == f"{REST}/addons"


def test_addons_page_by_ten_until_next_is_omitted(sim_small: Simulator) -> None:
    pages = every_page(sim_small, f"{REST}/addons")
    keys = [a["key"] for page in pages for a in page["_embedded"]["addons"]]
    assert len(pages) >= 3
    assert all(len(page["_embedded"]["addons"]) == 10 for page in pages[:-1])
    assert "next" not in pages[-1]["_links"]
    assert len(keys) == pages[0]["count"] == len(set(keys))
    html = pages[0]["_links"]["next"][1]
    assert html["type"] == "text/html"
    assert pages[0]["_links"]["byKey"] == {"href": f"{REST}/addons/{{addonKey}}", "templated": True}


def test_limit_is_capped_and_zero_lists_nothing(sim_small: Simulator) -> None:
    capped = get_json(sim_small, f"{REST}/addons", limit=1000)
    assert len(capped["_embedded"]["addons"]) == 50 or "next" not in capped["_links"]
    empty = get_json(sim_small, f"{REST}/addons", limit=0)
    assert empty["_embedded"]["addons"] == []
    assert empty["count"] == capped["count"]
    assert "next" not in empty["_links"]


def test_addon_fields_match_the_fact_sheet(sim: Simulator) -> None:
    addon = all_addons(sim)[0]
    assert {"id", "key", "name", "tagLine", "summary", "status", "programs", "_links", "_embedded"} <= set(
        addon
    )
    assert isinstance(addon["id"], str)
    assert {"distribution", "reviews", "vendor"} <= set(addon["_embedded"])
    assert {"averageStars", "count"} <= set(addon["_embedded"]["reviews"])
    assert "version" not in addon["_embedded"]
    for rel in ("self", "vendor", "versions", "distribution"):
        assert addon["_links"][rel]["href"].startswith("/marketplace/rest/2/")


def test_text_application_and_hosting_filter_the_collection(sim: Simulator) -> None:
    everything = all_addons(sim)
    word = everything[0]["name"].split()[-1]
    found = get_json(sim, f"{REST}/addons", text=word.lower(), limit=50)
    assert found["count"] == sum(
        1 for a in everything if word.lower() in f"{a['key']} {a['name']} {a['summary']}".lower()
    )
    assert get_json(sim, f"{REST}/addons", hosting="server")["count"] == 0
    assert get_json(sim, f"{REST}/addons", hosting="cloud")["count"] == len(everything)
    confluence = get_json(sim, f"{REST}/addons", application="confluence", limit=50)["_embedded"]["addons"]
    assert all(
        any(
            c["application"] == "confluence"
            for c in get_json(sim, a["_links"]["self"]["href"], withVersion="true")["_embedded"]["version"][
                "compatibilities"
            ]
        )
        for a in confluence
    )


def test_with_version_embeds_the_latest_version(sim: Simulator) -> None:
    addon = all_addons(sim)[0]
    embedded = get_json(sim, addon["_links"]["self"]["href"], withVersion="true")["_embedded"]["version"]
    latest = get_json(sim, f"{addon['_links']['versions']['href']}/latest")
    assert embedded["name"] == latest["name"]
    assert embedded["buildNumber"] == latest["buildNumber"]


def test_private_apps_are_404_while_listed_ones_resolve(sim_uncertain: Simulator) -> None:
    sim = sim_uncertain  # app installs are in the Confluence audit logs only with a switch
    statuses = {
        key: sim.get(f"{REST}/addons/{quote(key, safe='')}").status_code for key in installed_keys(sim)
    }
    assert set(statuses.values()) == {200, 404}
    private = next(key for key, status in statuses.items() if status == 404)
    for suffix in ("", "/versions", "/versions/latest", "/distribution", "/privacy-and-security"):
        response = sim.get(f"{REST}/addons/{quote(private, safe='')}{suffix}")
        assert response.status_code == 404, suffix
        assert response.json()["status"] == 404
    assert private not in {a["key"] for a in all_addons(sim)}


def test_versions_page_newest_first_with_a_single_next_link(sim: Simulator) -> None:
    listing = the_listing_with_many_versions(sim)
    pages = every_page(sim, listing["_links"]["versions"]["href"])
    builds = [v["buildNumber"] for page in pages for v in page["_embedded"]["versions"]]
    assert len(pages) == 3
    assert isinstance(pages[0]["_links"]["next"], dict)
    assert builds == sorted(builds, reverse=True)
    assert len(builds) == pages[0]["count"] == 25


def test_a_version_is_found_by_latest_name_and_build(sim: Simulator) -> None:
    listing = the_listing_with_many_versions(sim)
    versions = listing["_links"]["versions"]["href"]
    latest = get_json(sim, f"{versions}/latest")
    assert get_json(sim, f"{versions}/name/{latest['name']}")["buildNumber"] == latest["buildNumber"]
    assert get_json(sim, f"{versions}/build/{latest['buildNumber']}")["name"] == latest["name"]
    assert sim.get(f"{versions}/name/0.0.0-none").status_code == 404
    assert sim.get(f"{versions}/build/1").status_code == 404
    assert {"name", "buildNumber", "status", "release", "deployment", "_links"} <= set(latest)
    assert len(latest["release"]["date"]) == len("2026-05-02")


def test_connect_versions_declare_their_scopes_as_their_descriptor_does(sim: Simulator) -> None:
    connect = [
        v
        for a in all_addons(sim)
        for v in get_json(sim, a["_links"]["versions"]["href"], limit=50)["_embedded"]["versions"]
        if v["deployment"]["connect"]
    ]
    assert connect
    for version in connect:
        keys = [p["key"] for p in version["deployment"]["permissions"]]
        assert keys
        assert all({"key", "name", "description"} <= set(p) for p in version["deployment"]["permissions"])
        descriptor = sim.get(version["_embedded"]["artifact"]["_links"]["remote"]["href"]).json()
        assert sorted(s.upper() for s in descriptor["scopes"]) == sorted(keys)
        assert {"key", "baseUrl", "authentication", "scopes"} <= set(descriptor)


def test_a_scope_change_between_versions_is_visible(sim: Simulator) -> None:
    listing = the_listing_with_many_versions(sim)
    versions = get_json(sim, listing["_links"]["versions"]["href"], limit=50)["_embedded"]["versions"]
    scope_sets = [frozenset(p["key"] for p in v["deployment"]["permissions"]) for v in reversed(versions)]
    assert len(set(scope_sets)) > 1
    assert all(older <= newer for older, newer in itertools.pairwise(scope_sets))


def test_forge_keys_route_raw_and_percent_encoded(sim: Simulator) -> None:
    forge = next(a for a in all_addons(sim) if a["key"].startswith("ari:cloud:ecosystem::app/"))
    raw = get_json(sim, f"{REST}/addons/{forge['key']}")
    encoded = get_json(sim, f"{REST}/addons/{quote(forge['key'], safe='')}")
    assert raw["key"] == encoded["key"] == forge["key"]
    latest = get_json(sim, f"{REST}/addons/{forge['key']}/versions/latest")
    assert latest["deployment"]["cloud"] is True
    assert latest["deployment"]["connect"] is False
    assert "_embedded" not in latest


def test_graphql_gives_forge_scopes_per_version(sim: Simulator) -> None:
    forge = next(a for a in all_addons(sim) if a["key"].startswith("ari:cloud:ecosystem::app/"))
    body = {
        "query": "query GetMarketplaceAppListingById($appId: ID!) { ... }",
        "variables": {"appId": forge["id"]},
    }
    app = sim.http.post(f"{sim.url}/marketplace/gateway/api/graphql", json=body).json()["data"][
        "marketplaceApp"
    ]
    assert app["appKey"] == forge["key"]
    nodes = [e["node"] for e in app["cloudAppVersions"]["edges"]]
    assert nodes
    assert all(n["deployment"]["__typename"] == "MarketplaceCloudAppDeployment" for n in nodes)
    assert all(n["deployment"]["scopes"] and "id" in n["deployment"]["scopes"][0] for n in nodes)
    assert {n["version"] for n in nodes} == {
        v["name"]
        for v in get_json(sim, f"{REST}/addons/{forge['key']}/versions", limit=50)["_embedded"]["versions"]
    }


def test_graphql_bad_requests_and_unknown_apps(sim: Simulator) -> None:
    url = f"{sim.url}/marketplace/gateway/api/graphql"
    assert sim.http.post(url, content=b"{not json").status_code == 400
    assert sim.http.post(url, json=["x"]).status_code == 400
    missing = sim.http.post(url, json={"query": "q", "variables": {"appKey": "no.such.app"}}).json()
    assert missing["data"]["marketplaceApp"] is None
    assert missing["errors"]


def test_vendor_carries_its_trust_signals(sim: Simulator) -> None:
    vendors = [get_json(sim, a["_links"]["vendor"]["href"]) for a in all_addons(sim)]
    for vendor in vendors:
        assert {
            "name",
            "verifiedStatus",
            "isAtlassian",
            "programs",
            "vendorLinks",
            "supportDetails",
            "email",
        } <= set(vendor)
        assert vendor["programs"]["topVendor"]["status"] in {"approved", "not-requested"}
    assert any(v["isAtlassian"] for v in vendors)
    assert any(not v["isAtlassian"] for v in vendors)
    assert sim.get(f"{REST}/vendors/999999").status_code == 404


def test_apps_carry_cloud_fortified_and_bug_bounty_programs(sim: Simulator) -> None:
    programs = [a["programs"] for a in all_addons(sim)]
    assert any(p["cloudFortified"]["status"] == "approved" for p in programs)
    assert any(p["cloudFortified"]["status"] != "approved" for p in programs)
    assert any(p["bugBountyParticipant"]["cloud"]["status"] == "approved" for p in programs)


def test_distribution_matches_the_embedded_copy(sim: Simulator) -> None:
    addon = all_addons(sim)[0]
    assert get_json(sim, addon["_links"]["distribution"]["href"]) == addon["_embedded"]["distribution"]


def test_privacy_and_security_is_served_or_404_when_not_filled(sim: Simulator) -> None:
    statuses = {}
    for addon in all_addons(sim):
        response = sim.get(f"{addon['_links']['self']['href']}/privacy-and-security")
        statuses[addon["key"]] = response.status_code
        if response.status_code == 200:
            groups = {
                "dataAccessAndStorage",
                "thirdPartyInformation",
                "logDetails",
                "dataResidency",
                "dataRetention",
                "privacy",
                "security",
                "properties",
            }
            assert groups <= set(response.json())
    assert set(statuses.values()) == {200, 404}
    key = next(k for k, s in statuses.items() if s == 200)
    assert (
        sim.get(
            f"{REST}/addons/{quote(key, safe='')}/privacy-and-security", params={"state": "bogus"}
        ).status_code
        == 400
    )


def test_retired_paths_are_410(sim: Simulator) -> None:
    for path in ("/marketplace/rest/1/addons", "/marketplace/rest/2/vendors/1000/reporting/sales"):
        response = sim.get(path)
        assert response.status_code == 410, path
        assert response.json()["status"] == 410


@pytest.mark.parametrize(
    "query", ["offset=-1", "limit=-1", "offset=abc", "limit=99999999999999", "hosting=mainframe"]
)
def test_bad_paging_and_filters_are_400s(sim: Simulator, query: str) -> None:
    response = sim.get(f"{REST}/addons?{query}")
    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_unknown_paths_and_methods_answer_json(sim: Simulator) -> None:
    missing = sim.get(f"{REST}/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404
    assert sim.http.post(f"{sim.url}{REST}/addons").status_code == 405


def test_the_marketplace_reads_need_no_credentials_and_ignore_bad_ones(sim: Simulator) -> None:
    response = sim.get(f"{REST}/addons", headers={"Authorization": "Basic !!!"})
    assert response.status_code == 200


@pytest.fixture(scope="module")
def hostile_sim() -> Iterator[Simulator]:
    simulator = Simulator("tiny", hostile=True)
    yield simulator
    simulator.stop()


def test_hostile_vendor_text_is_served_verbatim_as_json(hostile_sim: Simulator) -> None:
    addons = all_addons(hostile_sim)
    names = [a["name"] for a in addons]
    assert any("<" in n or "\u202e" in n or len(n) >= 10_000 for n in names)
    vendors = [get_json(hostile_sim, a["_links"]["vendor"]["href"]) for a in addons]
    homepages = [v["vendorLinks"]["homePage"] for v in vendors]
    assert any(not h.startswith("https://www.") for h in homepages)
    response = hostile_sim.get(addons[0]["_links"]["self"]["href"])
    assert response.headers["content-type"].startswith("application/json")


def test_a_rate_limit_fault_for_the_marketplace_answers_429_with_retry_after(fresh_sim: Simulator) -> None:
    fresh_sim.fault(
        "rate_limit", site="marketplace", path="/rest/2/addons", times=1, params={"retry_after": 7}
    )
    limited = fresh_sim.get("/marketplace/rest/2/addons")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert fresh_sim.get("/marketplace/rest/2/addons").status_code == 200
