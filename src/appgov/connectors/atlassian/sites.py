"""Which site URLs appgov will talk to: ``https://NAME.atlassian.net`` and operator-allowed hosts.

A site URL is user input that decides where appgov sends an API token, so it is parsed strictly:
no credentials, query or fragment in it, no look-alike hosts (``x.atlassian.net.evil.com``), no IP
addresses or internal names unless the operator explicitly allowed that host (as ``appgov demo``
does for the simulator).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ATLASSIAN_SITE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.atlassian\.net$")


class SiteURLError(ValueError):
    """The URL is not one appgov may connect to; the message says why in plain words."""


def normalize_site_url(raw: str, allowed_hosts: tuple[str, ...] = ()) -> str:
    """The canonical ``scheme://host[:port][/path]`` of a site, or ``SiteURLError``."""
    text = raw.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise SiteURLError(f"{raw!r} is not a valid URL") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise SiteURLError(f"{raw!r} has no host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise SiteURLError("a site URL carries no credentials, query or fragment")
    authority = f"{host}:{port}" if port else host
    if authority in allowed_hosts or host in allowed_hosts:
        if parts.scheme not in ("http", "https"):
            raise SiteURLError("a site URL must use https (or http for an allowed host)")
        return f"{parts.scheme}://{authority}{parts.path.rstrip('/')}"
    if not ATLASSIAN_SITE.match(host):
        raise SiteURLError(f"{host} is not an Atlassian Cloud site (expected https://NAME.atlassian.net)")
    if parts.scheme != "https" or port not in (None, 443) or parts.path.strip("/"):
        raise SiteURLError("an Atlassian Cloud site URL is https://NAME.atlassian.net with no path or port")
    return f"https://{host}"


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
