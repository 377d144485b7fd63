"""Run appgov-sim as a real process on a free port and talk to it over real HTTP."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from appgov.demo.launcher import die_with_parent

STARTUP_TIMEOUT = 120.0


class Simulator:
    def __init__(
        self,
        profile: str = "tiny",
        seed: int = 1,
        *,
        hostile: bool = False,
        https: bool = False,
        data_dir: Path | None = None,
        extra: list[str] | None = None,
    ) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="appgov-sim-test-"))
        self.state_file = self.workdir / "state.json"
        args = [
            sys.executable,
            "-m",
            "appgov_sim",
            "serve",
            "--port",
            "0",
            "--profile",
            profile,
            "--seed",
            str(seed),
            "--state-file",
            str(self.state_file),
        ]
        if hostile:
            args.append("--hostile")
        if https:
            args.append("--https")
        if data_dir:
            args += ["--data-dir", str(data_dir)]
        args += extra or []
        self.log = (self.workdir / "sim.log").open("wb")
        self.process = subprocess.Popen(
            args, stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy(), preexec_fn=die_with_parent
        )
        self.state: dict[str, Any] = self._wait_for_state()
        self.url: str = self.state["base_url"]
        self.verify: str | bool = self.state["certificate"] or False
        self.http = httpx.Client(verify=self.verify, timeout=30)

    def _wait_for_state(self) -> dict[str, Any]:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"simulator exited: {(self.workdir / 'sim.log').read_text()}")
            if self.state_file.exists():
                return dict(json.loads(self.state_file.read_text()))
            time.sleep(0.05)  # polling for the process to come up, not timing a result
        raise TimeoutError("simulator did not start")

    # --- addresses and credentials -----------------------------------------------------------

    def site(self, name: str = "acme") -> dict[str, Any]:
        return next(s for s in self.state["sites"] if s["name"] == name)

    def site_url(self, name: str = "acme") -> str:
        return str(self.site(name)["base_url"])

    def basic(self, who: str = "site_admin") -> dict[str, str]:
        account = self.state["accounts"][who]
        raw = f"{account['email']}:{account['api_token']}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(url if url.startswith("http") else self.url + url, **kwargs)

    def site_get(
        self, path: str, site: str = "acme", who: str = "site_admin", **kwargs: Any
    ) -> httpx.Response:
        headers = {**self.basic(who), **kwargs.pop("headers", {})}
        return self.http.get(self.site_url(site) + path, headers=headers, **kwargs)

    # --- the control API ---------------------------------------------------------------------

    def control(self, method: str, path: str, json_body: Any = None) -> httpx.Response:
        response = self.http.request(
            method,
            f"{self.url}/_sim{path}",
            json=json_body,
            headers={"Authorization": f"Bearer {self.state['control_token']}"},
        )
        response.raise_for_status()
        return response

    def install_new_app(self, site: str = "acme", product: str = "jira", actor: str | None = None) -> str:
        """Install, through the control API, the first Marketplace app the site's product lacks; its key."""
        listed = self.get("/marketplace/rest/2/addons", params={"limit": 50}).json()["_embedded"]["addons"]
        for addon in listed:
            body = {"product": product, "key": addon["key"], **({"actor": actor} if actor else {})}
            response = self.http.post(
                f"{self.url}/_sim/sites/{site}/apps",
                json=body,
                headers={"Authorization": f"Bearer {self.state['control_token']}"},
            )
            if response.status_code == 201:
                return str(addon["key"])
        raise AssertionError(f"every listed app is installed on {site} {product} already")

    def fault(self, kind: str, **spec: Any) -> dict[str, Any]:
        return dict(self.control("POST", "/faults", {"kind": kind, **spec}).json())

    def mint_grant(
        self, scopes: list[str], sites: list[str] | None = None, who: str = "site_admin"
    ) -> dict[str, Any]:
        email = self.state["accounts"][who]["email"]
        return dict(
            self.control(
                "POST", "/grants", {"email": email, "sites": sites or ["acme"], "scopes": scopes}
            ).json()
        )

    def ground_truth(self) -> dict[str, Any]:
        return dict(self.control("GET", "/ground-truth").json())

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
