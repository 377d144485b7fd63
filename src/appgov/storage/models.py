"""The schema. One table per concept; every ingested data set lands in ``records`` keyed by its
natural key (one declarative stream per data set needs no new table); apps and the identity and
permission data, which governance queries, also get typed tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from appgov.outcomes import Outcome, stored

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("appgov stores aware datetimes only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        datetime: UTCDateTime(),
    }


class OAuthGrant(Base):
    """An Atlassian account's 3LO grant to appgov; it may cover several domains."""

    __tablename__ = "oauth_grants"
    __table_args__ = (UniqueConstraint("client_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[str] = mapped_column(String(128))
    account_email: Mapped[str | None] = mapped_column(String(320))
    scopes: Mapped[list[str]]
    access_token: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)  # encrypted
    access_expires_at: Mapped[datetime | None]
    refreshed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]  # the first consent ever
    # the consent that started the live token family: Atlassian ends the family 365 days after it
    consented_at: Mapped[datetime]
    reconsent_warned_at: Mapped[datetime | None]  # when people were told that end is near (this consent)
    status: Mapped[str] = mapped_column(String(32), default="active")  # active | expired | revoked
    status_reason: Mapped[str | None] = mapped_column(Text)
    refresh_lock_owner: Mapped[str | None] = mapped_column(String(128))
    refresh_lock_expires_at: Mapped[datetime | None]


class Domain(Base):
    """A connected tenant of a platform (an Atlassian site); what only its platform knows of it is
    in that connector's table (``atlassian_sites``)."""

    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), default="atlassian", server_default="atlassian")
    site_url: Mapped[str] = mapped_column(String(500), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    products: Mapped[list[str]]  # the platform's products the domain has (jira, confluence); may be []
    created_at: Mapped[datetime]
    # who connected it (accounts.principal): their name (a user's email), user and way in
    created_by: Mapped[str] = mapped_column(String(320))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_via: Mapped[str] = mapped_column(String(16))  # console | sso | api | cli | scheduler
    # the sync lease: at most one run per domain; it expires when its holder dies
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    # when its first sync succeeded (the "domain is ready" email goes out in that transaction)
    ready_at: Mapped[datetime | None]
    # the scheduler's next periodic sync (interval plus jitter)
    next_sync_at: Mapped[datetime | None]


class AtlassianSite(Base):
    """The Atlassian connector's part of a domain: its cloud id (the gateway's path) and the OAuth
    grant it is read with."""

    __tablename__ = "atlassian_sites"

    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True)
    cloud_id: Mapped[str | None] = mapped_column(String(64))
    oauth_grant_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_grants.id", ondelete="SET NULL"))


class ApiToken(Base):
    """A domain's Atlassian API token (Basic auth), with its owner's email."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), unique=True)
    owner_email: Mapped[str] = mapped_column(String(320))
    owner_account_id: Mapped[str | None] = mapped_column(String(128))
    secret: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    last4: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    validated_at: Mapped[datetime]
    # Atlassian does not tell a token's expiry: its owner may enter it (integrations.credentials)
    expires_at: Mapped[datetime | None]
    expiry_warned_at: Mapped[datetime | None]  # when people were told that expiry is near (this expiry)


class Organization(Base):
    """An Atlassian organization connected with its organization API key (the org admin API), and
    where reading its audit log stands: ``events_from``, the newest event time read (the next read
    starts there), and ``events_cursor``, the page a read in progress stops at (it resumes there)."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    secret: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    last4: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(320))
    validated_at: Mapped[datetime]
    events_from: Mapped[datetime | None]
    events_cursor: Mapped[dict[str, Any] | None]
    synced_at: Mapped[datetime | None]
    sync_error: Mapped[str | None] = mapped_column(String(500))
    next_sync_at: Mapped[datetime | None]


