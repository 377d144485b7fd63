"""Ground truth: the CLI and a running simulator agree; seeds differ; hostile changes names, not keys."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from support.simulator import Simulator


def cli_ground_truth(*args: str) -> dict[str, Any]:
    """``appgov-sim ground-truth ...`` run as a real process, its stdout parsed as JSON."""
    result = subprocess.run(
        [sys.executable, "-m", "appgov_sim", "ground-truth", *args],
        capture_output=True,
        check=True,
        text=True,
        timeout=120,
    )
    return dict(json.loads(result.stdout))


def digests(truth: dict[str, Any]) -> dict[str, str]:
    """Every data set's digest, keyed ``site/product/data set``."""
    return {
        f"{site}/{product}/{name}": entry["digest"]
        for site, body in truth["sites"].items()
        for product, sets in body["products"].items()
        for name, entry in sets.items()
    }


@pytest.fixture(scope="module")
def hostile_sim() -> Iterator[Simulator]:
    simulator = Simulator("tiny", hostile=True)
    yield simulator
    simulator.stop()


def test_the_cli_prints_what_a_running_simulator_serves(sim: Simulator) -> None:
    # two separate generations of tiny/1 (the CLI's and the simulator's) agree: generation is deterministic
    served = sim.ground_truth()
    assert cli_ground_truth("--profile", "tiny", "--seed", "1") == served
    asked = cli_ground_truth("--url", sim.url, "--control-token", sim.state["control_token"])
    assert asked == served
    assert served["sites"]["acme"]["products"]["jira"]["users"]["count"] > 0


def test_different_seeds_give_different_tenants() -> None:
    first = digests(cli_ground_truth("--profile", "tiny", "--seed", "1"))
    second = digests(cli_ground_truth("--profile", "tiny", "--seed", "2"))
    assert first.keys() == second.keys()
    assert first["acme/jira/users"] != second["acme/jira/users"]
    assert first["acme/jira/groups"] != second["acme/jira/groups"]


def test_a_hostile_tenant_keeps_every_key_and_changes_vendor_names(
    sim: Simulator, hostile_sim: Simulator
) -> None:
    plain, hostile = sim.ground_truth(), hostile_sim.ground_truth()
    assert hostile.pop("hostile") is True
    assert plain.pop("hostile") is False
    # a Confluence audit record's key digests what it says, app names included: the same records,
    # so the same count, under other keys
    for truth in (plain, hostile):
        for site in truth["sites"].values():
            if "confluence" in site["products"]:
                site["products"]["confluence"]["audit_records"].pop("digest")
    assert hostile == plain

    def plugins(simulator: Simulator) -> dict[str, str]:
        response = simulator.site_get("/rest/plugins/1.0/")
        assert response.status_code == 200
        return {p["key"]: p["name"] for p in response.json()["plugins"] if p["userInstalled"]}

    plain_names, hostile_names = plugins(sim), plugins(hostile_sim)
    assert plain_names.keys() == hostile_names.keys()
    changed = [key for key in plain_names if plain_names[key] != hostile_names[key]]
    assert changed
    assert all(plain_names[key] in hostile_names[key] for key in changed)  # the real name stays inside
