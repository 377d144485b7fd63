"""The toy platform: a tiny HTTP service (teams, paged; members per team, paged; billing, which this
plan does not offer: 403) and its connector, registered through the registry like a real one."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from appgov.config import Settings
from appgov.connectors import registry
from appgov.connectors.base import (
    CallStats,
    Client,
    ConnectorError,
    CredentialsRejected,
    DomainError,
    Reply,
    Row,
    Unavailable,
)
from appgov.connectors.paging import Cursor, Page, Single
from appgov.connectors.protocol import (
    AppList,
    ConnectorUI,
    CredentialField,
    Disable,
    DomainClients,
    Uninstall,
)
from appgov.connectors.retry import RetryPolicy
from appgov.connectors.streams import Stream
from appgov.runtime import Runtime
from appgov.storage.models import Domain

PLATFORM = "toy"
TOKEN = "toy-secret"
PAGE_SIZE = 2


def settings(data_dir: Path, database_url: str) -> Settings:
    """One parent at a time, each committed on its own: a kill can land between two parents."""
    return Settings(data_dir=data_dir, database_url=database_url, sync_concurrency=1)


# --- the platform -----------------------------------------------------------------------------------


@dataclass
class Tenant:
    teams: dict[str, list[str]] = field(default_factory=dict)  # team -> its members
    requests: Counter[str] = field(default_factory=Counter)  # "path?page=N" -> times asked


def tenant(teams: int = 5, members: int = 3) -> Tenant:
    return Tenant({f"t{t}": [f"t{t}-m{m}" for m in range(1, members + 1)] for t in range(1, teams + 1)})


def _paged(request: Request, items: list[dict[str, Any]]) -> JSONResponse:
    page = int(request.query_params.get("page", "1"))
    chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    following = page + 1 if page * PAGE_SIZE < len(items) else None
    return JSONResponse({"items": chunk, "next": following})


def toy_app(state: Tenant) -> Starlette:
    def signed(request: Request) -> JSONResponse | None:
        state.requests[f"{request.url.path}?page={request.query_params.get('page', '')}"] += 1
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": "bad token"}, status_code=401)
        return None

    async def teams(request: Request) -> JSONResponse:
        return signed(request) or _paged(request, [{"id": t, "name": t.upper()} for t in sorted(state.teams)])

    async def members(request: Request) -> JSONResponse:
        team = request.path_params["team"]
        if team not in state.teams:
            return signed(request) or JSONResponse({"error": "no such team"}, status_code=404)
        return signed(request) or _paged(request, [{"id": m} for m in state.teams[team]])

    async def billing(request: Request) -> JSONResponse:
        return signed(request) or JSONResponse({"error": "billing is not on this plan"}, status_code=403)

    return Starlette(
        routes=[
            Route("/api/teams", teams),
            Route("/api/teams/{team}/members", members),
            Route("/api/billing", billing),
        ]
    )


class ToyServer:
    """The platform on a free port, in a thread of the test: the socket listens before the server
    starts, so the first request waits in its backlog instead of racing the start-up."""

    def __init__(self, state: Tenant) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(toy_app(state), log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()
        self.sock.close()


# --- its connector ----------------------------------------------------------------------------------


class NextPage:
    """``{"items": [...], "next": <page number or null>}``."""

    def parse(self, reply: Reply, cursor: Cursor) -> Page:
        data = reply.data or {}
        following = data.get("next")
        if following is None:
            return Page(list(data["items"]), None)
        return Page(list(data["items"]), {**cursor, "params": {**cursor["params"], "page": following}})


STREAMS = (
    Stream("toy.teams", "/api/teams", lambda r: str(r["id"]), NextPage(), {"page": 1}),
    Stream(
        "toy.members",
        "/api/teams/{team}/members",
        lambda r: f"{r['team']}:{r['id']}",
        NextPage(),
        {"page": 1},
        parent="toy.teams",
        context=lambda team, _: {"team": team["id"]},
    ),
    Stream("toy.billing", "/api/billing", lambda r: "billing", Single()),
)


class ToyClient:
    def __init__(self, base_url: str) -> None:
        self.stats = CallStats()
        self.http = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"})

    async def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> Reply:
        self.stats.requests += 1
        response = await self.http.get(path_or_url, params=params)
        data = response.json() if response.content else None
        return Reply(response.status_code, response.headers, data, str(response.url))

    async def aclose(self) -> None:
        await self.http.aclose()


@dataclass
class ToyClients:
    client: ToyClient

    def for_stream(self, stream: Stream) -> Client:
        return self.client

    def all(self) -> Sequence[Client]:
        return [self.client]

    async def enrich(self, stream: Stream, items: list[Row]) -> list[Row]:
        return items

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclass(frozen=True)
class ToyProbe:
    products: list[str] = field(default_factory=list)  # the toy platform has no products


class ToyConnector:
    platform = PLATFORM
    ui = ConnectorUI("Toy", "/integrations/toy/add", (CredentialField("token", "Token", secret=True),))
    app_list: AppList | None = None
    uninstall: Uninstall | None = None
    disable: Disable | None = None

    def __init__(self) -> None:
        self.complete_passes: list[str] = []  # what after_pass saw, in this process

    @property
    def streams(self) -> Sequence[Stream]:
        return STREAMS

    def streams_for(self, domain: Domain) -> Sequence[Stream]:
        return STREAMS

    def clients(
        self, runtime: Runtime, session: Session, domain: Domain, policy: RetryPolicy | None = None
    ) -> DomainClients:
        return ToyClients(ToyClient(domain.site_url))

    async def probe(self, site_url: str, credentials: Mapping[str, str], verify: str | bool) -> ToyProbe:
        headers = {"Authorization": f"Bearer {credentials['token']}"}
        async with httpx.AsyncClient(base_url=site_url, headers=headers, verify=verify) as http:
            reply = await http.get("/api/teams")
        if reply.status_code == 401:
            raise DomainError(f"the toy platform at {site_url} refused the token")
        return ToyProbe()

    def outcome(self, reply: Reply, stream: Stream) -> Any:
        reason = (reply.data or {}).get("error", "") if isinstance(reply.data, dict) else ""
        if reply.status < 300:
            return reply.data
        if reply.status == 401:
            raise CredentialsRejected(
                f"the toy platform rejected the token ({reason})", reply.status, reply.url
            )
        if reply.status in (403, 404):
            raise Unavailable(reason, reply.status, reply.url)
        raise ConnectorError(f"{stream.name}: HTTP {reply.status}", reply.status, reply.url)

    def after_pass(self, session: Session, domain_id: int, stream: Stream, now: datetime) -> None:
        self.complete_passes.append(stream.name)


def register() -> ToyConnector:
    connector = ToyConnector()
    registry.register(connector)
    return connector
