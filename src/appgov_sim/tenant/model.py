"""The in-memory tenant: accounts, sites and what each site holds.

Plain dataclasses; the HTTP layer renders them into Atlassian's JSON shapes (``appgov_sim.render``)
and the control API mutates them. Timestamps are epoch milliseconds, as the wire formats derive
from them cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ApiToken:
    """A classic (unscoped) Atlassian API token, used with Basic auth on a site."""

    token_id: str
    label: str
    secret: str
    created_ms: int
    expires_ms: int
    last_access_ms: int | None = None
    revoked: bool = False


@dataclass(slots=True)
class Account:
    """An Atlassian account. Accounts are global; a site's directory lists the ones it has."""

    account_id: str
    display_name: str
    email: str
    account_type: str = "atlassian"  # atlassian | app | customer
    app_type: str | None = None  # service | agent, for accountType "app"
    active: bool = True
    time_zone: str = "Etc/UTC"
    locale: str = "en_US"
    password: str | None = None
    managed: bool = True  # belongs to a verified domain of the organization
    last_active_ms: int = 0
    api_tokens: list[ApiToken] = field(default_factory=list)


@dataclass(slots=True)
class Group:
    group_id: str
    name: str
    members: list[str] = field(default_factory=list)  # account ids, in join order
    usage_type: str = "USERBASE_GROUP"
    managed_by: str = "ADMINS"


@dataclass(slots=True)
class ApplicationRole:
    key: str
    name: str
    groups: list[str]  # group ids
    default_groups: list[str]
    number_of_seats: int
    user_count: int
    platform: bool = False


@dataclass(slots=True)
class ProjectCategory:
    category_id: str
    name: str
    description: str


@dataclass(slots=True)
class Project:
    project_id: str
    key: str
    name: str
    lead_account_id: str
    category: ProjectCategory | None
    style: str  # classic | next-gen
    type_key: str  # software | business | service_desk
    issue_count: int
    last_issue_update_ms: int
    permission_scheme_id: int
    # role id -> actors: ("atlassian-user-role-actor", accountId) or ("atlassian-group-role-actor", groupId)
    role_actors: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


@dataclass(slots=True)
class ProjectRole:
    role_id: int
    name: str
    description: str
    default_actors: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class PermissionGrant:
    grant_id: int
    permission: str
    holder_type: str  # group | projectRole | user | applicationRole | anyone | projectLead
    holder_parameter: str | None  # group name, role id, account id or application key


@dataclass(slots=True)
class PermissionScheme:
    scheme_id: int
    name: str
    description: str
    grants: list[PermissionGrant] = field(default_factory=list)


@dataclass(slots=True)
class Field:
    field_id: str
    name: str
    custom: bool
    schema_type: str
    schema_system: str | None = None
    custom_type: str | None = None
    custom_id: int | None = None


@dataclass(slots=True)
class AuditRecord:
    """One audit record; ``kind`` picks the rendering (see ``render.audit``)."""

    record_id: int
    created_ms: int
    kind: str
    author_account_id: str
    object_id: str
    object_name: str
    detail: str = ""  # e.g. group name, app version
    extra: str = ""  # e.g. previous version
    remote_address: str = "203.0.113.7"


@dataclass(slots=True)
class AppVersion:
    """One Marketplace version of an app, with what it declares."""

    name: str  # e.g. "2.4.1"
    build_number: int
    release_ms: int
    framework: str  # connect | forge | oauth
    scopes: list[str]  # Connect descriptor scopes (READ, WRITE, ...) or Forge/OAuth 2.0 scopes
    egress: list[str] = field(default_factory=list)  # Forge egress domains
    release_notes: str = ""


@dataclass(slots=True)
class Vendor:
    vendor_id: int
    name: str
    link: str
    email: str
    is_atlassian: bool = False
    top_vendor: bool = False
    partner_tier: str | None = None  # GOLD | PLATINUM | SILVER


