"""Forge apps from both sources: appgov reads the plugin manager and the site's GraphQL gateway and
merges them by app key, so its inventory equals the simulator's ground truth wherever Forge apps
are listed (the ``forge_apps`` switch: gateway, upm, both), on SQLite and PostgreSQL; an app that
moves from one source to the other is neither removed nor installed; scopes and egress come from
the gateway where it answers them, from the Marketplace otherwise, and are unknown (None) else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from appgov.runtime import Runtime
from appgov.storage.models import App, AppEvent
from appgov_sim.tenant.generate import natural_digest
from support.product import connect, runtime_for, sync
from support.simulator import Simulator

FORGE = "ari:cloud:ecosystem::app/"
SETTINGS = ("gateway", "upm", "both")


@pytest.fixture(scope="module", params=SETTINGS)
def setting_sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    simulator = Simulator("tiny", extra=["--forge-apps", request.param])
    yield simulator
    simulator.stop()


def live_apps(runtime: Runtime, product: str | None = None) -> dict[tuple[str, str], App]:
    with runtime.sessions() as session:
        query = select(App).where(App.removed_at.is_(None))
        if product:
            query = query.where(App.product == product)
        return {(a.product, a.key): a for a in session.scalars(query)}


def test_the_inventory_equals_the_ground_truth_wherever_forge_apps_are_listed(
    setting_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = runtime_for(setting_sim, tmp_path, database_url)
    domain = connect(runtime, setting_sim, "acme")
    assert sync(runtime, domain).status == "success"
    truth = setting_sim.ground_truth()["sites"]["acme"]["products"]
    for product, sets in truth.items():
        keys = [key for _, key in live_apps(runtime, product)]
        assert (len(keys), natural_digest(keys)) == (
            sets["app_inventory"]["count"],
            sets["app_inventory"]["digest"],
        ), product
    forge = [a for a in live_apps(runtime).values() if a.key.startswith(FORGE)]
    assert forge
    assert all(a.framework == "forge" for a in forge)
    listed_by_gateway = setting_sim.ground_truth()["switches"]["forge_apps"] in ("gateway", "both")
    # the gateway names each Forge app's installer and its scopes; the plugin manager does neither
    assert {a.installed_source for a in forge} == ({"gateway"} if listed_by_gateway else {None})
    assert {a.scopes_source for a in forge} <= ({"gateway"} if listed_by_gateway else {"marketplace", None})
    assert all(a.scopes is not None for a in forge if a.scopes_source)
    assert all(a.scopes is None and a.egress is None for a in forge if a.scopes_source is None)


def events(runtime: Runtime) -> list[tuple[str, str]]:
    """The change log but for enabled and disabled: the gateway does not say whether a Forge app is
    enabled, so the plugin manager's first listing of a disabled one records that it is."""
    with runtime.sessions() as session:
        found = session.scalars(select(AppEvent).order_by(AppEvent.id))
        return [(e.kind, e.app_key) for e in found if e.kind not in ("enabled", "disabled")]


def test_an_app_moving_between_sources_is_neither_removed_nor_installed(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = runtime_for(fresh_sim, tmp_path)
    domain = connect(runtime, fresh_sim, "acme")
    assert sync(runtime, domain).status == "success"
    before = {key: (a.version, a.installed_by, a.installed_at) for key, a in live_apps(runtime).items()}
    for setting in ("upm", "both", "gateway", "upm", "gateway"):
        fresh_sim.control("PUT", "/switches", {"forge_apps": setting})
        assert sync(runtime, domain).status == "success", setting
        assert set(live_apps(runtime)) == set(before), setting
        assert events(runtime) == [], setting
    after = {key: (a.version, a.installed_by, a.installed_at) for key, a in live_apps(runtime).items()}
    assert after == before

    product, key = next(k for k in sorted(before) if k[1].startswith(FORGE))
    fresh_sim.control("DELETE", f"/sites/acme/apps/{product}/{quote(key, safe='')}")
    assert sync(runtime, domain).status == "success"
    assert events(runtime) == [("removed", key)]


def test_scopes_and_egress_are_unknown_when_neither_the_gateway_nor_the_marketplace_says(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    fresh_sim.control("PUT", "/switches", {"gateway_permissions": False})
    runtime = runtime_for(fresh_sim, tmp_path)
    assert sync(runtime, connect(runtime, fresh_sim, "acme")).status == "success"
    forge = [a for a in live_apps(runtime).values() if a.key.startswith(FORGE)]
    listed = [a for a in forge if a.marketplace is not None]
    private = [a for a in forge if a.marketplace is None]
    assert listed
    assert private
    assert {a.scopes_source for a in listed} == {"marketplace"}
    assert all(a.scopes is not None and a.egress is None for a in listed)
    assert all((a.scopes, a.egress, a.scopes_source) == (None, None, None) for a in private)


def test_one_gateway_request_per_product_reads_a_sites_forge_apps(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    runtime = runtime_for(fresh_sim, tmp_path)
    assert sync(runtime, connect(runtime, fresh_sim, "acme")).status == "success"
    log = fresh_sim.control("GET", "/log?limit=10000").json()
    # the Marketplace's GraphQL (Forge scopes of listings) is no site's
    graphql = [e for e in log if e["path"].endswith("/gateway/api/graphql") and e["site"] == "acme"]
    assert len(graphql) == 2  # Jira's and Confluence's contexts
    assert {e["auth"] for e in graphql} == {"basic"}
