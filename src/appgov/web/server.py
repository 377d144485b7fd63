"""How the console is served (``appgov serve`` and ``appgov demo``): one uvicorn configuration."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from appgov.config import Settings


def server_config(app: FastAPI, settings: Settings, host: str, port: int, **options: str) -> uvicorn.Config:
    """No access log: it would carry query strings, and the OAuth callback's code and state (CS-07). No
    ``Server`` header naming the stack. ``X-Forwarded-For`` counts only from the configured proxies:
    from anyone else it is whatever the caller says (uvicorn would trust it from loopback)."""
    proxies = ",".join(settings.trusted_proxies)
    return uvicorn.Config(
        app, host=host, port=port, access_log=False, server_header=False,
        proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None, **options,  # type: ignore[arg-type]
    )  # fmt: skip
