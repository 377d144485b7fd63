"""The demo, end to end: simulator, console, demo admin, two sites connected through the real flow."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console
from sqlalchemy import select

from appgov.demo.launcher import demo_settings, ensure_admin, start_simulator
from appgov.demo.walkthrough import Walkthrough, WalkthroughError
from appgov.runtime import Runtime
from appgov.storage.models import Domain
from appgov.web.app import create_app

# both products on one site, Confluence alone on the other; the Jira-only site (a Free plan, without
# an audit log) is left for the user to add by hand
DEMO_SITES = ("acme", "acme-wiki")
say = Console(stderr=True, highlight=False)


def run_demo(port: int, sim_port: int, data_dir: Path, profile: str) -> None:
    console_url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    say.print(f"Starting the Atlassian Cloud simulator ({profile} tenant) on port {sim_port}…")
    sim = start_simulator(data_dir, sim_port, profile, console_url)
    try:
        runtime = Runtime.start(demo_settings(data_dir, console_url, sim.state))
        admin = ensure_admin(runtime, data_dir)
        app = create_app(runtime, background=True)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")
        )
        helper = threading.Thread(
            target=_connect_when_up, args=(server, runtime, console_url, sim.state, admin), daemon=True
        )
        helper.start()
        server.run()
    finally:
        sim.stop()


def _connect_when_up(
    server: uvicorn.Server,
    runtime: Runtime,
    console_url: str,
    sim_state: dict[str, Any],
    admin: tuple[str, str],
) -> None:
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or server.should_exit:
            return
        time.sleep(0.05)  # waiting for uvicorn to listen
    with runtime.sessions() as session:
        connected = set(session.scalars(select(Domain.site_url)))
    walkthrough = Walkthrough(console_url, sim_state, admin)
    try:
        walkthrough.sign_in()
        for site in (s for s in sim_state["sites"] if s["name"] in DEMO_SITES):
            if site["base_url"] not in connected:
                say.print(f"Connecting {site['name']} through the consent flow…")
                walkthrough.connect(site["name"])
    except WalkthroughError as err:
        say.print(f"[red]Could not connect the demo sites:[/red] {err}")
    finally:
        walkthrough.close()
    email, password = admin
    say.print(
        f"\n[bold green]appgov is running at {console_url}[/bold green]\n"
        f"Sign in as [bold]{email}[/bold] with password [bold]{password}[/bold]\n"
        f"(the first syncs run in the background; Ctrl-C stops the console and the simulator)\n"
    )
