"""Who acts: a ``Principal`` is handed to every service that changes something (add a domain, queue
a sync, cancel, delete), and recorded beside what it did (``domains.created_*``, ``jobs.requested_*``,
``audit_events.actor*``), instead of an email string whose shape said where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appgov.storage.models import User


class Via(StrEnum):
    """How the principal came in."""

    CONSOLE = "console"  # a signed-in user's browser
    SSO = "sso"  # a browser signing in through the identity provider (OpenID Connect)
    API = "api"  # a signed-in user's REST client
    CLI = "cli"  # the command line, as the operating-system user who ran it
    SCHEDULER = "scheduler"  # appgov itself (periodic and deferred syncs)


@dataclass(frozen=True)
class Principal:
    """A console user (``user_id`` and ``role`` set; ``name`` is their email) or a system actor (``name``
    is the operating-system user, or "scheduler"), with where the request came from when it came over
    HTTP (the client's address and the request's id, which the audit trail records)."""

    name: str
    via: Via
    user_id: int | None = None
    role: str | None = None  # a ``permissions.Role`` value; None for system actors
    address: str | None = None
    request_id: str | None = None

    @classmethod
    def of_user(
        cls, user: User, via: Via, address: str | None = None, request_id: str | None = None
    ) -> Principal:
        return cls(user.email, via, user.id, user.role, address, request_id)

    @property
    def is_user(self) -> bool:
        return self.user_id is not None


SCHEDULER = Principal("scheduler", Via.SCHEDULER)


def cli_user(name: str) -> Principal:
    """The operating-system user running the command line."""
    return Principal(name, Via.CLI)
