"""The demo, end to end: simulator, mailbox, console, demo admin, two sites connected through the real
flow, and a banner that tells a newcomer what to do next, with the account and token to use."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console
from sqlalchemy import select

from appgov.demo.launcher import (
    DEFAULT_DATA_DIR,
    demo_settings,
    ensure_admin,
    mailbox_folder,
    simulator_state_file,
    start_simulator,
)
from appgov.demo.mailbox import DemoMailbox
from appgov.demo.walkthrough import Walkthrough, WalkthroughError
from appgov.runtime import Runtime
from appgov.storage.models import Domain
from appgov.web.app import create_app
from appgov.web.server import server_config

# both products on one site, Confluence alone on the other; the Jira-only site (a Free plan, without
# an audit log) is left for the user to add by hand
DEMO_SITES = ("acme", "acme-wiki")
say = Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)


def run_demo(port: int, sim_port: int, data_dir: Path, profile: str) -> None:
    console_url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    say.print(f"Starting the Atlassian Cloud simulator ({profile} tenant) on port {sim_port}…")
    sim = start_simulator(data_dir, sim_port, profile, console_url)
    # mail goes to the demo's own mailbox, unless the environment names a real SMTP server
    mailbox = None if os.environ.get("APPGOV_SMTP_HOST") else DemoMailbox(mailbox_folder(data_dir))
    try:
        if mailbox is not None:
            mailbox.start()
        runtime = Runtime.start(
            demo_settings(data_dir, console_url, sim.state, mailbox.port if mailbox else None)
        )
        admin = ensure_admin(runtime, data_dir)
        app = create_app(runtime, background=True)
        server = uvicorn.Server(server_config(app, runtime.settings, "127.0.0.1", port, log_level="warning"))
        helper = threading.Thread(
            target=_connect_when_up,
            args=(server, runtime, console_url, sim.state, admin, data_dir, mailbox is not None),
            daemon=True,
        )
        helper.start()
        server.run()
    finally:
        if mailbox is not None:
            mailbox.stop()
        sim.stop()


def _connect_when_up(
    server: uvicorn.Server,
    runtime: Runtime,
    console_url: str,
    sim_state: dict[str, Any],
    admin: tuple[str, str],
    data_dir: Path,
    mail_caught: bool,
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
    say.print(banner(console_url, admin, sim_state, data_dir, mail_caught))


def banner(
    console_url: str, admin: tuple[str, str], sim_state: dict[str, Any], data_dir: Path, mail_caught: bool
) -> str:
    """What a newcomer does next, in order, with the simulated Atlassian account and API token to use
    and a command for each path to try."""
    email, password = admin
    atlassian = sim_state["accounts"]["site_admin"]
    third = ", ".join(s["name"] for s in sim_state["sites"] if s["name"] not in DEMO_SITES)
    demo = f"{_this_program()} demo" + ("" if data_dir == DEFAULT_DATA_DIR else f" --data-dir {data_dir}")
    mail = (
        f"the demo's mailbox: {mailbox_folder(data_dir)}/ (`{demo} mail` lists it)"
        if mail_caught
        else "the SMTP server APPGOV_SMTP_HOST names"
    )
    return (
        f"\n[bold green]appgov is running at {console_url}[/bold green]\n"
        f"Sign in as [bold]{email}[/bold] with password [bold]{password}[/bold]\n"
        "(the first syncs run in the background; Ctrl-C stops the console and the simulator)\n\n"
        "[bold]Next, in order[/bold]\n"
        f"1. Sign in: the Integrations page shows {' and '.join(DEMO_SITES)}, connected by one consent.\n"
        f"2. Add the third site, {third}: [bold]Add[/bold] next to Atlassian. On the simulated "
        f"Atlassian sign-in use [bold]{atlassian['email']}[/bold] / [bold]{atlassian['password']}[/bold], "
        f"allow the site, then give the API key of [bold]{atlassian['email']}[/bold]: "
        f"[bold]{atlassian['api_token']}[/bold]\n"
        f"3. Try Reconnect: `{demo} expire-grant`, then [bold]Sync now[/bold] on a domain.\n"
        f'4. Read the "domain is ready" email in {mail}.\n\n'
        "[bold]Other paths[/bold] (then [bold]Sync now[/bold]):\n"
        f"  `{demo} install-app acme` / `{demo} remove-app acme KEY`: the Apps page and the change log\n"
        f"  `{demo} slow acme` / `{demo} fail acme`, and `{demo} heal`: a slow sync, a failing site\n"
        f"(the simulator's URLs, accounts and secrets: {simulator_state_file(data_dir)})\n"
    )


def _this_program() -> str:
    """How the user can run appgov again: as invoked (``make run`` runs ``.venv/bin/appgov``, which is
    not on the PATH), or plainly ``appgov`` when started as ``python -m appgov``."""
    invoked = Path(sys.argv[0])
    return str(invoked) if invoked.name == "appgov" else "appgov"
