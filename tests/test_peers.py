"""The popular third-party Atlassian clients, unchanged, read the simulator and get the ground truth.

Each tool runs in its own cached virtualenv (``support.peers``) against a ``small`` simulator over
HTTPS with a site admin's API token. What it read must equal ``/_sim/ground-truth`` (count and
digest of the natural keys), except where the tool has a documented defect (docs/simulator/peers.md): each
exception is written below with its reason and checked by its own, exact rule, so any other
mismatch still fails. Data sets a tool reads with one request per item (role actors per project
and role, memberships per user) are read from a ``tiny`` simulator to keep the run short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from appgov_sim.groundtruth import jira_sets
from appgov_sim.tenant.generate import generate, natural_digest
from appgov_sim.tenant.model import Site, Switches
from support.peers import PEERS, driver_config, ensure_venv, https_simulator, run_driver, trust_certificate
from support.simulator import Simulator

pytestmark = pytest.mark.peers

# singer-io reads users only as members of the groups in its `groups` setting: its defaults (most
# of which do not exist on a Cloud site and answer 404, which it skips) plus two real groups
SINGER_GROUPS = [
    "jira-administrators",
    "jira-software-users",
    "jira-core-users",
    "jira-users",
    "users",
    "site-admins",
    "engineering-all",
]
PYCONTRIBS_USER_PAGE = 100  # the page size pycontribs asks user/search for when maxResults=0


@dataclass(frozen=True)
class Tenant:
    """The served tenant's natural keys, for the defects whose expected subset needs the keys.

    Regenerated from (profile, seed, hostile); the fixture checks every digest against the
    simulator's own ground truth, so it cannot drift from what is served.
    """

    site: Site
    keys: dict[str, list[str]]


Defect = Callable[[list[str], Tenant], None]


def pycontribs_reads_one_page_of_users(keys: list[str], tenant: Tenant) -> None:
    """search_users(maxResults=0) reads user/search in batches, but user/search is a bare list and
    pycontribs takes a bare list as the last page: it stops after the first 100 users (§5)."""
    assert len(keys) == min(PYCONTRIBS_USER_PAGE, len(tenant.keys["users"]))
    assert len(set(keys)) == len(keys)
    assert set(keys) <= set(tenant.keys["users"])


def singer_reads_users_as_members_of_its_groups(keys: list[str], tenant: Tenant) -> None:
    """The users stream is group/member of each configured group, one record per membership, so
    users outside those groups are missing and a user in two of them comes twice (§1)."""
    expected = [m for g in tenant.site.groups if g.name in SINGER_GROUPS for m in g.members]
    assert sorted(keys) == sorted(expected)


@dataclass(frozen=True)
class Expectation:
    exact: tuple[str, ...]  # read from `small`; must equal the ground truth
    exact_on_tiny: tuple[str, ...] = ()  # one request per item: read from `tiny`; must equal it
    defects: dict[str, Defect] = field(default_factory=dict)  # read from `small`; checked by the rule
    server_info: bool = False  # also reports serverInfo as it parsed it


# Data sets missing from a tool's row are ones it cannot read at all (docs/simulator/peers.md§5).
EXPECTED: dict[str, Expectation] = {
    # everything, including the plugin manager and Confluence
    "atlassian-python-api": Expectation(
        exact=(
            "users",
            "groups",
            "memberships",
            "projects",
            "project_roles",
            "permission_schemes",
            "permission_grants",
            "fields",
            "application_roles",
            "audit_records",
            "apps",
            "confluence_groups",
            "confluence_group_members",
            "confluence_apps",
        ),
        exact_on_tiny=("project_role_actors",),
        server_info=True,
    ),
    # no plugin manager; permissionschemes() takes no expand, so no grants; groups and memberships
    # need the group picker (test_pycontribs_reads_groups_and_memberships_through_the_group_picker)
    "jira": Expectation(
        exact=(
            "projects",
            "project_roles",
            "permission_schemes",
            "fields",
            "application_roles",
            "audit_records",
        ),
        exact_on_tiny=("project_role_actors",),
        defects={"users": pycontribs_reads_one_page_of_users},
        server_info=True,
    ),
    # no groups, memberships, fields, audit, schemes, application roles or plugin manager
    "tap-jira": Expectation(
        exact=("projects", "project_roles"),
        defects={"users": singer_reads_users_as_members_of_its_groups},
    ),
    # no audit stream, no plugin manager; memberships only through users_groups_detailed (per user)
    "airbyte-source-jira": Expectation(
        exact=(
            "users",
            "groups",
            "projects",
            "project_roles",
            "permission_schemes",
            "fields",
            "application_roles",
        ),
        exact_on_tiny=("memberships",),
    ),
}


@pytest.fixture(scope="module")
def small() -> Iterator[Simulator]:
    simulator = https_simulator("small")
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def tiny() -> Iterator[Simulator]:
    simulator = https_simulator("tiny")
    yield simulator
    simulator.stop()


def served_tenant(sim: Simulator) -> Tenant:
    truth = sim.ground_truth()
    site = generate(truth["profile"], truth["seed"], truth["hostile"]).site("acme")
    assert site is not None
    keys = jira_sets(site, Switches())
    served = truth["sites"]["acme"]["products"]["jira"]
    assert {name: natural_digest(k) for name, k in keys.items()} == {
        name: entry["digest"] for name, entry in served.items()
    }
    return Tenant(site, keys)


def read_with(peer_name: str, sim: Simulator, sets: list[str]) -> dict[str, Any]:
    """Run the tool's driver against ``sim``; every asked-for set must be read without an error."""
    peer = PEERS[peer_name]
    ensure_venv(peer)
    trust_certificate(peer, Path(sim.state["certificate"]))
    extra = {"groups": SINGER_GROUPS} if peer_name == "tap-jira" else {}
    run = run_driver(peer, driver_config(sim, sets, **extra))
    assert run.errors == {}, f"{peer_name} failed to read: {run.errors}"
    assert sorted(run.data) == sorted(sets)
    return run.data


