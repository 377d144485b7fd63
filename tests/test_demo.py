"""``appgov demo``: the simulator and the console, two sites connected through the real consent flow,
and a restart that keeps everything (the simulator's grants included)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from appgov.demo.forms import form_posting_to
from support.console import free_port

BANNER = re.compile(
    r"appgov is running at (?P<url>\S+)\s+Sign in as (?P<email>\S+) with password (?P<password>\S+)"
)


def run_demo(data_dir: Path, port: int, sim_port: int) -> tuple[subprocess.Popen[str], re.Match[str], Path]:
    log_path = data_dir.parent / f"demo-{time.monotonic_ns()}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "appgov", "demo", "--port", str(port), "--sim-port", str(sim_port),
         "--data-dir", str(data_dir), "--profile", "tiny"],
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = BANNER.search(" ".join(log_path.read_text().split()))
        if found:
            return process, found, log_path
        assert process.poll() is None, log_path.read_text()
        time.sleep(0.2)  # waiting for the demo to print its banner
    process.kill()
    raise AssertionError(f"no banner:\n{log_path.read_text()}")


def signed_in(url: str, email: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    page = client.get("/login")
    form = form_posting_to(page.text, "/login")
    assert (
        client.post("/login", data={**form.fields, "email": email, "password": password}).status_code == 303
    )
    return client


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=60)


def test_demo_connects_two_sites_through_the_consent_and_a_restart_keeps_them(tmp_path: Path) -> None:
    data_dir, port, sim_port = tmp_path / "demo", free_port(), free_port()
    process, banner, log_path = run_demo(data_dir, port, sim_port)
    try:
        assert "Could not connect" not in log_path.read_text()
        client = signed_in(banner["url"], banner["email"], banner["password"])
        domains = client.get("/api/v1/domains").json()
        assert sorted(d["name"] for d in domains) == ["acme", "acme-wiki"]
        assert all(d["first_connected_by"] == banner["email"] for d in domains)
    finally:
        stop(process)
    assert_goes_away(f"http://127.0.0.1:{sim_port}/")  # the simulator goes down with the demo

    again, second_banner, log_path = run_demo(data_dir, port, sim_port)
    try:
        assert second_banner["password"] == banner["password"]
        assert "Connecting" not in log_path.read_text()  # nothing to connect again
        client = signed_in(second_banner["url"], second_banner["email"], second_banner["password"])
        assert len(client.get("/api/v1/domains").json()) == 2
    finally:
        stop(again)


def assert_goes_away(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=5)
        except httpx.TransportError:
            return
        time.sleep(0.2)  # the simulator's own graceful shutdown, with a deadline
    raise AssertionError(f"{url} still answers 30 s after the demo stopped")
