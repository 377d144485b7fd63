"""The one place that changes a tenant: apps, users, groups and group memberships.

Each change keeps the data sets consistent with each other, as Atlassian does: an app change
appends its product's audit record and keeps the app's bot account in step; removing a user or a
group removes what refers to it. Every function is deterministic given the tenant and its
arguments, because ``SimState.load`` replays them from the journal on restart: times arrive as
``at_ms`` (read from the simulator clock by the caller) and new ids arrive as arguments (see
``new_account_id`` and ``new_group_id``), never drawn here.

A refused change raises ``MutationError`` before touching anything, so it is never journaled.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from appgov_sim.tenant.generate import ADDONS_ADMIN_GROUP, ADDONS_ROLE_ID
from appgov_sim.tenant.model import (
    Account,
    AppListing,
    AppVersion,
    AuditRecord,
    Group,
    InstalledApp,
    Site,
    Tenant,
)
from appgov_sim.tenant.org_audit import app_event

if TYPE_CHECKING:
    from appgov_sim.state import SimState

T = TypeVar("T")

FIRST_AUDIT_ID = {"jira": 10_000, "confluence": 1}  # as the generator numbers them
APP_MODULES = ["general-page", "web-panel"]


class MutationError(Exception):
    """A change the tenant refuses: the HTTP status to answer with, and the plugin manager's subCode."""

    def __init__(self, status: int, message: str, sub_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.sub_code = sub_code


def new_account_id() -> str:
    """A fresh account id in the generator's format (24 hex digits), for a caller to journal."""
    return secrets.token_hex(12)


def new_group_id() -> str:
    return str(uuid.uuid4())


# --- apps -----------------------------------------------------------------------------------------


def install_app(
    tenant: Tenant,
    site: str,
    product: str,
    key: str,
    bot_account_id: str,
    actor: str,
    at_ms: int,
    version: str | None = None,
) -> InstalledApp:
    """Install a Connect or Forge app from its listing, with a new ``accountType: app`` bot user."""
    target = _site(tenant, site)
    _require_product(target, product)
    listing = _listing(tenant, key)
    if listing.latest.framework == "oauth":
        raise MutationError(
            400,
            f"{key} is an OAuth 2.0 integration, not an app",
            "upm.pluginInstall.error.response.exception",
        )
    if _find_app(target, product, key) is not None:
        raise MutationError(409, f"{key} is already installed on {site} {product}")
    chosen = _version(listing, version)
    if bot_account_id in tenant.accounts:
        raise MutationError(409, f"account {bot_account_id} already exists")
    tenant.accounts[bot_account_id] = Account(
        bot_account_id, listing.name[:200], "", account_type="app", app_type="service"
    )
    target.user_ids.append(bot_account_id)
    _add_to_addons_role(target, product, bot_account_id)
    _add_to_addons_admins(target, product, chosen.framework, bot_account_id)
    app = InstalledApp(
        listing.key,
        product,
        listing.name,
        chosen.name,
        listing.vendor.name,
        listing.vendor.link,
        listing.summary,
        enabled=True,
        user_installed=True,
        installed_ms=at_ms,
        installed_by=actor,
        framework=chosen.framework,
        bot_account_id=bot_account_id,
        modules=list(APP_MODULES),
    )
    target.apps.append(app)
    _audit(target, app, "app_installed", actor, at_ms, chosen.name)
    app_event(tenant.org, target, app, "app_install_success", actor, at_ms)
    return app


def uninstall_app(tenant: Tenant, site: str, product: str, key: str, actor: str, at_ms: int) -> InstalledApp:
    """Remove an app; its bot user stays in the directory, inactive, as Atlassian leaves it."""
    target = _site(tenant, site)
    app = _installed(target, product, key)
    if not app.user_installed:
        raise MutationError(
            403,
            f"The plugin {key} is a system plugin and cannot be uninstalled.",
            "upm.pluginUninstall.error.plugin.not.uninstallable",
        )
    target.apps.remove(app)
    if app.bot_account_id in tenant.accounts:
        tenant.accounts[app.bot_account_id].active = False
    _audit(target, app, "app_uninstalled", actor, at_ms, app.version)
    app_event(tenant.org, target, app, "app_uninstall_success", actor, at_ms)
    return app


def upgrade_app(
    tenant: Tenant,
    site: str,
    product: str,
    key: str,
    actor: str,
    at_ms: int,
    version: str | None = None,
    scopes: list[str] | None = None,
) -> InstalledApp:
    """Move an app to another version of its listing.

    With ``scopes``, the vendor first publishes a new version declaring them (appended to the
    listing, so the Marketplace shows it too); otherwise the target is ``version`` or the latest.
    """
    target = _site(tenant, site)
    app = _installed(target, product, key)
    listing = _listing(tenant, key)
    if scopes is not None and version is not None:
        raise MutationError(400, "give either a version or new scopes, not both")
    if scopes is None and _version(listing, version).name == app.version:
        raise MutationError(409, f"{key} is already at version {app.version}")
    chosen = _publish_version(listing, scopes, at_ms) if scopes is not None else _version(listing, version)
    previous, app.version = app.version, chosen.name
    _audit(target, app, "app_upgraded", actor, at_ms, chosen.name, previous)
    if scopes is not None:  # Atlassian's automatic update stops at new permissions [I]
        app_event(tenant.org, target, app, "app_auto_update_failed_permission_required", actor, at_ms)
    app_event(tenant.org, target, app, "app_update_success", actor, at_ms)
    return app


def set_app_enabled(
    tenant: Tenant, site: str, product: str, key: str, enabled: bool, actor: str, at_ms: int
) -> InstalledApp:
    """Enable or disable an app; setting the state it already has changes (and audits) nothing."""
    target = _site(tenant, site)
    app = _installed(target, product, key)
    if not app.user_installed:
        raise MutationError(
            403, f"The plugin {key} is a system plugin and cannot be changed.", "upm.plugin.not.optional"
        )
    if app.enabled != enabled:
        app.enabled = enabled
        _audit(target, app, "app_enabled" if enabled else "app_disabled", actor, at_ms)
        action = "app_enable_success" if enabled else "app_disable_success"
        app_event(tenant.org, target, app, action, actor, at_ms)
    return app


# --- users, groups and memberships ------------------------------------------------------------


def add_user(
    tenant: Tenant,
    site: str,
    account_id: str,
    email: str,
    display_name: str,
    account_type: str = "atlassian",
    active: bool = True,
) -> Account:
    """Add an account to a site's directory: an existing account (by email) or a new one."""
    target = _site(tenant, site)
    account = tenant.account_by_email(email) if email else None
    if account is None:
        if account_id in tenant.accounts:
            raise MutationError(409, f"account {account_id} already exists")
        account = Account(account_id, display_name, email, account_type=account_type, active=active)
        tenant.accounts[account_id] = account
    if account.account_id in target.user_ids:
        raise MutationError(409, f"{email} is already a user of {site}")
    target.user_ids.append(account.account_id)
    return account


def remove_user(tenant: Tenant, site: str, account_id: str) -> None:
    """Remove an account from a site: with its group memberships and project role actors there."""
    target = _site(tenant, site)
    if account_id not in target.user_ids:
        raise MutationError(404, f"no user {account_id} on {site}")
    target.user_ids.remove(account_id)
    for group in target.groups:
        if account_id in group.members:
            group.members.remove(account_id)
    _drop_role_actor(target, ("atlassian-user-role-actor", account_id))
    _drop_permission_grants(target, "user", account_id)


def add_group(tenant: Tenant, site: str, group_id: str, name: str) -> Group:
    target = _site(tenant, site)
    if not name or any(g.name.lower() == name.lower() for g in target.groups):
        raise MutationError(409, f"a group named {name!r} already exists on {site}")
    group = Group(group_id, name)
    target.groups.append(group)
    return group


def remove_group(tenant: Tenant, site: str, group: str) -> None:
    """Remove a group (by id or name): with its role actors, application-role and permission grants."""
    target = _site(tenant, site)
    found = _group(target, group)
    target.groups.remove(found)
    _drop_role_actor(target, ("atlassian-group-role-actor", found.group_id))
    for role in target.application_roles:
        role.groups = [g for g in role.groups if g != found.group_id]
        role.default_groups = [g for g in role.default_groups if g != found.group_id]
    _drop_permission_grants(target, "group", found.name)


def add_membership(tenant: Tenant, site: str, group: str, account_id: str) -> Group:
    target = _site(tenant, site)
    found = _group(target, group)
    if account_id not in target.user_ids:
        raise MutationError(404, f"no user {account_id} on {site}")
    if account_id in found.members:
        raise MutationError(409, f"{account_id} is already a member of {found.name}")
    found.members.append(account_id)
    return found


def remove_membership(tenant: Tenant, site: str, group: str, account_id: str) -> Group:
    target = _site(tenant, site)
    found = _group(target, group)
    if account_id not in found.members:
        raise MutationError(404, f"{account_id} is not a member of {found.name}")
    found.members.remove(account_id)
    return found


# --- lookups and bookkeeping ------------------------------------------------------------------


def _site(tenant: Tenant, name: str) -> Site:
    site = tenant.site(name)
    if site is None:
        raise MutationError(404, f"no site {name}")
    return site


def _require_product(site: Site, product: str) -> None:
    if not site.has(product):
        raise MutationError(404, f"{site.name} has no {product}")


def _listing(tenant: Tenant, key: str) -> AppListing:
    listing = tenant.listings.get(key)
    if listing is None:
        raise MutationError(404, f"no app {key}", "upm.pluginInstall.error.response.exception")
    return listing


def _version(listing: AppListing, name: str | None) -> AppVersion:
    chosen = listing.latest if name is None else listing.version(name)
    if chosen is None:
        raise MutationError(
            404, f"{listing.key} has no version {name}", "upm.pluginInstall.error.response.exception"
        )
    return chosen


def _find_app(site: Site, product: str, key: str) -> InstalledApp | None:
    return next((a for a in site.apps if a.product == product and a.key == key), None)


def _installed(site: Site, product: str, key: str) -> InstalledApp:
    _require_product(site, product)
    app = _find_app(site, product, key)
    if app is None:
        raise MutationError(404, f"The plugin {key} is not installed.", "upm.plugin.not.found")
    return app


def _group(site: Site, group: str) -> Group:
    found = site.group_by_id(group) or site.group_by_name(group)
    if found is None:
        raise MutationError(404, f"no group {group} on {site.name}")
    return found


def _publish_version(listing: AppListing, scopes: list[str], at_ms: int) -> AppVersion:
    """The vendor's next release (minor version up), declaring ``scopes``."""
    latest = listing.latest
    major, minor = ([int(n) for n in re.findall(r"\d+", latest.name)] + [0, 0])[:2]
    name = f"{major}.{minor + 1}.0"
    while listing.version(name) is not None:
        minor += 1
        name = f"{major}.{minor + 1}.0"
    version = AppVersion(
        name,
        latest.build_number + 7,
        at_ms,
        latest.framework,
        sorted(set(scopes)),
        list(latest.egress),
        release_notes="Requests new scopes",
    )
    listing.versions.append(version)
    return version


def _add_to_addons_role(site: Site, product: str, bot_account_id: str) -> None:
    """Jira gives every app bot the add-ons project role by default, as the generator does."""
    if product != "jira":
        return
    for role in site.project_roles:
        if role.role_id == ADDONS_ROLE_ID:
            role.default_actors.append(("atlassian-user-role-actor", bot_account_id))


def _add_to_addons_admins(site: Site, product: str, framework: str, bot_account_id: str) -> None:
    """A Connect app's Jira bot joins ``atlassian-addons-admin``, as the generator has it."""
    group = site.group_by_name(ADDONS_ADMIN_GROUP) if product == "jira" and framework == "connect" else None
    if group is not None:
        group.members.append(bot_account_id)


def _drop_role_actor(site: Site, actor: tuple[str, str]) -> None:
    for role in site.project_roles:
        role.default_actors = [a for a in role.default_actors if a != actor]
    for project in site.projects:
        for role_id, actors in project.role_actors.items():
            project.role_actors[role_id] = [a for a in actors if a != actor]


def _drop_permission_grants(site: Site, holder_type: str, parameter: str) -> None:
    for scheme in site.permission_schemes:
        scheme.grants = [
            g for g in scheme.grants if (g.holder_type, g.holder_parameter) != (holder_type, parameter)
        ]


def _audit(
    site: Site, app: InstalledApp, kind: str, actor: str, at_ms: int, detail: str = "", extra: str = ""
) -> None:
    records = site.jira_audit if app.product == "jira" else site.confluence_audit
    last = records[-1] if records else None
    next_id = last.record_id + 1 if last else FIRST_AUDIT_ID[app.product]
    # strictly after the last record: the log stays oldest first (the generator makes the twins)
    created = max(at_ms, last.created_ms + 1) if last else at_ms
    records.append(AuditRecord(next_id, created, kind, actor, app.key, app.name, detail, extra))


# --- the journal ------------------------------------------------------------------------------


def journaled(state: SimState, change: Callable[..., T], **args: Any) -> T:
    """Make ``change`` through ``SimState.apply``, so a ``--data-dir`` restart replays it."""
    return cast(T, state.apply(change.__name__, args))


def _replayable(change: Callable[..., Any]) -> Callable[[SimState, dict[str, Any]], Any]:
    def run(state: SimState, args: dict[str, Any]) -> Any:
        return change(state.tenant, **args)

    return run


# every change by name, as SimState.apply journals and replays it
OPERATIONS: dict[str, Callable[[SimState, dict[str, Any]], Any]] = {
    change.__name__: _replayable(change)
    for change in (
        install_app,
        uninstall_app,
        upgrade_app,
        set_app_enabled,
        add_user,
        remove_user,
        add_group,
        remove_group,
        add_membership,
        remove_membership,
    )
}
