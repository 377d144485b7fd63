"""Start the bundled simulator for the demo and point appgov's settings at it."""

from __future__ import annotations

import ctypes
import json
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from appgov.accounts.permissions import Role
from appgov.accounts.users import create_user
from appgov.config import AtlassianSettings, Settings
from appgov.runtime import Runtime
from appgov.storage.models import User

DEMO_ADMIN = "demo@appgov.example"
DEFAULT_DATA_DIR = Path("var/demo")
CALLBACK_PATH = "/integrations/atlassian/callback"


class DemoError(Exception):
    pass


def die_with_parent() -> None:
    """A child process never outlives the one that started it (Linux ``PR_SET_PDEATHSIG``)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


@dataclass
class DemoSimulator:
    process: subprocess.Popen[bytes]
    state: dict[str, Any]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def start_simulator(data_dir: Path, port: int, profile: str, console_url: str) -> DemoSimulator:
    """The simulator with ``--data-dir`` (restarts keep its grants and tokens), and the console's
    callback registered as its OAuth client's redirect URI."""
    state_file = simulator_state_file(data_dir)
    sim_dir, log_path = state_file.parent, state_file.parent / "simulator.log"
    sim_dir.mkdir(parents=True, exist_ok=True)
    state_file.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "appgov_sim", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--profile", profile, "--seed", "1", "--data-dir", str(sim_dir), "--state-file", str(state_file),
        "--redirect-uri", console_url + CALLBACK_PATH,
    ]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603 (our own argv)
            command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
        )
    deadline = time.monotonic() + 120
    while not state_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise DemoError(f"the simulator did not start; see {log_path}:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.1)  # waiting for the simulator to write its state file
    return DemoSimulator(process, json.loads(state_file.read_text()), log_path)


def simulator_state_file(data_dir: Path) -> Path:
    """The simulator's URLs, accounts and secrets, as JSON (the tester's commands read it)."""
    return data_dir / "simulator" / "state.json"


def mailbox_folder(data_dir: Path) -> Path:
    """Where the demo's mail server writes what appgov sends, one ``.eml`` file per message."""
    return data_dir / "mailbox"


def demo_settings(
    data_dir: Path, console_url: str, sim_state: dict[str, Any], mail_port: int | None
) -> Settings:
    """The environment's settings, with every Atlassian URL on the simulator, and email to the demo's
    mailbox on ``mail_port`` (``None``: to the SMTP host the environment names)."""
    client = sim_state["oauth_client"]
    settings = Settings.from_env()
    if mail_port is not None:
        settings = replace(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=mail_port,
            smtp_user=None,
            smtp_password=None,
            smtp_starttls=False,
        )
    return replace(
        settings,
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'appgov.db'}",
        atlassian=AtlassianSettings(
            auth_url=sim_state["auth_url"],
            api_url=sim_state["api_url"],
            marketplace_url=sim_state["marketplace_url"],
            oauth_client_id=client["client_id"],
            oauth_client_secret=client["client_secret"],
        ),
        allowed_hosts=(sim_state["base_url"].split("//", 1)[1],),
        ca_bundle=sim_state["certificate"],
        public_url=console_url,
    )


def ensure_admin(runtime: Runtime, data_dir: Path) -> tuple[str, str]:
    """The demo administrator, created once with a random password kept (mode 0600) for re-runs."""
    password_file = data_dir / "demo-admin-password"
    with runtime.sessions.begin() as session:
        exists = session.query(User).filter_by(email=DEMO_ADMIN).one_or_none() is not None
        if exists and password_file.exists():
            return DEMO_ADMIN, password_file.read_text().strip()
        password = secrets.token_urlsafe(12)
        if exists:
            raise DemoError(f"{DEMO_ADMIN} exists but {password_file} is gone: use a fresh --data-dir")
        create_user(session, DEMO_ADMIN, "Demo Admin", password, runtime.clock.now(), role=Role.ADMIN)
    password_file.touch(mode=0o600)
    password_file.write_text(password + "\n")
    return DEMO_ADMIN, password
