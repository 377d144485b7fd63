"""airbyte-source-jira 4.0.0 on airbyte-cdk 6.61.6, run as its command line (docs/simulator/peers.md).

One ``read`` of every stream that holds one of our data sets, with a configured catalog in full
refresh. ``domain`` is host:port plus the site's path (the tool forces ``https://``). Memberships
come only from ``users_groups_detailed``: one ``GET /user?accountId=…&expand=groups,applicationRoles``
per user. There is no audit stream and no plugin manager.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import emit_results, read_config

SOURCE = str(Path(sys.executable).parent / "source-jira")
# Airbyte stream -> (our data set, natural key of one record)
STREAMS: dict[str, tuple[str, Callable[[dict[str, Any]], list[str]]]] = {
    "users": ("users", lambda r: [r["accountId"]]),
    "users_groups_detailed": (
        "memberships",
        lambda r: [f"{g['groupId']}:{r['accountId']}" for g in r["groups"]["items"]],
    ),
    "groups": ("groups", lambda r: [r["groupId"]]),
    "projects": ("projects", lambda r: [r["id"]]),
    "project_roles": ("project_roles", lambda r: [str(r["id"])]),
    "permission_schemes": ("permission_schemes", lambda r: [str(r["id"])]),
    "issue_fields": ("fields", lambda r: [r["id"]]),
    "application_roles": ("application_roles", lambda r: [r["key"]]),
}


def main() -> None:
    config = read_config()
    with tempfile.TemporaryDirectory(prefix="peer-airbyte-") as workdir:
        messages = read_streams(Path(workdir), config)
    records: dict[str, list[Any]] = defaultdict(list)
    errors: dict[str, str] = {}
    for message in messages:
        if message["type"] == "RECORD" and message["record"]["stream"] in STREAMS:
            name, keys = STREAMS[message["record"]["stream"]]
            records[name] += keys(message["record"]["data"])
        elif message["type"] == "TRACE" and message["trace"]["type"] == "ERROR":
            error = message["trace"]["error"]
            stream = (error.get("stream_descriptor") or {}).get("name")
            name = STREAMS[stream][0] if stream in STREAMS else "read"
            errors[name] = error.get("message", "")[:1000]
    emit_results({name: records[name] for name in config["sets"] if name not in errors}, errors)


def read_streams(workdir: Path, config: dict[str, Any]) -> list[dict[str, Any]]:
    config_file = workdir / "config.json"
    config_file.write_text(
        json.dumps(
            {
                "api_token": config["api_token"],
                "domain": config["domain"],
                "email": config["email"],
                "start_date": config["start_date"],
                "num_workers": 3,
            }
        )
    )
    catalog = workdir / "catalog.json"
    wanted = [stream for stream, (name, _) in STREAMS.items() if name in config["sets"]]
    catalog.write_text(json.dumps({"streams": [configured(stream) for stream in wanted]}))
    return run(["read", "--config", str(config_file), "--catalog", str(catalog)])


def configured(stream: str) -> dict[str, Any]:
    """A configured stream. The source reads with its own schemas, so the catalog does not repeat
    them and ``discover`` (another ~2 s of CDK start-up) is not needed."""
    return {
        "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "full_refresh",
        "destination_sync_mode": "overwrite",
    }


def run(args: list[str]) -> list[dict[str, Any]]:
    """The Airbyte protocol messages the source printed (it exits non-zero when a stream failed)."""
    done = subprocess.run([SOURCE, *args], capture_output=True, text=True, check=False)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not messages:
        raise RuntimeError(f"source-jira {args[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return messages


if __name__ == "__main__":
    main()
