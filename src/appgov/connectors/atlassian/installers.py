"""Who installed each app and when, from the sources Atlassian documents, first answer wins
(docs/sync.md "Who installed an app"):

1. the organization's audit log, when an organization is connected (``org_app_events``, read by
   ``integrations.organizations``): the latest successful installation of the app on the site;
2. the site's GraphQL gateway: ``createdBy`` and ``createdAt`` of a Forge app's installation;
3. the plugin manager's audit feed (``/rest/plugins/1.0/log/feed``, Atom), when the site serves it
   (unverified on Cloud; a 404 reads as an empty feed): its newest install entry of the app;
4. else unknown (``installed_source`` null), for the reason ``Code.INSTALLER_UNKNOWN`` words.

The Jira and Confluence audit logs are not a source: Atlassian does not document app records in
them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from appgov.connectors.atlassian.datasets import (
    CONFLUENCE_FORGE_INSTALLATIONS,
    CONFLUENCE_UPM_AUDIT_FEED,
    JIRA_FORGE_INSTALLATIONS,
    JIRA_UPM_AUDIT_FEED,
)
from appgov.storage import records
from appgov.storage.models import AtlassianSite, Domain, OrgAppEvent
from appgov.storage.text import single_line

FORGE_INSTALLATIONS = {"jira": JIRA_FORGE_INSTALLATIONS, "confluence": CONFLUENCE_FORGE_INSTALLATIONS}
AUDIT_FEEDS = {"jira": JIRA_UPM_AUDIT_FEED, "confluence": CONFLUENCE_UPM_AUDIT_FEED}
# An install entry's title names the app's key in brackets before its version. [U] UPM's English
# rendering of ``upm.auditLog.install.plugin.success`` (name, key, version) is not published.
INSTALLED_TITLE = re.compile(r"^Installed plugin .* \((?P<key>[^()\s]+)\), version ")


class InstallerSource(StrEnum):
    """Where an app's installer came from: the ``apps.installed_source`` column."""

    ORGANIZATION = "org_audit"
    GATEWAY = "gateway"
    PLUGIN_MANAGER_FEED = "upm_feed"


@dataclass(frozen=True)
class Installer:
    source: InstallerSource
    account_id: str | None
    name: str | None
    at: datetime | None


# One source: the installer it names for each app of a product it knows, by app key, read from
# storage once per reconciliation (session, domain id, product).
Source = Callable[[Session, int, str], Mapping[str, Installer]]


def from_organization(session: Session, domain_id: int, product: str) -> dict[str, Installer]:
    """The latest successful installation of each app on the domain's site in a connected
    organization's audit log. The site is matched by its cloud id, or by its host name when an event
    names no id; an app is installed once per site, so both products share the answer."""
    domain = session.get(Domain, domain_id)
    if domain is None:
        return {}
    cloud_id = session.scalar(select(AtlassianSite.cloud_id).where(AtlassianSite.domain_id == domain_id))
    host = urlsplit(domain.site_url).hostname or ""
    same_site = or_(OrgAppEvent.site_name == host, OrgAppEvent.site_name == f"{domain.name}.atlassian.net")
    if cloud_id:
        same_site = or_(OrgAppEvent.site_id == cloud_id, (OrgAppEvent.site_id.is_(None)) & same_site)
    query = select(OrgAppEvent).where(OrgAppEvent.kind == "install", same_site)
    found = {}
    for event in session.scalars(query.order_by(OrgAppEvent.at, OrgAppEvent.id)):  # the latest wins
        found[event.app_key] = Installer(
            InstallerSource.ORGANIZATION, event.actor_account_id, event.actor_name, event.at
        )
    return found


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


def from_plugin_manager_feed(session: Session, domain_id: int, product: str) -> dict[str, Installer]:
    """The newest install entry of each app in the plugin manager's audit feed: its author (the
    account id is the last segment of the author's ``uri``) and time."""
    found: dict[str, Installer] = {}
    for record in records.live(session, domain_id, AUDIT_FEEDS[product]):
        matched = INSTALLED_TITLE.match(str(record.data.get("title") or ""))
        author = record.data.get("author") or {}
        account = str(author.get("uri") or "").rstrip("/").rpartition("/")[2]
        at = _time(record.data.get("updated"))
        if matched is None or not account or at is None:
            continue
        earlier = found.get(matched["key"])
        if earlier is None or (earlier.at is not None and at > earlier.at):
            name = single_line(author.get("name"))
            found[matched["key"]] = Installer(InstallerSource.PLUGIN_MANAGER_FEED, account, name, at)
    return found


# The order the sources are asked in.
SOURCES: tuple[Source, ...] = (from_organization, from_gateway, from_plugin_manager_feed)


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
