"""The ``keys`` group: a new key for the keyring that encrypts stored secrets, and rotating to it."""

from __future__ import annotations

from typing import Annotated

import typer

from appgov.administration import keys as admin_keys
from appgov.cli.common import console, fail, operator
from appgov.config import Settings
from appgov.runtime import Runtime, configured_keyring
from appgov.security.secrets import new_key

keys_app = typer.Typer(help="The keyring that encrypts stored secrets.", no_args_is_help=True)


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new key, id:base64key, to put first in the keyring (then run `appgov keys rotate`)."""
    configured = configured_keyring(Settings.from_env())
    key_id = max(configured[0].key_ids) + 1 if configured else 1
    if key_id > 255:
        raise fail("key ids end at 255: start a new ring from key 1 once no secret uses it")
    typer.echo(f"{key_id}:{new_key()}")
    console.print(
        "Put it first in APPGOV_SECRET_KEYS (or first in the data directory's secret.key), keep the "
        "older keys after it, restart every appgov process, then run `appgov keys rotate`.",
        highlight=False,
    )


@keys_app.command("rotate")
def keys_rotate(
    batch_size: Annotated[int, typer.Option(min=1, help="rows per transaction")] = admin_keys.BATCH_SIZE,
) -> None:
    """Re-encrypt every stored secret with the keyring's newest key, online, in small transactions;
    run it again after an interruption (rows already on the newest key are skipped)."""
    runtime = Runtime.start()

    def batch_done(moved: admin_keys.Moved) -> None:
        typer.echo(f"... {moved.line()}")  # flushed at once: a watcher sees each batch commit

    report = admin_keys.rotate(runtime, operator(), batch_size, batch_done)
    typer.echo(f"Rotated to key {runtime.secrets.key_id}:")
    for moved in report:
        typer.echo(f"  {moved.line()}")
    if any(m.unreadable for m in report):
        raise fail("some secrets decrypt with no key of the keyring: their domains need new credentials")
