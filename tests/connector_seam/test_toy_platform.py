"""A second platform through the seam: the toy platform's connector, registered like Atlassian's,
syncs through the unchanged engine and service, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from appgov.connectors import registry
from appgov.connectors.base import DomainError
from appgov.runtime import Runtime
from appgov.storage.models import DatasetState, Domain, Record, SyncRun
from appgov.sync.service import sync_domain
from connector_seam.toy import PLATFORM, TOKEN, Tenant, ToyConnector, ToyServer, register, settings, tenant

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def platform() -> Iterator[tuple[Tenant, ToyServer]]:
    state = tenant(teams=5, members=3)
    server = ToyServer(state)
    yield state, server
    server.stop()


@pytest.fixture
def connector() -> Iterator[ToyConnector]:
    yield register()
    registry.unregister(PLATFORM)


@pytest.fixture
def runtime(tmp_path: Path, database_url: str) -> Runtime:
    return Runtime.start(settings(tmp_path, database_url))


@pytest.fixture
def domain_id(runtime: Runtime, platform: tuple[Tenant, ToyServer]) -> int:
    with runtime.sessions.begin() as session:
        domain = Domain(
            platform=PLATFORM,
            site_url=platform[1].url,
            name="toy",
            products=[],
            created_at=runtime.clock.now(),
            created_by="tester",
            created_via="cli",
        )
        session.add(domain)
        session.flush()
        return domain.id


def sync(runtime: Runtime, domain_id: int) -> SyncRun:
    return asyncio.run(sync_domain(runtime, domain_id))


def killed_sync(runtime: Runtime, domain_id: int, fault: str) -> subprocess.CompletedProcess[str]:
    """The sync in a process of its own, killed (SIGKILL) at the named fault point."""
    env = {**os.environ, "APPGOV_FAULT_POINT": fault, "PYTHONPATH": str(TESTS)}
    settings = runtime.settings
    args = [sys.executable, "-m", "connector_seam.sync_once", str(settings.data_dir), settings.database_url]
    args.append(str(domain_id))
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)


def live(runtime: Runtime, domain_id: int, dataset: str) -> list[str]:
    with runtime.sessions() as session:
        keys = session.scalars(
            select(Record.key).where(
                Record.domain_id == domain_id, Record.dataset == dataset, Record.removed_at.is_(None)
            )
        )
        return sorted(keys)


def members_of(state: Tenant) -> list[str]:
    return sorted(f"{team}:{member}" for team, members in state.teams.items() for member in members)


def test_the_toy_platform_syncs_its_paged_and_child_streams_through_the_unchanged_engine(
    runtime: Runtime, platform: tuple[Tenant, ToyServer], connector: ToyConnector, domain_id: int
) -> None:
    state, _ = platform
    run = sync(runtime, domain_id)
    assert run.status == "success"
    assert live(runtime, domain_id, "toy.teams") == sorted(state.teams)
    assert live(runtime, domain_id, "toy.members") == members_of(state)
    assert state.requests["/api/teams?page=3"] == 1  # five teams, two a page: every page was read
    assert sorted(connector.complete_passes) == ["toy.members", "toy.teams"]


def test_a_data_set_the_platform_refuses_is_recorded_unavailable_with_its_reason(
    runtime: Runtime, platform: tuple[Tenant, ToyServer], connector: ToyConnector, domain_id: int
) -> None:
    run = sync(runtime, domain_id)
    with runtime.sessions() as session:
        billing = session.get_one(DatasetState, (domain_id, "toy.billing"))
    assert (billing.status, billing.reason) == ("unavailable", "billing is not on this plan")
    assert run.counts["toy.billing"] == "unavailable"
    assert run.counts["toy.teams"] == 5
    assert "toy.billing" not in connector.complete_passes  # no post-pass hook for a refused data set


def test_a_toy_sync_killed_mid_way_resumes_from_its_checkpoint_to_the_same_rows(
    runtime: Runtime, platform: tuple[Tenant, ToyServer], connector: ToyConnector, domain_id: int
) -> None:
    state, _ = platform
    killed = killed_sync(runtime, domain_id, "after_page_commit:4")  # teams done, one member page in
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert live(runtime, domain_id, "toy.teams") == sorted(state.teams)
    assert len(live(runtime, domain_id, "toy.members")) < len(members_of(state))

    run = sync(runtime, domain_id)
    with runtime.sessions() as session:
        runs = list(session.scalars(select(SyncRun).where(SyncRun.domain_id == domain_id)))
    assert [r.status for r in runs] == ["success"]  # the killed run was resumed, not restarted
    assert run.id == runs[0].id
    assert live(runtime, domain_id, "toy.members") == members_of(state)
    assert state.requests["/api/teams?page=1"] == 1  # the finished stream was not read again
    assert connector.complete_passes == ["toy.members"]  # teams' pass closed in the killed process


def test_toy_rows_are_soft_deleted_only_after_a_complete_pass(
    runtime: Runtime, platform: tuple[Tenant, ToyServer], connector: ToyConnector, domain_id: int
) -> None:
    state, _ = platform
    assert sync(runtime, domain_id).status == "success"
    del state.teams["t5"]  # on the last page of teams

    killed = killed_sync(runtime, domain_id, "after_page_commit:1")  # teams' first page only
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "t5" in live(runtime, domain_id, "toy.teams")  # an incomplete pass deletes nothing

    assert sync(runtime, domain_id).status == "success"
    assert live(runtime, domain_id, "toy.teams") == ["t1", "t2", "t3", "t4"]
    assert live(runtime, domain_id, "toy.members") == members_of(state)
    with runtime.sessions() as session:
        gone = session.scalar(select(Record).where(Record.domain_id == domain_id, Record.key == "t5"))
    assert gone is not None  # kept,
    assert gone.removed_at is not None  # marked removed


def test_the_registry_gives_the_toy_connectors_probe_which_checks_the_token_on_the_platform(
    platform: tuple[Tenant, ToyServer], connector: ToyConnector
) -> None:
    url = platform[1].url
    found = registry.connector(PLATFORM)
    assert found is connector
    assert [f.name for f in found.ui.credential_fields] == ["token"]
    assert asyncio.run(found.probe(url, {"token": TOKEN}, False)).products == []
    with pytest.raises(DomainError, match="refused the token"):
        asyncio.run(found.probe(url, {"token": "wrong"}, False))
