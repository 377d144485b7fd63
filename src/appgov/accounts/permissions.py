"""What a principal may do, by name. Every console route declares the one permission it needs
(``web.auth.require``); until roles exist, every signed-in user holds all of them, so the roles
issue changes ``holds`` and nothing else."""

from __future__ import annotations

from enum import StrEnum

from appgov.accounts.principal import Principal


class Permission(StrEnum):
    READ = "read"  # every page and GET: domains, runs, apps and their exports, notifications
    DOMAINS_MANAGE = "domains.manage"  # add (consent, connect), reconnect, replace the API key, delete
    DOMAINS_SYNC = "domains.sync"  # sync now, cancel


def holds(principal: Principal, permission: Permission) -> bool:
    """Every signed-in user holds every permission until roles exist."""
    return principal.is_user
