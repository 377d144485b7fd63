"""Run the real console (``appgov serve``) in a subprocess against a simulator, and talk to it as a
signed-in user over real HTTP."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session

from appgov.storage.db import make_engine, session_factory
from support.simulator import Simulator

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def console_env(sim: Simulator, data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """Everything the console needs to talk to the simulator as if it were Atlassian Cloud."""
    env = {
        **os.environ,
        "APPGOV_DATA_DIR": str(data_dir),
        "APPGOV_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "APPGOV_ALLOWED_HOSTS": sim.url.split("//", 1)[1],
        "APPGOV_MARKETPLACE_URL": sim.state["marketplace_url"],
        "APPGOV_ATLASSIAN_AUTH_URL": sim.state["auth_url"],
        "APPGOV_ATLASSIAN_API_URL": sim.state["api_url"],
        "APPGOV_ATLASSIAN_ADMIN_URL": sim.state["api_url"],
        "APPGOV_ATLASSIAN_CLIENT_ID": sim.state["oauth_client"]["client_id"],
        "APPGOV_ATLASSIAN_CLIENT_SECRET": sim.state["oauth_client"]["client_secret"],
        **extra,
    }
    if sim.state["certificate"]:
        env["APPGOV_CA_BUNDLE"] = sim.state["certificate"]
    env.pop("APPGOV_FAULT_POINT", None)
    return env


def console_simulator(port: int, profile: str = "tiny", **options: Any) -> Simulator:
    """A simulator whose OAuth client has the console on ``port`` as its registered callback."""
    callback = f"http://127.0.0.1:{port}/integrations/atlassian/callback"
    return Simulator(profile, extra=["--redirect-uri", callback], **options)


class Console:
    """``appgov serve`` on a free port, with its own data directory and an administrator."""

    def __init__(self, sim: Simulator, port: int | None = None, data_dir: Path | None = None, **env: str):
        self.sim = sim
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="appgov-console-test-"))
        self.env = console_env(sim, self.data_dir, self.port, **env)
        self.run_cli("users", "create-admin", ADMIN_EMAIL, "--name", "Ada Admin", stdin=ADMIN_PASSWORD + "\n")
        self.log_path = self.data_dir / "console.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def run_cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "appgov", *args],
            env=self.env, input=stdin, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        return done

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appgov", "serve", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                httpx.get(f"{self.url}/login", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.1)  # polling for the server to listen, not a timing assumption
        raise AssertionError(f"the console did not start:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, follow_redirects=False)

    def sign_in(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> SignedIn:
        client = self.client()
        page = client.get("/login")
        form = {"email": email, "password": password, "csrf_token": csrf_of(page.text)}
        response = client.post("/login", data=form)
        assert response.status_code == 303, response.text[:500]
        return SignedIn(client, client.get("/api/v1/session").json()["csrf_token"])


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class SignedIn:
    """A signed-in client: form posts and API calls carry the session's CSRF token."""

    def __init__(self, client: httpx.Client, csrf_token: str) -> None:
        self.client, self.csrf_token = client, csrf_token

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post_form(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf_token})

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf_token, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


@contextmanager
def console_db(console: Console) -> Iterator[Session]:
    """A transaction on the console's own database (SQLite or PostgreSQL), to read what it stored or
    to seed it; committed on a clean exit."""
    url = console.env.get("APPGOV_DATABASE_URL") or f"sqlite:///{console.data_dir / 'appgov.db'}"
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()
