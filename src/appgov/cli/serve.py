"""``serve`` (the console, the REST API and the background work) and ``version``."""

from __future__ import annotations

from typing import Annotated

import typer

from appgov import __version__
from appgov.administration import users as admin_users
from appgov.cli.common import console, operator
from appgov.runtime import Runtime


def version() -> None:
    """Print appgov's version."""
    typer.echo(__version__)


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Run the console, the REST API and the background work (runner, scheduler, email)."""
    import uvicorn

    from appgov.web.app import create_app
    from appgov.web.server import server_config

    runtime = Runtime.start()
    _offer_setup(runtime)
    uvicorn.Server(server_config(create_app(runtime, background=True), runtime.settings, host, port)).run()


def _offer_setup(runtime: Runtime) -> None:
    """With no user yet, print (here, never to the log) a one-time link that creates the first admin."""
    with runtime.sessions.begin() as session:
        token = admin_users.invite_first_admin(session, operator(), runtime.clock.now())
    if token is not None:
        link = admin_users.setup_link(runtime.settings.public_url, token)
        hours = int(admin_users.SETUP_LIFETIME.total_seconds() // 3600)
        say = f"No user yet. Create the first administrator within {hours} hour, once, at:\n{link}"
        console.print(say, soft_wrap=True, highlight=False, markup=False)
