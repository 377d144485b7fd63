"""A sync's copy equals the simulator's ground truth, data set by data set, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from appgov.storage.models import App, DatasetState, Record
from appgov_sim.tenant.generate import natural_digest
from support.product import connect, runtime_for, sync
from support.simulator import Simulator

# ground-truth data set name -> appgov data set, per product ("": the app inventory, ``inventory``)
DATASETS = {
    "jira": {
        "users": "jira.users",
        "groups": "jira.groups",
        "memberships": "jira.group_members",
        "application_roles": "jira.application_roles",
        "permission_schemes": "jira.permission_schemes",
        "permission_grants": "jira.permission_grants",
        "project_roles": "jira.project_roles",
        "project_role_actors": "jira.project_role_actors",
        "projects": "jira.projects",
        "fields": "jira.fields",
        "audit_records": "jira.audit_records",
        "apps": "jira.apps",
        "forge_installations": "jira.forge_installations",
        "app_inventory": "",
    },
    "confluence": {
        "groups": "confluence.groups",
        "group_members": "confluence.group_members",
        "audit_records": "confluence.audit_records",
        "apps": "confluence.apps",
        "forge_installations": "confluence.forge_installations",
        "app_inventory": "",
    },
}


def inventory(runtime_sessions, domain_id: int, product: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The keys of the apps appgov holds installed on the product, whichever source listed them."""
    with runtime_sessions() as session:
        query = select(App.key).where(
            App.domain_id == domain_id, App.product == product, App.removed_at.is_(None)
        )
        return list(session.scalars(query))


def copied(runtime_sessions, domain_id: int, dataset: str) -> list[str]:  # type: ignore[no-untyped-def]
    with runtime_sessions() as session:
        query = select(Record.key).where(
            Record.domain_id == domain_id, Record.dataset == dataset, Record.removed_at.is_(None)
        )
        return list(session.scalars(query))


@pytest.mark.parametrize("site", ["acme", "acme-eng", "acme-wiki"])
def test_sync_copies_every_data_set_exactly(
    sim: Simulator, tmp_path: Path, database_url: str, site: str
) -> None:
    runtime = runtime_for(sim, tmp_path, database_url)
    domain = connect(runtime, sim, site)
    run = sync(runtime, domain)
    truth = sim.ground_truth()["sites"][site]["products"]
    assert run.status == "success", run.errors
    for product, sets in truth.items():
        for name, expected in sets.items():
            dataset = DATASETS[product][name]
            keys = (
                copied(runtime.sessions, domain.id, dataset)
                if dataset
                else inventory(runtime.sessions, domain.id, product)
            )
            if name == "audit_records" and site == "acme-eng":
                continue  # the Free plan has no audit log: checked as unavailable below
            assert (len(keys), natural_digest(keys)) == (expected["count"], expected["digest"]), dataset


def test_audit_log_on_a_free_plan_is_unavailable_with_atlassians_reason_not_empty(
    sim: Simulator, tmp_path: Path
) -> None:
    runtime = runtime_for(sim, tmp_path)
    domain = connect(runtime, sim, "acme-eng")
    sync(runtime, domain)
    with runtime.sessions() as session:
        state = session.get_one(DatasetState, (domain.id, "jira.audit_records"))
    assert state.status == "unavailable"
    assert state.reason


def test_second_sync_is_idempotent_and_reads_audit_logs_incrementally(sim: Simulator, tmp_path: Path) -> None:
    runtime = runtime_for(sim, tmp_path)
    domain = connect(runtime, sim)
    first = sync(runtime, domain)
    second = sync(runtime, domain)
    assert second.status == "success"
    assert second.counts == first.counts


def test_hostile_vendor_text_is_stored_exactly_except_nul_bytes(
    sim_hostile: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(sim_hostile, tmp_path, database_url)
    domain = connect(runtime, sim_hostile)
    run = sync(runtime, domain)
    assert run.status == "success", run.errors
    truth = sim_hostile.ground_truth()["sites"]["acme"]["products"]
    for product in ("jira", "confluence"):
        keys = copied(runtime.sessions, domain.id, f"{product}.apps")
        assert natural_digest(keys) == truth[product]["apps"]["digest"]
    served = {
        plugin["key"]: (plugin["name"], plugin["vendor"]["name"])
        for path in ("/rest/plugins/1.0/", "/wiki/rest/plugins/1.0/")
        for plugin in sim_hostile.site_get(path).json()["plugins"]
        if plugin["userInstalled"]
    }
    with runtime.sessions() as session:
        every = {app.key: (app.name, app.vendor) for app in session.scalars(select(App))}
    contexts = [f"ari:cloud:{p}::site/{sim_hostile.site()['cloud_id']}" for p in ("jira", "confluence")]
    gateway = sim_hostile.http.post(
        sim_hostile.site_url() + "/gateway/api/graphql",
        json={"query": "{ ecosystem { appInstallationsByContext { nodes { app { id name vendorName } } } } }",
              "variables": {"contexts": contexts, "first": 100}},
        headers=sim_hostile.basic(),
    ).json()["data"]["ecosystem"]["appInstallationsByContext"]["nodes"]  # fmt: skip
    served |= {node["app"]["id"]: (node["app"]["name"], node["app"]["vendorName"]) for node in gateway}
    stored = {key: pair for key, pair in every.items() if key in served}
    texts = [text for pair in served.values() for text in pair]
    assert any("\x00" in text for text in texts)
    assert any("\u202e" in text for text in texts)
    assert stored == {
        key: (name.replace("\x00", ""), vendor.replace("\x00", "")) for key, (name, vendor) in served.items()
    }
