"""Settings, read once from the environment (``APPGOV_*``), with embedded defaults.

The defaults run everything on one machine: SQLite under the data directory, in-process jobs, the
real Atlassian Cloud URLs. Every Atlassian URL is configurable so the same code talks to the
bundled simulator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in value.split(",") if part.strip())


def https_or_loopback(url: str) -> bool:
    """https, or plain http on this machine only (a local demo, a test's server)."""
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


def _int(env: dict[str, str], name: str, default: int) -> int:
    return int(env.get(name) or default)


@dataclass(frozen=True)
class AtlassianSettings:
    """The Atlassian connector's settings. Every Atlassian URL is configurable so the same code talks
    to the bundled simulator."""

    auth_url: str = "https://auth.atlassian.com"
    api_url: str = "https://api.atlassian.com"
    marketplace_url: str = "https://marketplace.atlassian.com"
    admin_url: str = "https://api.atlassian.com"  # the organization admin API (an org API key)
    # the OAuth 2.0 (3LO) app registered in Atlassian's developer console (docs/atlassian-setup.md)
    oauth_client_id: str | None = None
    oauth_client_secret: str | None = None
    oauth_redirect_uri: str | None = None  # default: <public_url>/integrations/atlassian/callback

    @classmethod
    def from_env(cls, env: dict[str, str]) -> AtlassianSettings:
        return cls(
            auth_url=env.get("APPGOV_ATLASSIAN_AUTH_URL", cls.auth_url).rstrip("/"),
            api_url=env.get("APPGOV_ATLASSIAN_API_URL", cls.api_url).rstrip("/"),
            marketplace_url=env.get("APPGOV_MARKETPLACE_URL", cls.marketplace_url).rstrip("/"),
            admin_url=env.get("APPGOV_ATLASSIAN_ADMIN_URL", cls.admin_url).rstrip("/"),
            oauth_client_id=env.get("APPGOV_ATLASSIAN_CLIENT_ID") or None,
            oauth_client_secret=env.get("APPGOV_ATLASSIAN_CLIENT_SECRET") or None,
            oauth_redirect_uri=env.get("APPGOV_ATLASSIAN_REDIRECT_URI") or None,
        )


def _flag(env: dict[str, str], name: str) -> bool:
    return env.get(name, "").lower() in ("1", "true", "yes")


def _pairs(value: str, name: str) -> tuple[tuple[str, str], ...]:
    """``a=x,b=y`` as ``(("a", "x"), ("b", "y"))``, in order."""
    pairs = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        key, equals, mapped = part.partition("=")
        if not equals or not key.strip() or not mapped.strip():
            raise ValueError(f"{name}: {part!r} is not name=role")
        pairs.append((key.strip(), mapped.strip().lower()))
    return tuple(pairs)


ROLES = ("viewer", "analyst", "admin")  # accounts.permissions.Role's values (config sits below accounts)


@dataclass(frozen=True)
class OidcSettings:
    """Sign-in to the console through an OpenID Connect provider (README "Sign in with SSO")."""

    issuer: str | None = None  # its discovery document is {issuer}/.well-known/openid-configuration
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)  # none: a public client (PKCE alone)
    role_claim: str | None = None  # a claim naming the user's role or groups, mapped at each sign-in
    role_map: tuple[tuple[str, str], ...] = ()  # the claim's value (or one of its values) -> a role
    default_role: str = "viewer"  # a new user's role when the claim maps to none
    required: bool = False  # password sign-in refused in the console (the CLI stays: the break-glass)

    def __post_init__(self) -> None:
        if self.required and not self.configured:
            raise ValueError("APPGOV_SSO_REQUIRED needs APPGOV_OIDC_ISSUER and APPGOV_OIDC_CLIENT_ID")
        if self.issuer and not https_or_loopback(self.issuer):
            raise ValueError("APPGOV_OIDC_ISSUER must use https (plain http only on 127.0.0.1 or localhost)")
        for role in (self.default_role, *(mapped for _, mapped in self.role_map)):
            if role not in ROLES:
                raise ValueError(
                    f"APPGOV_OIDC_ROLE_MAP, APPGOV_OIDC_DEFAULT_ROLE: {role!r} is not one of {ROLES}"
                )

    @property
    def configured(self) -> bool:
        return bool(self.issuer and self.client_id)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> OidcSettings:
        return cls(
            issuer=env.get("APPGOV_OIDC_ISSUER") or None,  # exactly: the ID token's `iss` must equal it
            client_id=env.get("APPGOV_OIDC_CLIENT_ID") or None,
            client_secret=env.get("APPGOV_OIDC_CLIENT_SECRET") or None,
            role_claim=env.get("APPGOV_OIDC_ROLE_CLAIM") or None,
            role_map=_pairs(env.get("APPGOV_OIDC_ROLE_MAP", ""), "APPGOV_OIDC_ROLE_MAP"),
            default_role=(env.get("APPGOV_OIDC_DEFAULT_ROLE") or cls.default_role).lower(),
            required=_flag(env, "APPGOV_SSO_REQUIRED"),
        )


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    # the keyring (security.secrets): id:base64key entries, newest first; or one base64 key (key 1);
    # neither: the data directory's secret.key
    secret_keys: str | None = None
    secret_key: str | None = None
    atlassian: AtlassianSettings = field(default_factory=AtlassianSettings)
    oidc: OidcSettings = field(default_factory=OidcSettings)
    # hosts (host or host:port) admitted besides *.atlassian.net, for the simulator or a proxy
    allowed_hosts: tuple[str, ...] = field(default_factory=tuple)
    ca_bundle: str | None = None  # extra CA file for TLS verification (e.g. the simulator's certificate)
    # requests in flight per domain; Atlassian publishes no number, and answers 429 past its burst limit
    sync_concurrency: int = 16
    # requests one run may make per domain before it defers for an hour (None: no budget)
    sync_request_budget: int | None = None
    # the console: where users reach it (links in email, the OAuth callback, Secure cookies on https)
    public_url: str = "http://127.0.0.1:8000"
    session_idle_minutes: int = 60
    session_max_hours: int = 12
    # addresses of the reverse proxies whose X-Forwarded-For names the client (none: it is ignored)
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    # the scheduler: a periodic sync per domain, spread by up to `sync_jitter_minutes`
    sync_interval_minutes: int = 360
    sync_jitter_minutes: int = 30
    # Last synced turns red when the last sync took longer than this, or succeeded longer ago than that
    slow_sync_minutes: float = 30.0
    stale_sync_hours: int = 24
    # email (the "domain is ready" message); no host: email is kept in the outbox, unsent
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "appgov@localhost"
    # the in-process runner: how many domains sync at once (each run holds its domain's lease)
    runner_concurrency: int = 2
    # grant upkeep: refresh a grant idle this long (Atlassian kills a refresh token unused 90 days)
    grant_refresh_days: int = 75
    # warn this long before a credential ends: an API token's expiry date, a consent's 365 days
    expiry_warning_days: int = 30

    def __post_init__(self) -> None:
        if not 0 < self.grant_refresh_days < 90:  # Atlassian kills a refresh token unused for 90 days
            raise ValueError("APPGOV_GRANT_REFRESH_DAYS must be between 1 and 89")
        if self.oidc.configured and not https_or_loopback(self.sso_redirect_uri):
            raise ValueError("single sign-on needs APPGOV_PUBLIC_URL on https (plain http only on loopback)")

    @property
    def redirect_uri(self) -> str:
        return self.atlassian.oauth_redirect_uri or f"{self.public_url}/integrations/atlassian/callback"

    @property
    def sso_redirect_uri(self) -> str:
        """Where the identity provider sends the browser back: register it there as is."""
        return f"{self.public_url}/login/sso/callback"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("APPGOV_DATA_DIR") or Path.home() / ".appgov").expanduser()
        return cls(
            data_dir=data_dir,
            database_url=env.get("APPGOV_DATABASE_URL") or f"sqlite:///{data_dir / 'appgov.db'}",
            secret_keys=env.get("APPGOV_SECRET_KEYS") or None,
            secret_key=env.get("APPGOV_SECRET_KEY") or None,
            atlassian=AtlassianSettings.from_env(env),
            oidc=OidcSettings.from_env(env),
            allowed_hosts=_split(env.get("APPGOV_ALLOWED_HOSTS", "")),
            ca_bundle=env.get("APPGOV_CA_BUNDLE") or None,
            sync_concurrency=_int(env, "APPGOV_SYNC_CONCURRENCY", cls.sync_concurrency),
            sync_request_budget=int(env["APPGOV_SYNC_REQUEST_BUDGET"])
            if env.get("APPGOV_SYNC_REQUEST_BUDGET")
            else None,
            public_url=env.get("APPGOV_PUBLIC_URL", cls.public_url).rstrip("/"),
            session_idle_minutes=_int(env, "APPGOV_SESSION_IDLE_MINUTES", cls.session_idle_minutes),
            session_max_hours=_int(env, "APPGOV_SESSION_MAX_HOURS", cls.session_max_hours),
            trusted_proxies=_split(env.get("APPGOV_TRUSTED_PROXIES", "")),
            sync_interval_minutes=_int(env, "APPGOV_SYNC_INTERVAL_MINUTES", cls.sync_interval_minutes),
            sync_jitter_minutes=_int(env, "APPGOV_SYNC_JITTER_MINUTES", cls.sync_jitter_minutes),
            slow_sync_minutes=float(env.get("APPGOV_SLOW_SYNC_MINUTES") or cls.slow_sync_minutes),
            stale_sync_hours=_int(env, "APPGOV_STALE_SYNC_HOURS", cls.stale_sync_hours),
            smtp_host=env.get("APPGOV_SMTP_HOST") or None,
            smtp_port=_int(env, "APPGOV_SMTP_PORT", cls.smtp_port),
            smtp_user=env.get("APPGOV_SMTP_USER") or None,
            smtp_password=env.get("APPGOV_SMTP_PASSWORD") or None,
            smtp_starttls=_flag(env, "APPGOV_SMTP_STARTTLS"),
            mail_from=env.get("APPGOV_MAIL_FROM", cls.mail_from),
            runner_concurrency=_int(env, "APPGOV_RUNNER_CONCURRENCY", cls.runner_concurrency),
            grant_refresh_days=_int(env, "APPGOV_GRANT_REFRESH_DAYS", cls.grant_refresh_days),
            # APPGOV_RECONSENT_WARNING_DAYS: its older name, from when only a consent's end was warned of
            expiry_warning_days=_int(
                env,
                "APPGOV_EXPIRY_WARNING_DAYS",
                _int(env, "APPGOV_RECONSENT_WARNING_DAYS", cls.expiry_warning_days),
            ),
        )
