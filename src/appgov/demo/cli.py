"""``appgov demo``: run the demo, and the tester's commands that act on its simulated Atlassian Cloud
(each prints what it did and what to look at next in the console)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from appgov.demo.launcher import DEFAULT_DATA_DIR, DemoError, mailbox_folder, simulator_state_file
from appgov.demo.mailbox import read_mailbox
from appgov.demo.tester import DemoSimulatorControl, TesterError

T = TypeVar("T")
say = Console(highlight=False, emoji=False, soft_wrap=True)
demo_app = typer.Typer(
    help="The console against the bundled Atlassian Cloud simulator, and commands to try each path."
)
Product = Annotated[str, typer.Option(help="jira or confluence")]


@demo_app.callback(invoke_without_command=True)
def demo(
    context: typer.Context,
    port: Annotated[int, typer.Option(help="the console's port")] = 8000,
    sim_port: Annotated[int, typer.Option(help="the simulator's port")] = 8800,
    data_dir: Annotated[Path, typer.Option(help="where the demo keeps its state")] = DEFAULT_DATA_DIR,
    profile: Annotated[str, typer.Option(help="the simulated tenant's size")] = "small",
) -> None:
    """Run the console against the bundled Atlassian Cloud simulator, with two sites connected."""
    context.obj = data_dir
    if context.invoked_subcommand is not None:
        return
    from appgov.demo.run import run_demo

    try:
        run_demo(port, sim_port, data_dir, profile)
    except DemoError as err:
        raise _fail(str(err)) from None


@demo_app.command("expire-grant")
def expire_grant(context: typer.Context) -> None:
    """End the OAuth consent: the next sync of its domains fails until you Reconnect."""
    ended = _control(context, lambda sim: sim.expire_grant())
    say.print(
        f"{ended} tokens ended. Press [bold]Sync now[/bold] on a domain: every domain of that consent "
        "turns Error (grant expired), and one [bold]Reconnect[/bold] fixes them all."
    )


@demo_app.command("install-app")
def install_app(
    context: typer.Context,
    site: Annotated[str, typer.Argument(help="a simulated site, e.g. acme")],
    product: Product = "jira",
    key: Annotated[str | None, typer.Option(help="the app's key (default: one not installed)")] = None,
) -> None:
    """Install an app from the simulated Marketplace on a site, as its admin would."""
    app = _control(context, lambda sim: sim.install_app(site, product, key))
    say.print(
        f"Installed {escape(app['name'])} ({escape(app['key'])}) on {site}'s {product}. "
        "Press [bold]Sync now[/bold] on the domain: it appears on the Apps page and in the change log."
    )


@demo_app.command("remove-app")
def remove_app(
    context: typer.Context,
    site: Annotated[str, typer.Argument(help="a simulated site, e.g. acme")],
    key: Annotated[str, typer.Argument(help="the app's key (see the Apps page)")],
    product: Product = "jira",
) -> None:
    """Uninstall an app from a site, as its admin would."""
    _control(context, lambda sim: sim.remove_app(site, product, key))
    say.print(f"Removed {escape(key)} from {site}'s {product}. After the next sync the change log says so.")


@demo_app.command("slow")
def slow(
    context: typer.Context,
    site: Annotated[str, typer.Argument(help="a simulated site, e.g. acme")],
    ms: Annotated[int, typer.Option(help="added to every request to the site")] = 1500,
) -> None:
    """Make every request to a site slow: the next sync takes long and its last synced turns red."""
    _control(context, lambda sim: sim.slow_down(site, ms))
    say.print(f"{site} now answers {ms} ms late. `appgov demo heal` ends it.")


@demo_app.command("fail")
def fail(
    context: typer.Context, site: Annotated[str, typer.Argument(help="a simulated site, e.g. acme")]
) -> None:
    """Make a site answer 503 to everything: the next sync ends in Error with the reason."""
    _control(context, lambda sim: sim.fail(site))
    say.print(f"{site} now answers 503. Press [bold]Sync now[/bold]; `appgov demo heal` ends it.")


@demo_app.command("heal")
def heal(context: typer.Context) -> None:
    """End every slow or failing site."""
    _control(context, lambda sim: sim.heal())
    say.print("Every simulated site answers normally again.")


@demo_app.command("mail")
def mail(context: typer.Context) -> None:
    """List the email appgov sent during the demo (each is an .eml file in the mailbox folder)."""
    folder = mailbox_folder(context.obj)
    messages = read_mailbox(folder)
    if not messages:
        say.print(f"No mail yet in {folder}.")
    for path, message in messages:
        subject = escape(str(message["Subject"]))
        say.print(f"{message['Date']}  to {escape(str(message['To']))}  [bold]{subject}[/bold]\n    {path}")


def _control(context: typer.Context, action: Callable[[DemoSimulatorControl], T]) -> T:
    try:
        return action(DemoSimulatorControl.from_state_file(simulator_state_file(context.obj)))
    except TesterError as err:
        raise _fail(str(err)) from None


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, emoji=False, soft_wrap=True).print(
        f"[red]error:[/red] {escape(message)}"
    )
    return typer.Exit(1)
