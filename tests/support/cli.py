"""Run the real ``appgov`` command line in a subprocess against a simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support.simulator import Simulator


def appgov(
    sim: Simulator,
    data_dir: Path,
    *args: str,
    fault: str | None = None,
    stdin: str | None = None,
    **settings: str,
) -> subprocess.CompletedProcess[str]:
    """``settings``: more environment, e.g. ``APPGOV_DATABASE_URL``."""
    env = {
        **os.environ,
        "APPGOV_DATA_DIR": str(data_dir),
        "APPGOV_ALLOWED_HOSTS": sim.url.split("//", 1)[1],
        "APPGOV_MARKETPLACE_URL": sim.state["marketplace_url"],
        "APPGOV_ATLASSIAN_ADMIN_URL": sim.state["api_url"],
        **settings,
    }
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


def add_site(
    sim: Simulator,
    data_dir: Path,
    site: str = "acme",
    who: str = "site_admin",
    token: str | None = None,
    **settings: str,
) -> subprocess.CompletedProcess[str]:
    account = sim.state["accounts"][who]
    return appgov(
        sim,
        data_dir,
        "domains",
        "add",
        sim.site_url(site),
        "--email",
        account["email"],
        "--api-token-stdin",
        stdin=(token if token is not None else account["api_token"]) + "\n",
        **settings,
    )
