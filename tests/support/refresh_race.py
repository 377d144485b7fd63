"""One process of the refresh race: waits at a file barrier, then several threads at once ask the
same grant for an access token. Prints the tokens they got, as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path

from appgov.config import AtlassianSettings, Settings
from appgov.connectors.atlassian.grants import GrantTokens
from appgov.connectors.atlassian.oauth import AuthorizationServer
from appgov.runtime import Runtime


def main() -> None:
    config = json.loads(sys.argv[1])
    runtime = Runtime.start(
        Settings(
            **{**config["settings"], "data_dir": Path(config["settings"]["data_dir"])},
            atlassian=AtlassianSettings(**config["atlassian"]),
        )
    )
    barrier = Path(config["barrier"])
    (barrier.parent / f"ready-{config['name']}").touch()
    while not barrier.exists():
        time.sleep(0.01)  # a start line for every process, not a timing assumption
    tokens: list[str] = []

    def worker() -> None:
        async def fetch() -> str:
            server = AuthorizationServer(
                runtime.settings.atlassian.auth_url,
                config["client_id"],
                config["client_secret"],
                verify=runtime.verify,
            )
            try:
                return await GrantTokens(
                    runtime.sessions, runtime.secrets, config["grant_id"], server
                ).access_token()
            finally:
                await server.aclose()

        tokens.append(asyncio.run(fetch()))

    threads = [threading.Thread(target=worker) for _ in range(config["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(tokens))


if __name__ == "__main__":
    main()
