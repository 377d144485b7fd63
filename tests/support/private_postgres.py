"""A PostgreSQL server of a test module's own, which its tests may stop, start and restart: never the
shared server on 5432, which other tests use at the same time.

Debian's binaries (``/usr/lib/postgresql/*/bin``) in a temporary directory, on a free port, with
``fsync=off`` (a test's data need not survive a power cut). The server refuses to run as root, so as
root it runs as the ``postgres`` user. Without the binaries the tests skip with the reason, and fail
instead under ``CI=true``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from support.console import free_port

SERVER_USER = "postgres"
WAIT_SECONDS = 60  # how long pg_ctl waits for the server to start or stop


class PrivatePostgres:
    """initdb once, then start, stop and restart at will; ``database()`` gives a fresh database."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="appgov-private-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_server = _server_user_prefix(self.root)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database(self) -> str:
        """The URL of a new, empty database on this server."""
        name = f"appgov_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.rsplit("/", 1)[0] + f"/{name}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._pg_ctl("start", "-l", str(self.root / "server.log"), "-o", self._options())

    def stop(self) -> None:
        """Stop the server (fast: open sessions are cut, their transactions rolled back)."""
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast", "-l", str(self.root / "server.log"), "-o", self._options())

    def destroy(self) -> None:
        subprocess.run(
            [*self._as_server, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate"],
            capture_output=True, check=False, timeout=WAIT_SECONDS,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _options(self) -> str:
        settings = {
            "port": self.port,
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": self.root,
            "fsync": "off",
            "full_page_writes": "off",
            "shared_buffers": "16MB",
            "max_connections": 50,
        }
        return " ".join(f"-c {name}={value}" for name, value in settings.items())

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", str(WAIT_SECONDS), *args)

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self._as_server, str(self.bin_dir / program), *args],
            capture_output=True, text=True, check=False, timeout=WAIT_SECONDS + 30,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed:\n{done.stderr}\n{self.log()}")


def _server_user_prefix(root: Path) -> list[str]:
    """How to run the server's programs: as ourselves, or as root through ``runuser`` as postgres
    (who then owns the directory)."""
    if os.geteuid() != 0:
        return []
    account = pwd.getpwnam(SERVER_USER)
    os.chown(root, account.pw_uid, account.pw_gid)
    return ["runuser", "-u", SERVER_USER, "--"]


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; under CI=true every service must be up")
    pytest.skip(reason)


def private_postgres() -> Iterator[PrivatePostgres]:
    """A private server for one test module, removed afterwards: ``yield from`` it in a fixture."""
    bin_dir = _binaries()
    if bin_dir is None:
        _unavailable("PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin)")
        return
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _has_user(SERVER_USER)):
        _unavailable(f"running as root, PostgreSQL needs `runuser` and a {SERVER_USER} user")
        return
    server = PrivatePostgres(bin_dir)
    try:
        yield server
    finally:
        server.destroy()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
