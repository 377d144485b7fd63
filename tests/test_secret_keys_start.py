"""CS-03 over the real command line: a brand-new install makes its key (0600) in a data directory
made 0700; a process whose keyring cannot read the database's secrets refuses to start, saying why
and what to do (the key file gone, another key in its place, a keyring without the key the secrets
name), and never makes a new key over them. And the SQLite file of a running console, with its
-wal and -shm, is readable by its owner alone."""

from __future__ import annotations

import base64
import secrets
import stat
from pathlib import Path

from support.cli import add_site, appgov
from support.console import Console
from support.simulator import Simulator


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def a_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def test_a_new_install_makes_its_key_and_then_no_key_or_another_key_refuses_to_start(
    sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    data_dir = tmp_path / "data"
    added = add_site(sim, data_dir, APPGOV_DATABASE_URL=database_url)  # its first start
    assert added.returncode == 0, added.stderr
    assert mode(data_dir) == 0o700
    key_file = data_dir / "secret.key"
    assert mode(key_file) == 0o600
    kept = key_file.read_text()
    assert kept.startswith("1:")

    def refused(*command: str, **settings: str) -> str:
        done = appgov(sim, data_dir, *command, APPGOV_DATABASE_URL=database_url, **settings)
        assert done.returncode == 1
        assert done.stderr.startswith("error: appgov cannot start: ")
        return done.stderr

    key_file.unlink()  # a data directory restored without its key
    said = refused("sync", "acme")
    assert "secret.key is missing, but the database holds secrets encrypted with key 1" in said
    assert "restore the key file" in said
    assert not key_file.exists()

    key_file.write_text(f"1:{a_key()}\n")  # another key under the same id
    said = refused("serve", "--port", "9")
    assert f"key 1 in {key_file} is not the key that encrypted the database's secrets" in said

    # a keyring in the environment without the key the secrets name
    said = refused("domains", "list", APPGOV_SECRET_KEYS=f"2:{a_key()}")
    assert "secrets encrypted with key 1, which APPGOV_SECRET_KEYS does not hold" in said

    key_file.write_text(kept)
    listed = appgov(sim, data_dir, "domains", "list", APPGOV_DATABASE_URL=database_url)
    assert listed.returncode == 0, listed.stderr


def test_a_running_console_keeps_its_sqlite_files_0600(sim: Simulator, tmp_path: Path) -> None:
    console = Console(sim, data_dir=tmp_path / "data")
    try:
        database = console.data_dir / "appgov.db"
        files = [database, *(database.with_name(f"appgov.db-{end}") for end in ("wal", "shm"))]
        assert all(file.exists() for file in files)  # WAL: the console's connections hold them
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
        assert mode(console.data_dir) == 0o700
    finally:
        console.stop()
