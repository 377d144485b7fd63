"""The Atlassian Cloud connector: what the engine and the console reach through the registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from appgov.connectors.atlassian import apps, identity
from appgov.connectors.atlassian.clients import AtlassianClients, clients_for
from appgov.connectors.atlassian.outcomes import _ok
from appgov.connectors.atlassian.probe import SiteProbe, probe_site
from appgov.connectors.atlassian.scopes import scope_table
from appgov.connectors.atlassian.streams import STREAMS, AtlassianStream
from appgov.connectors.base import Reply
from appgov.connectors.protocol import AppList, ConnectorUI, CredentialField, Disable, Uninstall
from appgov.connectors.retry import RetryPolicy
from appgov.connectors.streams import Stream
from appgov.runtime import Runtime
from appgov.storage.models import Domain

API_TOKENS_PAGE = "https://id.atlassian.com/manage-profile/security/api-tokens"


class AtlassianConnector:
    platform = "atlassian"
    ui = ConnectorUI(
        "Atlassian",
        "/integrations/atlassian/add",
        (
            CredentialField("email", "Email of a site admin"),
            CredentialField("api_token", "API token", secret=True, help_url=API_TOKENS_PAGE),
        ),
        tuple(scope_table()),
        "The installed-app list needs an API key as well: Atlassian offers no OAuth scope for it.",
    )
    app_list: AppList | None = None
    uninstall: Uninstall | None = None
    disable: Disable | None = None

    @property
    def streams(self) -> Sequence[AtlassianStream]:
        return STREAMS

    def streams_for(self, domain: Domain) -> Sequence[AtlassianStream]:
        return [s for s in STREAMS if s.product in domain.products]

    def clients(
        self, runtime: Runtime, session: Session, domain: Domain, policy: RetryPolicy | None = None
    ) -> AtlassianClients:
        return clients_for(runtime, session, domain, policy)

    async def probe(self, site_url: str, credentials: Mapping[str, str], verify: str | bool) -> SiteProbe:
        return await probe_site(site_url, credentials["email"], credentials["api_token"], verify)

    def outcome(self, reply: Reply, stream: Stream) -> Any:
        assert isinstance(stream, AtlassianStream)
        return _ok(reply, stream)

    def after_pass(self, session: Session, domain_id: int, stream: Stream, now: datetime) -> None:
        assert isinstance(stream, AtlassianStream)
        if stream.app_inventory:
            apps.reconcile(session, domain_id, stream.product, stream.name, now)
        identity.refresh(session, domain_id, stream.name)


ATLASSIAN = AtlassianConnector()
