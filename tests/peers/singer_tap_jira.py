"""singer-io tap-jira 2.6.0, run as its command line, the way a Singer pipeline runs it.

Basic auth with ``base_url`` (the tap forces ``https://``). Of our data sets it has users (only
as members of the groups named in its ``groups`` setting, given by the test as ``groups``),
projects and the global project roles.
Each stream runs as its own tap process: the tap stops at the first failing stream, and one
process per stream keeps a failure of one from hiding the others.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Any

from common import read_all, read_config

TAP = str(Path(sys.executable).parent / "tap-jira")


def main() -> None:
    config = read_config()
    with tempfile.TemporaryDirectory(prefix="peer-singer-") as workdir:
        tap = Tap(Path(workdir), config)
        read_all(
            {
                "users": lambda: [r["accountId"] for r in tap.records("users")],
                "projects": lambda: [r["id"] for r in tap.records("projects")],
                "project_roles": lambda: [str(r["id"]) for r in tap.records("roles")],
            },
            config,
        )


class Tap:
    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        self.workdir = workdir
        self.config = workdir / "config.json"
        self.config.write_text(
            json.dumps(
                {
                    "start_date": config["start_date"],
                    "username": config["email"],
                    "password": config["api_token"],
                    "base_url": config["site_url"],
                    "user_agent": "appgov-peer-test",
                    "groups": ",".join(config["groups"]),
                    "request_timeout": 60,
                }
            )
        )

    @cached_property
    def catalog(self) -> dict[str, Any]:
        return dict(json.loads(self._run("--discover")))

    def records(self, stream: str) -> list[dict[str, Any]]:
        """Sync one stream (``--properties``: the tap ignores ``--catalog``) and return its records."""
        properties = self.workdir / f"{stream}.json"
        properties.write_text(json.dumps(select(self.catalog, stream)))
        messages = [json.loads(line) for line in self._run("--properties", str(properties)).splitlines()]
        return [m["record"] for m in messages if m.get("type") == "RECORD" and m.get("stream") == stream]

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            [TAP, "--config", str(self.config), *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"tap-jira {' '.join(args)} exited {done.returncode}: {done.stderr[-1500:]}")
        return done.stdout


def select(catalog: dict[str, Any], stream: str) -> dict[str, Any]:
    """The whole catalog (the tap looks every stream up) with only ``stream`` selected."""
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == stream
    return catalog


if __name__ == "__main__":
    main()
