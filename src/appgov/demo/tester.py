"""What a tester does to the demo's simulated Atlassian Cloud to try each path of the console:
expire the OAuth grant (then *Reconnect*), install or remove an app, make a site slow or failing,
and heal it. Each is one call to the simulator's control API over HTTP, with the control token from
the simulator's state file; the product never imports the simulator."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from appgov.connectors.atlassian.streams import FORGE_INSTALLATIONS_QUERY

MARKETPLACE_PAGE = 50  # listings looked at for an app to install


class TesterError(Exception):
    """The simulator refused or is not running; the message says what to do."""


@dataclass(frozen=True)
class DemoSimulatorControl:
    state: dict[str, Any]

    @classmethod
    def from_state_file(cls, path: Path) -> DemoSimulatorControl:
        if not path.exists():
            raise TesterError(f"no demo simulator state at {path}: is `appgov demo` running?")
        return cls(json.loads(path.read_text()))

    def expire_grant(self) -> int:
        """Ends every consent's refresh tokens (and access tokens): the next sync of each domain fails
        with the grant expired until an admin reconnects. Returns how many tokens ended."""
        ended = 0
        for kind in ("access", "refresh"):
            ended += int(self._call("POST", f"/tokens/{kind}/expire", json={}).get("affected", 0))
        return ended

    def install_app(self, site: str, product: str, key: str | None = None) -> dict[str, Any]:
        """Installs ``key``, or the first Marketplace app not yet on the site's product."""
        chosen = key or self._an_app_not_installed(site, product)
        return self._call(
            "POST", f"/sites/{self._site(site)['name']}/apps", json={"product": product, "key": chosen}
        )

    def remove_app(self, site: str, product: str, key: str) -> None:
        self._call("DELETE", f"/sites/{self._site(site)['name']}/apps/{product}/{quote(key, safe='')}")

    def slow_down(self, site: str, ms: int) -> None:
        fault = {"kind": "latency", "site": self._site(site)["name"], "params": {"ms": ms}}
        self._call("POST", "/faults", json=fault)

    def fail(self, site: str) -> None:
        fault = {"kind": "server_error", "site": self._site(site)["name"], "params": {"status": 503}}
        self._call("POST", "/faults", json=fault)

    def heal(self) -> None:
        self._call("DELETE", "/faults")

    def installed_keys(self, site: str, product: str) -> list[str]:
        """The site's user-installed apps, read as a site admin from its plugin manager and, for
        Forge apps, its GraphQL gateway (one page: the demo's sites are small)."""
        admin = self.state["accounts"]["site_admin"]
        auth = (admin["email"], admin["api_token"])
        where = self._site(site)
        prefix = "/wiki" if product == "confluence" else ""
        reply = self._send("GET", f"{where['base_url']}{prefix}/rest/plugins/1.0/", auth=auth)
        keys = [str(p["key"]) for p in _checked(reply)["plugins"] if p.get("userInstalled")]
        context = f"ari:cloud:{product}::site/{where['cloud_id']}"
        query = {"query": FORGE_INSTALLATIONS_QUERY, "variables": {"contexts": [context], "first": 100}}
        found = _checked(
            self._send("POST", f"{where['base_url']}/gateway/api/graphql", json=query, auth=auth)
        )
        connection = ((found.get("data") or {}).get("ecosystem") or {}).get("appInstallationsByContext") or {}
        forge = [str(node["app"]["id"]) for node in connection.get("nodes") or []]
        return keys + [key for key in forge if key not in keys]

    def _an_app_not_installed(self, site: str, product: str) -> str:
        installed = set(self.installed_keys(site, product))
        params = {"hosting": "cloud", "application": product, "limit": MARKETPLACE_PAGE}
        reply = self._send("GET", f"{self.state['marketplace_url']}/rest/2/addons", params=params)
        listings = _checked(reply)["_embedded"]["addons"]
        for listing in listings:
            if listing["key"] not in installed:
                return str(listing["key"])
        raise TesterError(f"every Marketplace app for {product} is already on {site}")

    def _site(self, name: str) -> dict[str, Any]:
        for site in self.state["sites"]:
            if site["name"] == name:
                return dict(site)
        names = ", ".join(s["name"] for s in self.state["sites"])
        raise TesterError(f"no simulated site {name!r} (the sites: {names})")

    def _call(self, method: str, path: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        token = {"Authorization": f"Bearer {self.state['control_token']}"}
        reply = self._send(method, f"{self.state['control_url']}{path}", json=json, headers=token)
        return _checked(reply) if reply.content else {}

    def _send(self, method: str, url: str, **options: Any) -> httpx.Response:
        try:
            with httpx.Client(verify=self.state.get("certificate") or True, timeout=30) as client:
                return client.request(method, url, **options)
        except httpx.TransportError as err:
            raise TesterError(
                f"the demo's simulator does not answer ({err}): is `appgov demo` running?"
            ) from err


def _checked(reply: httpx.Response) -> dict[str, Any]:
    if reply.status_code >= 400:
        try:
            message = reply.json().get("message", reply.text)
        except ValueError:
            message = reply.text
        raise TesterError(f"the simulator answered HTTP {reply.status_code}: {message}")
    data = reply.json()
    return data if isinstance(data, dict) else {"items": data}
