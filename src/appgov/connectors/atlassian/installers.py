"""Who installed each app and when, from the sources Atlassian documents, first answer wins
(docs/sync.md "Who installed an app"):

1. the organization's audit log, when an organization is connected (its source goes first in
   ``SOURCES`` once the organization connection reads it);
2. the site's GraphQL gateway: ``createdBy`` and ``createdAt`` of a Forge app's installation;
3. else unknown (``installed_source`` null), for the reason ``Code.INSTALLER_UNKNOWN`` words.

The Jira and Confluence audit logs are not a source: Atlassian does not document app records in
them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from appgov.connectors.atlassian.datasets import CONFLUENCE_FORGE_INSTALLATIONS, JIRA_FORGE_INSTALLATIONS
from appgov.storage import records
from appgov.storage.text import single_line

FORGE_INSTALLATIONS = {"jira": JIRA_FORGE_INSTALLATIONS, "confluence": CONFLUENCE_FORGE_INSTALLATIONS}


class InstallerSource(StrEnum):
    """Where an app's installer came from: the ``apps.installed_source`` column."""

    ORGANIZATION = "org_audit"
    GATEWAY = "gateway"


@dataclass(frozen=True)
class Installer:
    source: InstallerSource
    account_id: str | None
    name: str | None
    at: datetime | None


# One source: the installer it names for each app of a product it knows, by app key, read from
# storage once per reconciliation (session, domain id, product).
Source = Callable[[Session, int, str], Mapping[str, Installer]]


def from_gateway(session: Session, domain_id: int, product: str) -> dict[str, Installer]:
    """``createdBy``/``createdAt`` of the product's Forge installations (``streams.forge_installation``)."""
    found: dict[str, Installer] = {}
    for record in records.live(session, domain_id, FORGE_INSTALLATIONS[product]):
        creator = record.data.get("createdBy") or {}
        if not creator.get("accountId"):
            continue
        found[record.key] = Installer(
            InstallerSource.GATEWAY,
            str(creator["accountId"]),
            single_line(creator.get("name")),
            _time(record.data.get("createdAt")),
        )
    return found


# The order the sources are asked in; the organization's audit log goes first.
SOURCES: tuple[Source, ...] = (from_gateway,)


def installers(
    session: Session, domain_id: int, product: str, keys: Iterable[str], sources: Iterable[Source] = SOURCES
) -> dict[str, Installer]:
    """For each app key a source names, the first source's installer; keys absent are unknown."""
    wanted = set(keys)
    found: dict[str, Installer] = {}
    for source in sources:
        for key, installer in source(session, domain_id, product).items():
            if key in wanted and key not in found:
                found[key] = installer
    return found


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
