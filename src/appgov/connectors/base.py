"""What every connector speaks in: a platform's reply, its errors, and the client protocol the sync
engine reads through. Nothing here knows a platform."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from appgov.outcomes import Code, Outcome

Row = dict[str, Any]


class ConnectorError(Exception):
    """A call to a platform failed for good; ``status`` is None for transport failures. ``outcome``:
    its reason code (an unclassified failure keeps its words as the code's detail)."""

    def __init__(
        self, message: str, status: int | None = None, url: str = "", *, outcome: Outcome | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.outcome = outcome or Outcome(Code.FAILED, {"detail": message})


class CredentialsRejected(ConnectorError):
    """The domain's credentials no longer work: the whole run fails with this reason."""


class Unavailable(ConnectorError):
    """A data set the platform will not give (permission, plan, missing credential): the engine
    records it *unavailable* with the reason, never as empty data."""


class DomainError(Exception):
    """A domain could not be connected or read; the message says why in plain words."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    data: Any  # the parsed JSON body, or None when there is none
    url: str


@dataclass
class CallStats:
    requests: int = 0
    retries: int = 0


class Client(Protocol):
    """One authenticated HTTP client of a domain: retries, host checks and concurrency are its own."""

    stats: CallStats

    async def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> Reply: ...

    async def aclose(self) -> None: ...