@dataclass(slots=True)
class AppListing:
    """An app as its vendor published it: the Marketplace view (absent when private)."""

    key: str
    name: str
    summary: str
    description: str
    vendor: Vendor
    products: list[str]  # jira | confluence
    versions: list[AppVersion]  # oldest first
    private: bool = False
    cloud_fortified: bool = False
    bug_bounty: bool = False
    privacy_and_security: bool = True
    total_installs: int = 0
    total_users: int = 0
    rating: float = 0.0
    rating_count: int = 0
    marketplace_id: int = 0
    icon_link: str = ""

    def version(self, name: str) -> AppVersion | None:
        return next((v for v in self.versions if v.name == name), None)

    @property
    def latest(self) -> AppVersion:
        return self.versions[-1]


@dataclass(slots=True)
class InstalledApp:
    """An app installed on one product of one site, as the plugin manager lists it."""

    key: str
    product: str  # jira | confluence
    name: str
    version: str
    vendor_name: str
    vendor_link: str
    description: str
    enabled: bool
    user_installed: bool
    installed_ms: int
    installed_by: str  # account id
    framework: str  # connect | forge | oauth | system
    bot_account_id: str | None = None
    modules: list[str] = field(default_factory=list)


@dataclass(slots=True)
class OAuthIntegration:
    """An OAuth 2.0 (3LO) integration an account authorised against a site (not in the plugin manager)."""

    client_id: str
    name: str
    vendor_name: str
    scopes: list[str]
    authorized_by: str
    authorized_ms: int
    bot_account_id: str | None = None


@dataclass(slots=True)
class BurstLimit:
    """Atlassian's per-site burst limit: concurrent requests and requests per second."""

    concurrency: int = 64
    requests_per_second: float = 2000.0


@dataclass(slots=True)
class Site:
    name: str
    cloud_id: str
    title: str
    products: tuple[str, ...]  # ("jira",), ("confluence",) or both
    plans: dict[str, str]  # application id -> UNLICENSED | FREE | PAID
    edition: str
    user_ids: list[str] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    application_roles: list[ApplicationRole] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    project_roles: list[ProjectRole] = field(default_factory=list)
    permission_schemes: list[PermissionScheme] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    apps: list[InstalledApp] = field(default_factory=list)
    oauth_integrations: list[OAuthIntegration] = field(default_factory=list)
    jira_audit: list[AuditRecord] = field(default_factory=list)  # oldest first
    confluence_audit: list[AuditRecord] = field(default_factory=list)  # oldest first
    admin_group_names: tuple[str, ...] = (
        "site-admins",
        "jira-admins",
        "confluence-admins",
        "atlassian-addons-admin",
    )
    burst: BurstLimit = field(default_factory=BurstLimit)
    created_ms: int = 0

    def has(self, product: str) -> bool:
        return product in self.products

    def group_by_id(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.group_id == group_id), None)

    def group_by_name(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)

    def apps_for(self, product: str) -> list[InstalledApp]:
        return [a for a in self.apps if a.product == product]

    def is_admin(self, account_id: str) -> bool:
        return any(account_id in g.members for g in self.groups if g.name in self.admin_group_names)


@dataclass(slots=True)
class OrgApiKey:
    """An organization API key as the API Access API lists it: metadata, never the secret. The
    first one is the key in ``Organization.api_key``."""

    key_id: str
    label: str
    created_by: str  # the account id of the org admin who created it
    created_ms: int
    expires_ms: int
    last_active_ms: int | None
    system_account_id: str  # the key acts as a system account of its own
    scopes: list[str]


@dataclass(slots=True)
class Organization:
    org_id: str
    name: str
    domains: list[str]
    api_key: str
    events: list[OrgEvent] = field(default_factory=list)  # oldest first
    api_keys: list[OrgApiKey] = field(default_factory=list)  # oldest first


