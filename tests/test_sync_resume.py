"""A sync killed (SIGKILL) at a named fault point resumes from its checkpoint and ends with exactly
the rows of an uninterrupted run (reliability SY-01, SY-02, SY-03)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from appgov.storage.models import Record, SyncRun
from appgov_sim.tenant.generate import natural_digest
from support.cli import add_site, appgov
from support.product import runtime_for
from support.simulator import Simulator


@pytest.mark.parametrize(
    "fault", ["after_page_commit:2", "after_upsert_before_commit:4", "after_page_commit:9"]
)
def test_sync_killed_mid_run_resumes_to_exactly_the_ground_truth(
    sim: Simulator, tmp_path: Path, fault: str
) -> None:
    added = add_site(sim, tmp_path)
    assert added.returncode == 0, added.stderr

    killed = appgov(sim, tmp_path, "sync", "acme", fault=fault)
    assert killed.returncode == -signal.SIGKILL

    resumed = appgov(sim, tmp_path, "sync", "acme")
    assert resumed.returncode == 0, resumed.stderr

    runtime = runtime_for(sim, tmp_path)
    truth = sim.ground_truth()["sites"]["acme"]["products"]["jira"]
    with runtime.sessions() as session:
        runs = list(session.scalars(select(SyncRun)))
        users = list(session.scalars(select(Record.key).where(Record.dataset == "jira.users")))
        members = session.scalar(select(func.count()).where(Record.dataset == "jira.group_members"))
    assert [run.status for run in runs] == ["success"]  # the killed run was resumed, not restarted
    assert natural_digest(users) == truth["users"]["digest"]
    assert members == truth["memberships"]["count"]
