"""The Jira audit log over real HTTP: offset/limit paging, filter, from/to, and the Free-plan 403."""

from __future__ import annotations

from typing import Any

from support.jira_schema import jira_truth, truth_of
from support.simulator import Simulator

AUDIT = "/rest/api/3/auditing/record"
APP_SUMMARIES = {"App installed", "App upgraded", "App disabled", "App enabled", "App uninstalled"}


def records(sim: Simulator, **params: Any) -> list[dict[str, Any]]:
    response = sim.site_get(AUDIT, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["records"])


def test_audit_record_has_every_field_of_the_fact_sheet(sim: Simulator) -> None:
    page = sim.site_get(AUDIT, params={"limit": 2}).json()
    assert list(page) == ["offset", "limit", "total", "records"]
    assert (page["offset"], page["limit"]) == (0, 2)
    assert page["total"] == jira_truth(sim)["audit_records"]["count"]
    member_added = next(r for r in records(sim, filter="added") if r["summary"] == "User added to group")
    assert set(member_added) == {
        "id", "summary", "remoteAddress", "authorKey", "authorAccountId", "created", "category",
        "eventSource", "description", "objectItem", "changedValues", "associatedItems",
    }  # fmt: skip
    assert member_added["category"] == "group management"
    item = member_added["objectItem"]
    assert item["typeName"] == "USER"
    assert item["id"] == item["name"]  # a user is named by its account id
    assert item["parentName"] == "com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory"
    change = member_added["changedValues"][0]
    assert (change["fieldName"], change["changedFrom"]) == ("Membership", "")
    assert member_added["associatedItems"][0]["name"] == change["changedTo"]
    assert member_added["associatedItems"][0]["typeName"] == "GROUP"


def test_every_record_of_the_log_comes_back_once(sim: Simulator) -> None:
    every = records(sim)
    assert truth_of([str(r["id"]) for r in every]) == jira_truth(sim)["audit_records"]


def test_filter_app_finds_every_app_event_and_only_app_events(sim_uncertain: Simulator) -> None:
    """App changes are in the log only with the app_audit_records switch (not Atlassian's)."""
    sim = sim_uncertain
    apps = records(sim, filter="app")
    every = records(sim)
    app_events = [r for r in every if r["category"] == "apps"]
    assert app_events
    assert {r["id"] for r in app_events} <= {r["id"] for r in apps}
    assert {r["summary"] for r in app_events} <= {*APP_SUMMARIES, "OAuth 2.0 app authorized"}
    installed = next(r for r in app_events if r["summary"] == "App installed")
    assert installed["objectItem"]["typeName"] == "APP"
    assert installed["changedValues"][0]["fieldName"] == "Version"


def searchable(record: dict[str, Any]) -> str:
    """The fields ``filter`` reads, per the OpenAPI description of auditing/record."""
    item = record["objectItem"]
    parts = [record["summary"], record["category"], record["eventSource"], record["remoteAddress"]]
    parts += [item.get("name", ""), item.get("parentName", ""), item.get("typeName", "")]
    parts += [v for c in record["changedValues"] for v in (c["changedFrom"], c["changedTo"])]
    return " ".join(parts).lower()


def test_filter_terms_must_each_match_a_field(sim: Simulator) -> None:
    found = records(sim, filter="man ed")  # the OpenAPI's own example
    expected = [r for r in records(sim) if "man" in searchable(r) and "ed" in searchable(r)]
    assert found == expected
    assert any(r["summary"] == "User added to group" for r in found)
    assert records(sim, filter="app zzzz-not-anywhere") == []


def test_from_and_to_bound_the_creation_time(sim: Simulator) -> None:
    every = records(sim)
    middle = every[len(every) // 2]["created"]
    newer = records(sim, **{"from": middle})
    older = records(sim, to=middle)
    assert all(r["created"] >= middle for r in newer)
    assert all(r["created"] <= middle for r in older)
    assert len(newer) + len(older) >= len(every)


def test_a_malformed_from_is_a_400(sim: Simulator) -> None:
    response = sim.site_get(AUDIT, params={"from": "last tuesday"})
    assert response.status_code == 400
    assert "from" in response.json()["errors"]


def test_audit_log_of_a_site_on_free_plans_is_a_403(sim: Simulator) -> None:
    license_ = sim.site_get("/rest/api/3/instance/license", site="acme-eng").json()
    assert {app["plan"] for app in license_["applications"]} == {"FREE"}
    response = sim.site_get(AUDIT, site="acme-eng")
    assert response.status_code == 403
    assert response.json() == {
        "errorMessages": ["Audit logs are available when at least one Jira product is on a paid plan."],
        "errors": {},
    }


def test_audit_log_needs_administer_jira(sim: Simulator) -> None:
    response = sim.site_get(AUDIT, who="ordinary")
    assert response.status_code == 403
    assert response.json()["errorMessages"] == [
        "You are not authorized to perform this operation. Administrator access required."
    ]
