"""Everything a running simulator holds: the tenant, its clock, OAuth, faults, limits and counters.

With ``--data-dir`` the tenant is regenerated from (profile, seed, hostile) and the control API's
changes are replayed from a journal, while OAuth state and the clock offset are saved as JSON, so a
restart keeps grants, tokens and changes.
"""

from __future__ import annotations

import collections
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from appgov_sim.clock import SimClock
from appgov_sim.faults import FaultBook
from appgov_sim.oauth import Client, OAuthStore
from appgov_sim.ratelimit import BurstLimiter, WindowLimiter
from appgov_sim.tenant.generate import generate
from appgov_sim.tenant.model import Site, Switches, Tenant

REQUEST_LOG_SIZE = 10_000


@dataclass(slots=True)
class LoggedRequest:
    time: float
    method: str
    path: str
    query: str
    status: int
    surface: str  # site | gateway | auth | marketplace | admin | control
    site: str | None
    auth: str  # basic | bearer | none


@dataclass
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 0
    profile: str = "small"
    seed: int = 1
    hostile: bool = False
    https: bool = False
    latency_ms: float = 0.0
    data_dir: Path | None = None
    state_file: Path | None = None
    cert_path: Path | None = None
    switches: Switches = field(default_factory=Switches)  # the start-up switches (control API: /switches)
    redirect_uris: list[str] = field(
        default_factory=lambda: ["http://127.0.0.1:8000/integrations/atlassian/callback"]
    )

    @property
    def base_url(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.host}:{self.port}"


class SimState:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = SimClock()
        self.tenant: Tenant = generate(config.profile, config.seed, config.hostile)
        self.tenant.switches = replace(config.switches)
        self.oauth = OAuthStore(self.clock)
        self.faults = FaultBook()
        self.limiters: dict[str, BurstLimiter] = {
            s.name: BurstLimiter(s.burst, self.clock) for s in self.tenant.sites
        }
        self.org_events_limiter = WindowLimiter(10, 60, self.clock)  # references §6: 10 a minute
        self.request_log: collections.deque[LoggedRequest] = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self.counters: collections.Counter[str] = collections.Counter()
        self.journal: list[dict[str, Any]] = []
        self.control_token = secrets.token_urlsafe(24)
        self.oauth.clients["appgov"] = Client(
            "appgov-" + secrets.token_hex(8), secrets.token_urlsafe(32), "appgov", list(config.redirect_uris)
        )
        # control-API operations by name, registered by appgov_sim.routes.control; replayed on load
        self.operations: dict[str, Callable[[SimState, dict[str, Any]], Any]] = {}

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def site_base(self, site: Site) -> str:
        return f"{self.base_url}/sites/{site.name}"

    @property
    def client(self) -> Client:
        return next(iter(self.oauth.clients.values()))

    def record(self, entry: LoggedRequest) -> None:
        self.request_log.append(entry)
        self.counters[f"{entry.surface}:{entry.site or '-'}:{entry.status}"] += 1
        self.counters["requests"] += 1

    def apply(self, op: str, args: dict[str, Any]) -> Any:
        """Run a control-API mutation and journal it (so --data-dir restarts replay it)."""
        result = self.operations[op](self, args)
        self.journal.append({"op": op, "args": args})
        self.save()
        return result

    # --- persistence ---------------------------------------------------------------------------

    def _snapshot_path(self) -> Path | None:
        return self.config.data_dir / "simulator.json" if self.config.data_dir else None

    def save(self) -> None:
        path = self._snapshot_path()
        if path is None:
            return
        data = {
            "tenant": {
                "profile": self.config.profile,
                "seed": self.config.seed,
                "hostile": self.config.hostile,
            },
            "clock_offset": self.clock.offset_seconds,
            "control_token": self.control_token,
            "oauth": self.oauth.to_json(),
            "journal": self.journal,
        }
        write_json_atomically(path, data)

    def load(self) -> None:
        """Restore a saved simulator; a snapshot of another tenant is refused rather than mixed in."""
        path = self._snapshot_path()
        if path is None or not path.exists():
            return
        data = json.loads(path.read_text())
        wanted = {"profile": self.config.profile, "seed": self.config.seed, "hostile": self.config.hostile}
        if data["tenant"] != wanted:
            raise SystemExit(f"{path} holds tenant {data['tenant']}, not {wanted}: use another --data-dir")
        self.control_token = data["control_token"]
        self.oauth.load_json(data["oauth"])
        for entry in data["journal"]:
            self.operations[entry["op"]](self, entry["args"])
        self.journal = list(data["journal"])
        # after the replay: the saved offset already holds every journaled clock move
        self.clock.offset_seconds = data["clock_offset"]

    def state_file_body(self) -> dict[str, Any]:
        """What ``--state-file`` receives: everything a test or the demo needs to talk to us."""
        tenant, base = self.tenant, self.base_url
        admin, ordinary, expired = (tenant.accounts[i] for i in tenant.sites[0].user_ids[:3])

        def person(acc: Any) -> dict[str, Any]:
            return {
                "account_id": acc.account_id,
                "email": acc.email,
                "password": acc.password,
                "display_name": acc.display_name,
                "api_token": acc.api_tokens[0].secret,
            }

        return {
            "base_url": base,
            "auth_url": base,
            "api_url": base,
            "marketplace_url": f"{base}/marketplace",
            "control_url": f"{base}/_sim",
            "control_token": self.control_token,
            "profile": self.config.profile,
            "seed": self.config.seed,
            "hostile": self.config.hostile,
            "sites": [
                {
                    "name": s.name,
                    "base_url": self.site_base(s),
                    "cloud_id": s.cloud_id,
                    "products": list(s.products),
                }
                for s in tenant.sites
            ],
            "oauth_client": {
                "client_id": self.client.client_id,
                "client_secret": self.client.client_secret,
                "redirect_uris": self.client.redirect_uris,
            },
            "accounts": {
                "site_admin": person(admin),
                "ordinary": person(ordinary),
                "expired_token_admin": person(expired),
            },
            "org": {"org_id": tenant.org.org_id, "api_key": tenant.org.api_key},
            "certificate": str(self.config.cert_path) if self.config.cert_path else None,
        }


def write_json_atomically(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)
