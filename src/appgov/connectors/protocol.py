"""The connector seam: what the sync engine, jobs and the console know of a platform.

```
  sync.engine ──streams, clients, outcome, after_pass──▶ Connector ◀── connectors/atlassian
  web ──registry: title, add path, credential fields, consent scopes, probe──▶ Connector
```

A connector gives the streams a domain has, the clients a domain is read with, the data (or the
classified error) of a reply, and a hook run after each complete pass of a data set. Capabilities
that later work implements (a cheap app list for a watch, uninstall, disable) are declared here as
optional protocols: a connector without one says ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from appgov.connectors.base import Client, Reply, Row
from appgov.connectors.streams import Stream

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from appgov.connectors.retry import RetryPolicy
    from appgov.runtime import Runtime
    from appgov.storage.models import Domain


class DomainClients(Protocol):
    """The clients one domain is read with during a run, and what they add to rows."""

    def for_stream(self, stream: Stream) -> Client:
        """The client a stream is read with; raises ``Unavailable`` when no credential reaches it."""
        ...

    def all(self) -> Sequence[Client]: ...

    async def enrich(self, stream: Stream, items: list[Row]) -> list[Row]:
        """A top-level stream's rows before they are stored (e.g. from a public directory)."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class CredentialField:
    """One field of the form that gives a domain its credential."""

    name: str
    label: str
    secret: bool = False
    help_url: str | None = None  # where the platform's user makes this credential


@dataclass(frozen=True)
class ConnectorUI:
    """What the console shows of a platform."""

    title: str
    add_path: str  # where Add starts (a POST: the consent, or the credential form)
    credential_fields: tuple[CredentialField, ...] = ()
    consent_scopes: tuple[tuple[str, str], ...] = ()  # (scope, what it reads), shown before Add
    consent_note: str = ""  # what the consent does not cover

    def help_url(self, field: str) -> str | None:
        """Where the platform's user makes the credential of this field."""
        return next((f.help_url for f in self.credential_fields if f.name == field), None)


class SiteProbe(Protocol):
    """What probing a site found: at least the platform's products the domain has."""

    @property
    def products(self) -> list[str]: ...


@dataclass(frozen=True)
class InstalledApp:
    key: str
    name: str
    version: str | None
    enabled: bool


class AppList(Protocol):
    """A cheap list of the installed apps, for a watch between syncs (not implemented yet)."""

    async def installed_apps(self, clients: DomainClients) -> list[InstalledApp]: ...


class Uninstall(Protocol):
    """Remove an app from a domain (governance; not implemented yet)."""

    async def uninstall(self, clients: DomainClients, app_key: str) -> None: ...


class Disable(Protocol):
    """Disable an app on a domain, keeping it installed (governance; not implemented yet)."""

    async def disable(self, clients: DomainClients, app_key: str) -> None: ...


class Connector(Protocol):
    platform: str  # the registry's key and ``Domain.platform``
    ui: ConnectorUI
    app_list: AppList | None
    uninstall: Uninstall | None
    disable: Disable | None

    @property
    def streams(self) -> Sequence[Stream]:
        """Every stream the platform has."""
        ...

    def streams_for(self, domain: Domain) -> Sequence[Stream]:
        """The streams this domain has (its products, its plan)."""
        ...

    def clients(
        self, runtime: Runtime, session: Session, domain: Domain, policy: RetryPolicy | None = None
    ) -> DomainClients:
        """The domain's clients from its stored credentials; raises ``DomainError`` when it has none."""
        ...

    async def probe(self, site_url: str, credentials: Mapping[str, str], verify: str | bool) -> SiteProbe:
        """Check credentials (keyed by ``ui.credential_fields``) on the site before they are stored;
        raises ``DomainError`` with the reason in plain words."""
        ...

    def outcome(self, reply: Reply, stream: Stream) -> Any:
        """The reply's data, or the classified error of a non-2xx reply: ``CredentialsRejected``
        fails the run, ``Unavailable`` marks the data set unavailable, any other ``ConnectorError``
        marks it in error."""
        ...

    def after_pass(self, session: Session, domain_id: int, stream: Stream, now: datetime) -> None:
        """Run in the transaction that closes a complete pass of ``stream`` (typed tables, change
        logs); not after a failed or partial one."""
        ...