class OrgAppEvent(Base):
    """An "App actions" event of an organization's audit log: who did what to which app, on which site."""

    __tablename__ = "org_app_events"
    __table_args__ = (UniqueConstraint("organization_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(128))  # Atlassian's action key
    kind: Mapped[str] = mapped_column(String(32))  # install | uninstall | enable | disable | update | ...
    display_name: Mapped[str] = mapped_column(String(255))
    app_key: Mapped[str] = mapped_column(String(255), index=True)
    app_name: Mapped[str | None] = mapped_column(String(255))
    site_id: Mapped[str | None] = mapped_column(String(128))  # the site's cloud id
    site_name: Mapped[str | None] = mapped_column(String(255))
    actor_account_id: Mapped[str] = mapped_column(String(128))
    actor_name: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime]


class OrgApiToken(Base):
    """An API token of one of the organization's managed accounts, as the org admin API lists it."""

    __tablename__ = "org_api_tokens"
    __table_args__ = (UniqueConstraint("organization_id", "token_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    token_id: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(32))
    owner_account_id: Mapped[str] = mapped_column(String(128))
    owner_name: Mapped[str | None] = mapped_column(String(255))
    owner_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime | None]
    last_active_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class OrgApiKey(Base):
    """One of the organization's own API keys, as the API Access API lists it: metadata only."""

    __tablename__ = "org_api_keys"
    __table_args__ = (UniqueConstraint("organization_id", "key_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    key_id: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[str | None] = mapped_column(String(128))
    created_by_name: Mapped[str | None] = mapped_column(String(255))
    created_by_email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    last_active_at: Mapped[datetime | None]
    scopes: Mapped[list[str]]


class WithReason:
    """A stable reason code and its parameters (``appgov.outcomes``) beside the row's own words."""

    reason_code: Mapped[str | None] = mapped_column(String(64))
    reason_params: Mapped[dict[str, Any] | None]

    @property
    def outcome(self) -> Outcome | None:
        return stored(self.reason_code, self.reason_params)

    @outcome.setter
    def outcome(self, outcome: Outcome | None) -> None:
        self.reason_code = str(outcome.code) if outcome else None
        self.reason_params = dict(outcome.params) if outcome else None


class SyncRun(WithReason, Base):
    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_domain_started", "domain_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    # running | success | partial | failed | deferred | cancelled
    status: Mapped[str] = mapped_column(String(16))
    full: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    resume_at: Mapped[datetime | None]
    requests: Mapped[int] = mapped_column(default=0)
    retries: Mapped[int] = mapped_column(default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)


class DatasetState(WithReason, Base):
    """Per domain and data set: the resume checkpoint, the audit bookmark and availability."""

    __tablename__ = "dataset_states"

    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id", ondelete="SET NULL"))
    checkpoint: Mapped[dict[str, Any] | None]
    bookmark: Mapped[str | None] = mapped_column(String(64))
    pass_started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | ok | unavailable | error
    reason: Mapped[str | None] = mapped_column(Text)
    count: Mapped[int] = mapped_column(default=0)


class Record(Base):
    """One item of an ingested data set, by natural key, with soft deletion from complete passes."""

    __tablename__ = "records"
    __table_args__ = (
        UniqueConstraint("domain_id", "dataset", "key"),
        Index("ix_records_domain_dataset_seen", "domain_id", "dataset", "seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    dataset: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(512))
    data: Mapped[dict[str, Any]]
    first_seen_at: Mapped[datetime]
    seen_at: Mapped[datetime]  # the start of the last pass that saw it
    removed_at: Mapped[datetime | None]


class App(Base):
    """A third-party app installed on a domain's product."""

    __tablename__ = "apps"
    __table_args__ = (UniqueConstraint("domain_id", "product", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    product: Mapped[str] = mapped_column(String(16))
    dataset: Mapped[str] = mapped_column(String(64))  # the data set whose records list it
    key: Mapped[str] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(Text)
    vendor: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(String(128))
    enabled: Mapped[bool]
    framework: Mapped[str | None] = mapped_column(String(16))  # connect | forge | oauth
    # scopes and egress domains of the installed version; None: unknown (neither the gateway nor the
    # Marketplace says), never an empty list for that; scopes_source: gateway | marketplace
    scopes: Mapped[list[str] | None]
    egress: Mapped[list[str] | None]
    scopes_source: Mapped[str | None] = mapped_column(String(16))
    marketplace: Mapped[dict[str, Any] | None]  # listing, vendor trust signals; None when private
    # None: enriched by the last sync; else a reason code: "enrichment_pending" (the Marketplace asked
    # to wait; the enrichment of an earlier sync, if any, is kept until the next sync brings it)
    enrichment: Mapped[str | None] = mapped_column(String(32))
    installed_by: Mapped[str | None] = mapped_column(String(128))  # the installer's account id
    installed_by_name: Mapped[str | None] = mapped_column(Text)  # their display name, when known
    installed_at: Mapped[datetime | None]
    # where installer and install time came from (connectors/atlassian/installers.InstallerSource);
    # None: no documented source names them (outcomes.Code.INSTALLER_UNKNOWN)
    installed_source: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class AppEvent(Base):
    """The change log of apps: installed, removed, upgraded, scopes_changed, enabled, disabled."""

    __tablename__ = "app_events"
    __table_args__ = (Index("ix_app_events_domain_at", "domain_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    product: Mapped[str] = mapped_column(String(16))
    app_key: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --- identity and permissions: typed tables a connector refreshes from its raw records ------------
# Each mirrors the live rows of the data sets it is projected from (no history of its own): who is
# in a domain's directory, in which groups, and what grants and roles they hold, for one query.


class DirectoryUser(Base):
    """An account in a domain's directory: a person, a customer, or an app's bot user (how an app
    acts). ``account_type`` is ``atlassian``, ``app`` or ``customer`` (the platform's word), ``None``
    where only a membership names the account."""

    __tablename__ = "directory_users"
    __table_args__ = (UniqueConstraint("domain_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(String(128))
    account_type: Mapped[str | None] = mapped_column(String(32))
    display_name: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool | None]


class DirectoryGroup(Base):
    """A group of a domain's directory; ``admin`` when the connector knows it for an admin group."""

    __tablename__ = "directory_groups"
    __table_args__ = (UniqueConstraint("domain_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(Text)
    admin: Mapped[bool] = mapped_column(default=False)


class GroupMember(Base):
    """An account's membership of a group (inactive accounts included)."""

    __tablename__ = "group_members"
    # account first: the one index also finds an account's groups (one index less to keep up on
    # a refresh of hundreds of thousands of rows)
    __table_args__ = (UniqueConstraint("domain_id", "account_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    group_id: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[str] = mapped_column(String(128))


class PermissionGrant(Base):
    """A permission a scheme grants to a holder: ``holder_type`` ``user`` (parameter: an account
    id), ``group`` (parameter: its name, ``holder_value`` its id), ``application_role`` (a role's
    key), ``role`` (a project role's id), ``anyone``, or the platform's own word for others."""

    __tablename__ = "permission_grants"
    __table_args__ = (
        UniqueConstraint("domain_id", "scheme_id", "grant_id"),
        Index("ix_permission_grants_domain_holder", "domain_id", "holder_type", "holder_parameter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    scheme_id: Mapped[str] = mapped_column(String(64))
    grant_id: Mapped[str] = mapped_column(String(64))
    permission: Mapped[str] = mapped_column(String(128))
    holder_type: Mapped[str] = mapped_column(String(64))
    holder_parameter: Mapped[str | None] = mapped_column(String(512))
    holder_value: Mapped[str | None] = mapped_column(String(512))


class RoleActor(Base):
    """Who plays a role in a project: ``actor_type`` ``user`` (value: an account id) or ``group``
    (value: a group id)."""

    __tablename__ = "role_actors"
    __table_args__ = (
        UniqueConstraint("domain_id", "project_id", "role_id", "actor_type", "actor_value"),
        Index("ix_role_actors_domain_actor", "domain_id", "actor_type", "actor_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(String(64))
    role_id: Mapped[str] = mapped_column(String(64))
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_value: Mapped[str] = mapped_column(String(128))


class ApplicationRole(Base):
    """A product licence (Jira Software, ...) that membership of its groups gives."""

    __tablename__ = "application_roles"
    __table_args__ = (UniqueConstraint("domain_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(Text)


class ApplicationRoleGroup(Base):
    """A group whose members an application role covers."""

    __tablename__ = "application_role_groups"
    __table_args__ = (UniqueConstraint("domain_id", "role_key", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    role_key: Mapped[str] = mapped_column(String(128))
    group_id: Mapped[str] = mapped_column(String(128))
    group_name: Mapped[str] = mapped_column(Text)


class User(Base):
    """A person who signs in to the console, with a password or through the identity provider (SSO),
    with one global role. SSO finds the user by the provider's (issuer, subject), never by email."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("sso_issuer", "sso_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id PHC string; none: SSO only
    sso_issuer: Mapped[str | None] = mapped_column(String(500))
    sso_subject: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")  # viewer | analyst | admin
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]  # a disabled user cannot sign in; their sessions and tokens end


class WebSession(Base):
    """A signed-in browser; the cookie carries a random token, the table its hash."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    address: Mapped[str | None] = mapped_column(String(64))  # where it signed in from, to list sessions
    user_agent: Mapped[str | None] = mapped_column(String(200))


class RevocationRight(Base):
    """A user's explicit right to revoke, disable or ban apps: on one domain, or on every domain when
    ``domain_id`` is NULL. No role implies it; withdrawing it deletes the row (the audit trail keeps
    who granted and who withdrew it)."""

    __tablename__ = "revocation_rights"
    __table_args__ = (
        UniqueConstraint("user_id", "domain_id"),
        # UNIQUE treats NULLs as distinct: this keeps one all-domains right per user
        Index(
            "ux_revocation_rights_all_domains", "user_id", unique=True,
            sqlite_where=text("domain_id IS NULL"), postgresql_where=text("domain_id IS NULL"),
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    granted_by: Mapped[str] = mapped_column(String(320))
    granted_at: Mapped[datetime]


class Invitation(Base):
    """A one-time link that lets a named email create its account with the given role, until it expires.
    Without an email it is the first administrator's setup link, good only while no user exists."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the link's token
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    invited_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class PersonalToken(Base):
    """A personal token for the REST API: hashed at rest, shown once, acting with its user's current
    permissions (never more), until it expires or is revoked."""

    __tablename__ = "personal_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the token
    prefix: Mapped[str] = mapped_column(String(16))  # its first characters, to recognise it in a list
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed sign-ins per account and per client address, in a sliding window."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # "account:<email>" | "ip:<addr>"
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]


class OAuthFlow(Base):
    """One consent in flight: its state (hashed), bound to the session that started it, single-use and
    short-lived; after the callback, the grant and the sites it reaches until the admin picks one."""

    __tablename__ = "oauth_flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("web_sessions.id", ondelete="CASCADE"))
    code_verifier: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    purpose: Mapped[str] = mapped_column(String(16))  # add | reconnect
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"))
    account_email: Mapped[str | None] = mapped_column(String(320))
    resources: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class SsoFlow(Base):
    """One sign-in through the identity provider in flight: its state (hashed; the state itself rides
    in the browser's cookie and the provider's redirect), nonce and PKCE verifier (encrypted),
    single-use and short-lived."""

    __tablename__ = "sso_flows"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    next_path: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class Job(Base):
    """Background work of one kind (``workers.registry``: a sync, later revoke, notify, ...), queued in
    the database so it survives restarts. ``payload`` is the kind's input (a sync's ``full``),
    ``result`` what it made (a sync's ``run_id``); a domain only where the kind needs one."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_at", "status", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="sync")
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | cancelled
    run_at: Mapped[datetime]
    created_at: Mapped[datetime]
    # who asked (accounts.principal): their name (a user's email, or "scheduler"), user and way in
    requested_by: Mapped[str] = mapped_column(String(320))
    requested_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_via: Mapped[str] = mapped_column(String(16))  # console | sso | api | cli | scheduler
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None]
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    finished_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """An email to send, written in the transaction of the event it reports; the unique key makes
    each event's email exist once whatever retries."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Notification(Base):
    """An in-app notification for one user: a domain ready, a sync error."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    domain_id: Mapped[int | None] = mapped_column(ForeignKey("domains.id", ondelete="SET NULL"))
    # domain_ready | sync_error | reconsent_needed | api_token_expiring
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what, kept after its target is gone (no foreign key on purpose). Append-only: the
    application never changes or deletes a row, and triggers make the database refuse it (0012)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(320))  # the principal's name (a user's email)
    actor_user_id: Mapped[int | None]  # no foreign key either: the trail outlives the user
    actor_via: Mapped[str] = mapped_column(String(16))  # console | sso | api | cli | scheduler
    action: Mapped[str] = mapped_column(String(64))  # domain.added | domain.deleted | ...
    target: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[str] = mapped_column(String(16), default="success")  # success | failure | denied
    address: Mapped[str | None] = mapped_column(String(64))  # the client's address, over HTTP
    request_id: Mapped[str | None] = mapped_column(String(32))  # the X-Request-Id its answer carried


class SecretKeyCheck(Base):
    """One per key that has encrypted secrets here: a known text encrypted with it, so a process
    starting with a keyring knows before it reads any secret whether its key is that key (CS-03)."""

    __tablename__ = "secret_key_checks"

    key_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    verifier: Mapped[bytes] = mapped_column(LargeBinary)  # encrypted
    created_at: Mapped[datetime]
