"""The clients an Atlassian domain is read with: Basic auth on the site (API token) and/or OAuth
through the gateway, one client per product, and the Marketplace that enriches the app inventory.
REST data sets prefer OAuth; the plugin manager has no OAuth scope, so apps need the API token."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from appgov.connectors.atlassian.client import AtlassianClient, RequestBudget
from appgov.connectors.atlassian.grants import GrantAuth, GrantTokens
from appgov.connectors.atlassian.marketplace import MarketplaceEnricher
from appgov.connectors.atlassian.oauth import AuthorizationServer
from appgov.connectors.atlassian.streams import AtlassianStream
from appgov.connectors.base import CallStats, DomainError, Reply, Row, Unavailable
from appgov.connectors.retry import RetryPolicy
from appgov.connectors.streams import Stream
from appgov.outcomes import Code, Outcome
from appgov.runtime import Runtime
from appgov.security.secrets import SecretBox
from appgov.storage.models import ApiToken, AtlassianSite, Domain
from appgov.storage.sealed import api_token_context


@dataclass
class GraphQLClient:
    """The site's GraphQL gateway as the page loop sees it: ``get`` POSTs the stream's query, the
    cursor's params (``first``, ``after``) and the fixed variables (the installation contexts) as
    its variables, with the site's Basic auth."""

    site: AtlassianClient
    query: str
    variables: dict[str, Any]
    stats: CallStats = field(init=False)

    def __post_init__(self) -> None:
        self.stats = self.site.stats  # counted with the site's requests

    async def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> Reply:
        body = {"query": self.query, "variables": {**self.variables, **(params or {})}}
        # a GraphQL query (no mutation) reads: sent twice, it changes nothing, so it is retried
        return await self.site.request("POST", path_or_url, json=body, idempotent=True)

    async def aclose(self) -> None:
        """The site's client is the set's: ``AtlassianClients.aclose`` closes it."""


@dataclass
class AtlassianClients:
    site: AtlassianClient | None = None
    gateway: dict[str, AtlassianClient] = field(default_factory=dict)
    token_endpoint: AuthorizationServer | None = None  # refreshes the gateway's OAuth grant
    marketplace: MarketplaceEnricher | None = None
    cloud_id: str | None = None  # the site's, naming its products in GraphQL (installation contexts)

    def for_stream(self, stream: Stream) -> AtlassianClient | GraphQLClient:
        assert isinstance(stream, AtlassianStream)
        if stream.app_inventory or stream.site_only:
            if self.site is None:
                raise Unavailable(
                    "the app inventory needs an API token (the plugin manager has no OAuth scope)",
                    outcome=Outcome(Code.NEEDS_API_TOKEN),
                )
            if stream.graphql:
                if not self.cloud_id:
                    raise Unavailable(
                        "the site's cloud id is not known yet: reconnect the domain",
                        outcome=Outcome(Code.DATASET_UNAVAILABLE, {"detail": "no cloud id"}),
                    )
                context = f"ari:cloud:{stream.product}::site/{self.cloud_id}"
                return GraphQLClient(self.site, stream.graphql, {"contexts": [context]})
            return self.site
        client = self.gateway.get(stream.product) or self.site
        if client is None:
            raise Unavailable(
                f"no credentials reach {stream.product}",
                outcome=Outcome(Code.NO_CREDENTIALS, {"product": stream.product}),
            )
        return client

    def all(self) -> Sequence[AtlassianClient]:
        return [c for c in (self.site, *self.gateway.values()) if c is not None]

    async def enrich(self, stream: Stream, items: list[Row]) -> list[Row]:
        if stream.app_inventory and self.marketplace is not None:
            return await self.marketplace.enrich(items)
        return items

    async def aclose(self) -> None:
        for client in self.all():
            await client.aclose()
        if self.token_endpoint is not None:
            await self.token_endpoint.aclose()
        if self.marketplace is not None:
            await self.marketplace.client.aclose()


def authorization_server(runtime: Runtime) -> AuthorizationServer:
    settings = runtime.settings.atlassian
    if not settings.oauth_client_id or not settings.oauth_client_secret:
        raise DomainError(
            "OAuth is not configured: set APPGOV_ATLASSIAN_CLIENT_ID and APPGOV_ATLASSIAN_CLIENT_SECRET"
        )
    return AuthorizationServer(
        settings.auth_url,
        settings.oauth_client_id,
        settings.oauth_client_secret,
        verify=runtime.verify,
        clock=runtime.clock,
    )


def clients_for(
    runtime: Runtime,
    session: Session,
    domain: Domain,
    policy: RetryPolicy | None = None,
) -> AtlassianClients:
    """Basic auth on the site when the domain has an API token; OAuth through the gateway, one
    client per product, when it has a grant; the Marketplace (public, no credentials)."""
    clients = AtlassianClients()
    concurrency = runtime.settings.sync_concurrency
    limit = runtime.settings.sync_request_budget
    budget = RequestBudget(limit) if limit else None
    token = session.scalar(select(ApiToken).where(ApiToken.domain_id == domain.id))
    if token is not None:
        clients.site = AtlassianClient(
            domain.site_url,
            StoredApiToken(runtime.secrets, token, api_token_context(domain.id)),
            concurrency=concurrency,
            verify=runtime.verify,
            policy=policy,
            budget=budget,
        )
    site = session.get(AtlassianSite, domain.id)
    clients.cloud_id = site.cloud_id if site is not None else None
    if site is not None and site.oauth_grant_id is not None and site.cloud_id:
        clients.token_endpoint = authorization_server(runtime)
        tokens = GrantTokens(
            runtime.sessions,
            runtime.secrets,
            site.oauth_grant_id,
            clients.token_endpoint,
            clock=runtime.clock,
        )
        auth = GrantAuth(tokens)
        for product in domain.products:
            base = f"{runtime.settings.atlassian.api_url}/ex/{product}/{site.cloud_id}"
            clients.gateway[product] = AtlassianClient(
                base, auth, concurrency=concurrency, verify=runtime.verify, policy=policy, budget=budget
            )
    if not clients.all():
        raise DomainError(f"{domain.name} has neither an API token nor an OAuth grant")
    market = AtlassianClient(
        runtime.settings.atlassian.marketplace_url, None, verify=runtime.verify, timeout=30
    )
    clients.marketplace = MarketplaceEnricher(market)
    return clients


class StoredApiToken(httpx.Auth):
    """Basic auth with a stored API token, decrypted at its first request: inside the run, so a
    token that no longer decrypts fails the run as ``secret_unreadable`` (CS-02) rather than
    stopping the sync before any run exists to say why."""

    def __init__(self, secrets: SecretBox, token: ApiToken, context: str) -> None:
        self.secrets, self.sealed, self.context = secrets, token.secret, context
        self.email = token.owner_email
        self._basic: httpx.BasicAuth | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._basic is None:
            self._basic = httpx.BasicAuth(self.email, self.secrets.decrypt(self.sealed, self.context))
        yield from self._basic.auth_flow(request)
