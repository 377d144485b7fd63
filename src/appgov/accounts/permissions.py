"""What a principal may do, by name: three global roles, each a set of permissions, and one right no
role implies (revoking apps on a domain, granted to a named user). Every console and REST route
declares the one permission it needs through ``web.auth.require``; ``docs/security.md`` has the table.
"""

from __future__ import annotations

from enum import StrEnum

from appgov.accounts.principal import Principal


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"  # every page and GET: domains, runs, apps and their exports, notifications
    OWN_ACCOUNT = "own_account"  # one's own notifications, sessions and API tokens
    DOMAINS_SYNC = "domains.sync"  # sync now, cancel a sync
    TRIAGE = "triage"  # classify apps, override a risk score, suppress a finding, write and dry-run policies
    POLICIES_APPLY = "policies.apply"  # apply a policy plan, re-weight risk factors
    # add (consent, connect), reconnect, replace the API key, delete; give or withdraw revocation consent
    DOMAINS_MANAGE = "domains.manage"
    USERS_MANAGE = "users.manage"  # users, roles, revocation rights, others' sessions and API tokens
    AUDIT_READ = "audit.read"  # the audit trail and its exports
    # uninstall, disable or ban an app on one domain: held through a revocation right, never a role
    APPS_REVOKE = "apps.revoke"


_VIEWER = frozenset({Permission.READ, Permission.OWN_ACCOUNT})
_ANALYST = _VIEWER | {Permission.DOMAINS_SYNC, Permission.TRIAGE}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.ANALYST: _ANALYST,
    Role.ADMIN: frozenset(set(Permission) - {Permission.APPS_REVOKE}),
}
DOMAIN_SCOPED = frozenset({Permission.APPS_REVOKE})  # checked against the user's revocation rights


def holds(principal: Principal, permission: Permission) -> bool:
    """Whether the principal's role grants ``permission``. The revocation right is no role's: a
    domain-scoped permission is decided by ``accounts.rights.may_revoke`` and never here."""
    if principal.role is None or permission in DOMAIN_SCOPED:
        return False
    return permission in ROLE_PERMISSIONS[Role(principal.role)]
