"""Settings, read once from the environment (``APPGOV_*``), with embedded defaults.

The defaults run everything on one machine: SQLite under the data directory, in-process jobs, the
real Atlassian Cloud URLs. Every Atlassian URL is configurable so the same code talks to the
bundled simulator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str | None = None  # base64 of 32 bytes; otherwise a key file in the data directory
    auth_url: str = "https://auth.atlassian.com"
    api_url: str = "https://api.atlassian.com"
    marketplace_url: str = "https://marketplace.atlassian.com"
    # hosts (host or host:port) admitted besides *.atlassian.net, for the simulator or a proxy
    allowed_hosts: tuple[str, ...] = field(default_factory=tuple)
    ca_bundle: str | None = None  # extra CA file for TLS verification (e.g. the simulator's certificate)
    # the OAuth 2.0 (3LO) app registered in Atlassian's developer console (docs/atlassian-setup.md)
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_redirect_uri: str = "http://127.0.0.1:8000/integrations/atlassian/callback"
    # requests in flight per domain; Atlassian publishes no number, and answers 429 past its burst limit
    sync_concurrency: int = 16
    # requests one run may make per domain before it defers for an hour (None: no budget)
    sync_request_budget: int | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("APPGOV_DATA_DIR") or Path.home() / ".appgov").expanduser()
        return cls(
            data_dir=data_dir,
            database_url=env.get("APPGOV_DATABASE_URL") or f"sqlite:///{data_dir / 'appgov.db'}",
            secret_key=env.get("APPGOV_SECRET_KEY") or None,
            auth_url=env.get("APPGOV_ATLASSIAN_AUTH_URL", cls.auth_url).rstrip("/"),
            api_url=env.get("APPGOV_ATLASSIAN_API_URL", cls.api_url).rstrip("/"),
            marketplace_url=env.get("APPGOV_MARKETPLACE_URL", cls.marketplace_url).rstrip("/"),
            allowed_hosts=_split(env.get("APPGOV_ALLOWED_HOSTS", "")),
            ca_bundle=env.get("APPGOV_CA_BUNDLE") or None,
            oauth_client_id=env.get("APPGOV_ATLASSIAN_CLIENT_ID") or None,
            oauth_client_secret=env.get("APPGOV_ATLASSIAN_CLIENT_SECRET") or None,
            oauth_redirect_uri=env.get("APPGOV_ATLASSIAN_REDIRECT_URI", cls.oauth_redirect_uri),
            sync_concurrency=int(env.get("APPGOV_SYNC_CONCURRENCY") or cls.sync_concurrency),
            sync_request_budget=int(env["APPGOV_SYNC_REQUEST_BUDGET"])
            if env.get("APPGOV_SYNC_REQUEST_BUDGET")
            else None,
        )
