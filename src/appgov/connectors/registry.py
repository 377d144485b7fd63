"""Platform name -> connector. Generic code finds a domain's connector here by ``Domain.platform``;
the built-in connectors are registered here, others (the tests' own) with ``register``. This is the
one generic module that names a concrete connector."""

from __future__ import annotations

from appgov.connectors.atlassian.connector import ATLASSIAN
from appgov.connectors.protocol import Connector

_CONNECTORS: dict[str, Connector] = {ATLASSIAN.platform: ATLASSIAN}


def register(connector: Connector) -> None:
    _CONNECTORS[connector.platform] = connector


def unregister(platform: str) -> None:
    _CONNECTORS.pop(platform, None)


def connectors() -> list[Connector]:
    """Every registered connector, the built-in ones first."""
    return list(_CONNECTORS.values())


def connector(platform: str) -> Connector:
    try:
        return _CONNECTORS[platform]
    except KeyError:
        raise LookupError(f"no connector is registered for the platform {platform!r}") from None


def app_datasets() -> frozenset[str]:
    """The data sets that list installed apps, across platforms."""
    return frozenset(s.name for c in connectors() for s in c.streams if s.app_inventory)
