"""A sync killed (SIGKILL) at a named fault point resumes from its checkpoint and ends with exactly
the rows of an uninterrupted run (reliability SY-01, SY-02, SY-03)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from appgov.storage.models import Record, SyncRun
from appgov_sim.tenant.generate import natural_digest
from support.product import runtime_for
from support.simulator import Simulator


def appgov(
    sim: Simulator, data_dir: Path, *args: str, fault: str | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APPGOV_DATA_DIR": str(data_dir), "APPGOV_ALLOWED_HOSTS": sim.url.split("//", 1)[1]}
    env.pop("APPGOV_FAULT_POINT", None)
    if fault:
        env["APPGOV_FAULT_POINT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "appgov", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    "fault", ["after_page_commit:2", "after_upsert_before_commit:4", "after_page_commit:9"]
)
def test_sync_killed_mid_run_resumes_to_exactly_the_ground_truth(
    sim: Simulator, tmp_path: Path, fault: str
) -> None:
    admin = sim.state["accounts"]["site_admin"]
    added = appgov(
        sim,
        tmp_path,
        "domains",
        "add",
        sim.site_url(),
        "--email",
        admin["email"],
        "--api-token-stdin",
        stdin=admin["api_token"] + "\n",
    )
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


def test_export_apps_csv_neutralises_formulas_and_json_lists_every_app(
    sim: Simulator, tmp_path: Path
) -> None:
    admin = sim.state["accounts"]["site_admin"]
    appgov(
        sim,
        tmp_path,
        "domains",
        "add",
        sim.site_url(),
        "--email",
        admin["email"],
        "--api-token-stdin",
        stdin=admin["api_token"] + "\n",
    )
    assert appgov(sim, tmp_path, "sync", "acme").returncode == 0
    exported = appgov(sim, tmp_path, "export", "apps", "--format", "json")
    import json

    apps = json.loads(exported.stdout)
    truth = sim.ground_truth()["sites"]["acme"]["products"]
    assert len(apps) == truth["jira"]["apps"]["count"] + truth["confluence"]["apps"]["count"]
    assert set(apps[0]) == {
        "domain",
        "product",
        "key",
        "name",
        "vendor",
        "framework",
        "scopes",
        "version",
        "installed_by",
        "installed_at",
        "first_seen",
        "last_seen",
        "status",
    }
    csv_text = appgov(sim, tmp_path, "export", "apps", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("domain,product,key,name")
    assert all(not line.split(",")[3].startswith(("=", "+", "@")) for line in csv_text.splitlines()[1:])
