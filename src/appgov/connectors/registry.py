"""Platform name -> connector. Generic code finds a domain's connector here by ``Domain.platform``;
connectors register themselves (the built-in ones on first look-up, the tests' own with
``register``)."""

from __future__ import annotations

from appgov.connectors.protocol import Connector

_CONNECTORS: dict[str, Connector] = {}


def register(connector: Connector) -> None:
    _CONNECTORS[connector.platform] = connector


def unregister(platform: str) -> None:
    _CONNECTORS.pop(platform, None)


def connectors() -> list[Connector]:
    """Every registered connector, in the order they registered (the built-in ones on first need)."""
    _load_builtins()
    return list(_CONNECTORS.values())


def connector(platform: str) -> Connector:
    _load_builtins()
    try:
        return _CONNECTORS[platform]
    except KeyError:
        raise LookupError(f"no connector is registered for the platform {platform!r}") from None


def app_datasets() -> frozenset[str]:
    """The data sets that list installed apps, across platforms."""
    return frozenset(s.name for c in connectors() for s in c.streams if s.app_inventory)


def _load_builtins() -> None:
    if "atlassian" not in _CONNECTORS:
        # imported on first need: the Atlassian connector reads grants (integrations), which import
        # the engine, which imports this registry
        from appgov.connectors.atlassian.connector import ATLASSIAN

        _CONNECTORS.setdefault(ATLASSIAN.platform, ATLASSIAN)
