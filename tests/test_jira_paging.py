"""Jira's paged endpoints on the small tenant: the real page caps, at least three pages each, absolute
``nextPage`` links back on the simulator, and exactly the ground truth's records."""

from __future__ import annotations

from typing import Any

from support.jira_schema import jira_truth, truth_of
from support.simulator import Simulator


def walk_page_beans(
    sim: Simulator, path: str, params: dict[str, Any]
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Follow ``nextPage`` from the first page to the last; the values and every page seen."""
    response = sim.site_get(path, params=params)
    pages: list[dict[str, Any]] = []
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        if page["isLast"]:
            break
        assert page["nextPage"].startswith(sim.site_url() + path)
        response = sim.http.get(page["nextPage"], headers=sim.basic())
    return [value for page in pages for value in page["values"]], pages


def test_group_bulk_pages_every_group_at_the_50_cap(sim_small: Simulator) -> None:
    groups, pages = walk_page_beans(sim_small, "/rest/api/3/group/bulk", {"maxResults": 1000})
    assert len(pages) >= 3
    assert all(page["maxResults"] == 50 for page in pages)
    assert [page["startAt"] for page in pages] == [50 * i for i in range(len(pages))]
    assert pages[0]["total"] == len(groups)
    assert truth_of([g["groupId"] for g in groups]) == jira_truth(sim_small)["groups"]


def test_group_member_pages_the_120_member_group_at_the_50_cap(sim_small: Simulator) -> None:
    params = {"groupname": "engineering-all", "includeInactiveUsers": "true", "maxResults": 200}
    members, pages = walk_page_beans(sim_small, "/rest/api/3/group/member", params)
    assert len(members) == 120 == pages[0]["total"]
    assert [len(page["values"]) for page in pages] == [50, 50, 20]
    assert all(page["maxResults"] == 50 for page in pages)


def test_group_member_of_every_group_gives_the_ground_truth_memberships(sim_small: Simulator) -> None:
    groups, _ = walk_page_beans(sim_small, "/rest/api/3/group/bulk", {"maxResults": 50})
    memberships = []
    for group in groups:
        params = {"groupId": group["groupId"], "includeInactiveUsers": "true", "maxResults": 50}
        members, _ = walk_page_beans(sim_small, "/rest/api/3/group/member", params)
        memberships += [f"{group['groupId']}:{m['accountId']}" for m in members]
    assert truth_of(memberships) == jira_truth(sim_small)["memberships"]


def test_project_search_pages_every_project_at_the_100_cap(sim_small: Simulator) -> None:
    projects, pages = walk_page_beans(sim_small, "/rest/api/3/project/search", {"maxResults": 5000})
    assert len(pages) >= 3
    assert all(page["maxResults"] == 100 for page in pages)
    keys = [p["key"] for p in projects]
    assert keys == sorted(keys)  # orderBy=key by default
    assert truth_of([p["id"] for p in projects]) == jira_truth(sim_small)["projects"]


def test_audit_records_page_with_offset_and_the_1000_limit_cap(sim_small: Simulator) -> None:
    records: list[dict[str, Any]] = []
    offset, pages = 0, 0
    while True:
        response = sim_small.site_get("/rest/api/3/auditing/record", params={"offset": offset, "limit": 5000})
        assert response.status_code == 200
        page = response.json()
        assert (page["offset"], page["limit"]) == (offset, 1000)
        records += page["records"]
        pages += 1
        offset += page["limit"]
        if offset >= page["total"]:
            break
    assert pages >= 3
    created = [r["created"] for r in records]
    assert created == sorted(created, reverse=True)  # newest first
    assert truth_of([str(r["id"]) for r in records]) == jira_truth(sim_small)["audit_records"]
