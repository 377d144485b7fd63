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
    API = "api"  # a signed-in user's REST client
    CLI = "cli"  # the command line, as the operating-system user who ran it
    SCHEDULER = "scheduler"  # appgov itself (periodic and deferred syncs)


@dataclass(frozen=True)
class Principal:
    """A console user (``user_id`` set; ``name`` is their email) or a system actor (``name`` is the
    operating-system user, or "scheduler"). Roles come later, with the roles issue."""

    name: str
    via: Via
    user_id: int | None = None

    @classmethod
    def of_user(cls, user: User, via: Via) -> Principal:
        return cls(user.email, via, user.id)

    @property
    def is_user(self) -> bool:
        return self.user_id is not None


SCHEDULER = Principal("scheduler", Via.SCHEDULER)


def cli_user(name: str) -> Principal:
    """The operating-system user running the command line."""
    return Principal(name, Via.CLI)