@dataclass(slots=True)
class OrgEvent:
    event_id: str
    time_ms: int
    action: str
    actor_account_id: str
    message: str
    context_id: str
    ip: str = "203.0.113.7"
    # an "App actions" event (``tenant.org_audit``): the app and the site it happened on
    app_key: str | None = None
    app_name: str | None = None
    site_name: str | None = None
    site_cloud_id: str | None = None


# The audit records of app changes (install, upgrade, enable, disable, uninstall). Atlassian does
# not document them in the Jira or Confluence audit log (docs/simulator/apps.md): the simulator keeps
# them in its history and serves them only with the ``app_audit_records`` switch.
APP_AUDIT_KINDS = frozenset(
    {"app_installed", "app_upgraded", "app_enabled", "app_disabled", "app_uninstalled"}
)
FORGE_SOURCES = ("gateway", "upm", "both")


@dataclass(slots=True)
class Switches:
    """Where the simulator shows what is uncertain about Atlassian (docs/simulator/control.md).

    ``forge_apps``: where installed Forge apps are listed: the site's GraphQL gateway
    (``appInstallationsByContext``), the plugin manager, or both. ``app_audit_records``: whether the
    Jira and Confluence audit logs show app changes (not Atlassian's documented behaviour).
    ``upm_log_feed``: whether the plugin manager serves its Atom audit feed (unverified on Cloud).
    ``gateway_permissions``: whether the gateway shows a site admin the scopes and egress of an
    installed Forge app version (unverified).
    """

    forge_apps: str = "gateway"
    app_audit_records: bool = False
    upm_log_feed: bool = False
    gateway_permissions: bool = True

    def __post_init__(self) -> None:
        if self.forge_apps not in FORGE_SOURCES:
            raise ValueError(f"forge_apps must be one of {', '.join(FORGE_SOURCES)}")

    def in_plugin_manager(self, app: InstalledApp) -> bool:
        return app.framework != "forge" or self.forge_apps in ("upm", "both")

    def in_gateway(self, app: InstalledApp) -> bool:
        return app.framework == "forge" and app.user_installed and self.forge_apps in ("gateway", "both")

    def served_audit(self, records: list[AuditRecord]) -> list[AuditRecord]:
        """The records an audit log shows: without app changes unless ``app_audit_records``."""
        if self.app_audit_records:
            return records
        return [r for r in records if r.kind not in APP_AUDIT_KINDS]


@dataclass(slots=True)
class Tenant:
    profile: str
    seed: int
    hostile: bool
    org: Organization
    accounts: dict[str, Account]
    sites: list[Site]
    listings: dict[str, AppListing]  # by app key, Marketplace-published and private alike
    vendors: dict[int, Vendor]
    # lower-cased email -> account id, and the (count, newest id) of ``accounts`` it was built from
    email_index: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    email_index_of: tuple[int, str | None] = field(default=(0, None), repr=False, compare=False)
    switches: Switches = field(default_factory=Switches)

    def site(self, name: str) -> Site | None:
        return next((s for s in self.sites if s.name == name), None)

    def site_by_cloud_id(self, cloud_id: str) -> Site | None:
        return next((s for s in self.sites if s.cloud_id == cloud_id), None)

    def account_by_email(self, email: str) -> Account | None:
        """The first account with this email, case-insensitively.

        Every Basic-auth request asks, so this is an index rather than a scan of every account
        (milliseconds per request on ``large``). Accounts keep their email; the index is rebuilt
        whenever an account is added or removed.
        """
        email = email.lower()
        found = self.accounts.get(self._emails().get(email, ""))
        return found if found is not None and found.email.lower() == email else None

    def _emails(self) -> dict[str, str]:
        shape = (len(self.accounts), next(reversed(self.accounts), None))
        if shape != self.email_index_of:
            self.email_index = {}
            for account in self.accounts.values():
                self.email_index.setdefault(account.email.lower(), account.account_id)
            self.email_index_of = shape
        return self.email_index
