"""``appgov demo``: the simulator and the console, two sites connected through the real consent flow,
a banner that names the account, the token and the tester's commands (each of which works), the ready
email in the demo's own mailbox, and a restart that keeps everything (the simulator's grants included)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from appgov.demo.forms import form_posting_to
from appgov.demo.mailbox import read_mailbox
from appgov.demo.tester import DemoSimulatorControl
from appgov.demo.walkthrough import Walkthrough
from support.console import free_port

BANNER = re.compile(
    r"appgov is running at (?P<url>\S+)\s+Sign in as (?P<email>\S+) with password (?P<password>\S+)"
    r".*?Add the third site, (?P<site>[\w-]+):"
    r".*?sign-in use (?P<atlassian_email>\S+) / (?P<atlassian_password>\S+),"
    r".*?the API key of \S+: (?P<api_token>\S+)"
    r".*?the demo's mailbox: (?P<mailbox>\S+)/ "
)
TESTER_COMMANDS = (
    "expire-grant",
    "install-app acme",
    "remove-app acme KEY",
    "slow acme",
    "fail acme",
    "heal",
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


def test_demo_connects_two_sites_guides_the_third_catches_its_mail_and_a_restart_keeps_them(
    tmp_path: Path,
) -> None:
    data_dir, port, sim_port = tmp_path / "demo", free_port(), free_port()
    process, banner, log_path = run_demo(data_dir, port, sim_port)
    try:
        output = " ".join(log_path.read_text().split())
        assert "Could not connect" not in output
        client = signed_in(banner["url"], banner["email"], banner["password"])
        domains = client.get("/api/v1/domains").json()
        assert sorted(d["name"] for d in domains) == ["acme", "acme-wiki"]
        assert all(d["first_connected_by"] == banner["email"] for d in domains)
        for command in TESTER_COMMANDS:
            assert f"appgov demo --data-dir {data_dir} {command}" in output

        assert_the_printed_account_and_token_add_the_third_site(banner, data_dir)
        assert_the_ready_email_reaches_the_mailbox(Path(banner["mailbox"]), banner["site"])
        assert_the_tester_commands_change_the_simulator(data_dir)
    finally:
        stop(process)
    assert_goes_away(f"http://127.0.0.1:{sim_port}/")  # the simulator goes down with the demo

    again, second_banner, log_path = run_demo(data_dir, port, sim_port)
    try:
        assert second_banner["password"] == banner["password"]
        assert "Connecting" not in log_path.read_text()  # nothing to connect again
        client = signed_in(second_banner["url"], second_banner["email"], second_banner["password"])
        assert len(client.get("/api/v1/domains").json()) == 3  # the two, and the one added by hand
    finally:
        stop(again)


def assert_the_printed_account_and_token_add_the_third_site(banner: re.Match[str], data_dir: Path) -> None:
    """The banner's Atlassian account and API token work in the console's own Add flow."""
    sim = DemoSimulatorControl.from_state_file(data_dir / "simulator" / "state.json")
    printed = {"email": banner["atlassian_email"], "password": banner["atlassian_password"]}
    account = next(a for a in sim.state["accounts"].values() if a["email"] == printed["email"])
    assert account["password"] == printed["password"]
    assert account["api_token"] == banner["api_token"]
    walkthrough = Walkthrough(banner["url"], sim.state, (banner["email"], banner["password"]))
    try:
        walkthrough.sign_in()
        walkthrough.connect(banner["site"])
    finally:
        walkthrough.close()


def assert_the_ready_email_reaches_the_mailbox(mailbox: Path, site: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        subjects = [str(message["Subject"]) for _, message in read_mailbox(mailbox)]
        if f"appgov: {site} is ready" in subjects:
            assert "appgov: acme is ready" in subjects
            return
        time.sleep(0.2)  # waiting for the background sync and the mail sender, with a deadline
    raise AssertionError(f"no ready email for {site} in {mailbox}: {subjects}")


def assert_the_tester_commands_change_the_simulator(data_dir: Path) -> None:
    sim = DemoSimulatorControl.from_state_file(data_dir / "simulator" / "state.json")
    before = set(sim.installed_keys("acme", "jira"))
    installed = demo_command(data_dir, "install-app", "acme")
    (added,) = set(sim.installed_keys("acme", "jira")) - before
    assert added in installed
    demo_command(data_dir, "remove-app", "acme", added)
    assert set(sim.installed_keys("acme", "jira")) == before
    assert re.search(r"^[1-9]\d* tokens ended", demo_command(data_dir, "expire-grant"))
    assert "now answers 503" in demo_command(data_dir, "fail", "acme")
    demo_command(data_dir, "heal")


def demo_command(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "appgov", "demo", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def assert_goes_away(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=5)
        except httpx.TransportError:
            return
        time.sleep(0.2)  # the simulator's own graceful shutdown, with a deadline
    raise AssertionError(f"{url} still answers 30 s after the demo stopped")