def mismatches(data: dict[str, Any], sets: tuple[str, ...], sim: Simulator) -> list[str]:
    """Data sets whose keys differ from the ground truth (count or digest), described."""
    products = sim.ground_truth()["sites"]["acme"]["products"]
    found = []
    for name in sets:
        product, _, truth_name = name.partition("_") if name.startswith("confluence_") else ("jira", "", name)
        truth = products[product][truth_name]
        keys = data[name]
        if len(keys) != truth["count"] or natural_digest(keys) != truth["digest"]:
            found.append(f"{name}: read {len(keys)} ({len(set(keys))} distinct), truth {truth['count']}")
    return found


@pytest.mark.parametrize("peer_name", list(EXPECTED))
def test_peer_reads_every_data_set_it_supports_as_the_ground_truth_has_it(
    peer_name: str, small: Simulator, request: pytest.FixtureRequest
) -> None:
    expected = EXPECTED[peer_name]
    sets = [*expected.exact, *expected.defects, *(["server_info"] if expected.server_info else [])]
    data = read_with(peer_name, small, sets)
    wrong = mismatches(data, expected.exact, small)
    if expected.exact_on_tiny:
        tiny: Simulator = request.getfixturevalue("tiny")
        tiny_data = read_with(peer_name, tiny, list(expected.exact_on_tiny))
        wrong += mismatches(tiny_data, expected.exact_on_tiny, tiny)
    assert wrong == [], f"{peer_name} read something other than the ground truth: {wrong}"

    if expected.defects:
        tenant = served_tenant(small)
        for name, defect in expected.defects.items():
            defect(data[name], tenant)
    if expected.server_info:
        assert data["server_info"] == {
            "baseUrl": small.site_url("acme"),
            "deploymentType": "Cloud",
            "versionNumbers": [1001, 0, 0],
        }


def test_pycontribs_reads_groups_and_memberships_through_the_group_picker(small: Simulator) -> None:
    data = read_with("jira", small, ["groups", "memberships"])
    assert mismatches(data, ("groups", "memberships"), small) == []
