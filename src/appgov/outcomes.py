"""Reason codes: every failure and degradation is a stable code with parameters, never a sentence.

Runs (``SyncRun``) and data-set states (``DatasetState``) store an ``Outcome``'s code and parameters
beside their message; ``integrations.status`` decides a domain's status from codes alone; and the one
catalogue here (``words``) turns a code and its parameters into the words the console, the CLI, the
notifications and the REST API show. A connector classifies what its platform answered into these
codes; nothing here knows any platform's shapes. Parameters are JSON: times are ISO-8601 strings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

Params = Mapping[str, Any]


class Code(StrEnum):
    # the domain is being set up or synced
    WAITING_FOR_FIRST_SYNC = "waiting_for_first_sync"
    STILL_PROCESSING = "still_processing"
    SYNC_QUEUED = "sync_queued"
    RUN_STOPPED = "run_stopped"  # its worker died mid-way
    RECONSENT_NEEDED = "reconsent_needed"  # by: the consent's end
    # credentials
    GRANT_EXPIRED = "grant_expired"  # detail: the authorization server's words; or on: the consent's end
    API_TOKEN_EXPIRED = "api_token_expired"  # noqa: S105 (a reason, not a secret); on: the expiry entered
    CONSENT_REVOKED = "consent_revoked"
    CREDENTIALS_REJECTED = "credentials_rejected"  # detail
    API_TOKEN_REJECTED = "api_token_rejected"  # noqa: S105 (a reason, not a secret); credentials rejected while an API token is stored
    REFRESH_TIMED_OUT = "refresh_timed_out"  # another process held the grant's refresh too long
    REFRESH_UNCONFIRMED = "refresh_unconfirmed"  # the token endpoint gave no definite answer to a refresh
    SECRET_UNREADABLE = "secret_unreadable"  # noqa: S105 (a reason, not a secret); detail: a stored secret no longer decrypts
    TOKEN_ENDPOINT_REFUSED = "token_endpoint_refused"  # noqa: S105 (a reason, not a secret); error: the endpoint's error code
    # the platform's service
    SITE_UNREACHABLE = "site_unreachable"  # url, attempts, failure
    SERVER_FAILING = "server_failing"  # url, attempts, failure (an HTTP status)
    RATE_LIMITED = "rate_limited"  # url, seconds, failure; until: the resume time
    ASKED_TO_WAIT = "asked_to_wait"  # url, seconds, failure; until
    BUDGET_SPENT = "budget_spent"  # limit; until
    OFF_SITE_REDIRECT = "off_site_redirect"  # method, url
    UNEXPECTED_REPLY = "unexpected_reply"  # key: where a list was expected
    DATABASE_UNAVAILABLE = "database_unavailable"  # detail; until
    # data sets
    DATASETS_FAILED = "datasets_failed"  # datasets
    DATASET_FAILED = "dataset_failed"  # status, url, detail
    DATASET_UNAVAILABLE = "dataset_unavailable"  # status, detail; or datasets
    NOT_ON_PLAN = "not_on_plan"  # detail; or datasets: the site's plan does not offer it (a note)
    SCOPE_MISSING = "scope_missing"  # scope: the OAuth grant lacks it
    NEEDS_API_TOKEN = "needs_api_token"  # noqa: S105 (a reason, not a secret); the app inventory is read with an API token only
    NOT_SITE_ADMIN = "not_site_admin"  # detail: the app inventory needs a site admin's token
    NO_CREDENTIALS = "no_credentials"  # product
    ENRICHMENT_PENDING = "enrichment_pending"  # until: the Marketplace asked to wait (a note)
    INSTALLER_UNKNOWN = "installer_unknown"  # an app's installer: no documented source names it
    # cancellations
    CANCELLED = "cancelled"
    CANCELLED_ON_REQUEST = "cancelled_on_request"
    DOMAIN_DELETED = "domain_deleted"
    TAKEN_OVER = "taken_over"
    SHUTDOWN = "shutdown"
    # sign-in through the identity provider (SSO): why it was refused
    SSO_NOT_CONFIGURED = "sso_not_configured"
    SSO_REQUIRED = "sso_required"  # a password sign-in while SSO is required
    SSO_DENIED = "sso_denied"  # error: the provider's error code (access_denied, ...)
    SSO_UNREACHABLE = "sso_unreachable"  # detail: what failed talking to the provider, or in its answers
    SSO_STATE_INVALID = "sso_state_invalid"  # missing, unknown, another browser's, used or expired
    SSO_TOKEN_INVALID = "sso_token_invalid"  # noqa: S105 (a reason, not a secret); detail: which check failed
    SSO_NO_EMAIL = "sso_no_email"  # a new user's email is missing or not an address
    SSO_EMAIL_UNVERIFIED = "sso_email_unverified"  # a local account has the email, unverified by the provider
    SSO_ACCOUNT_CONFLICT = "sso_account_conflict"  # the email's account is linked to another identity
    SSO_USER_DISABLED = "sso_user_disabled"
    # anything else
    FAILED = "failed"  # detail: the failure's own words
    LEGACY = "legacy"  # text: a sentence stored before reason codes existed


@dataclass(frozen=True)
class Outcome:
    code: Code
    params: Params = field(default_factory=dict, hash=False)

    @property
    def text(self) -> str:
        return words(self)

    def as_json(self) -> dict[str, Any]:
        """The code, its parameters and the words, as the REST API returns them."""
        return {"code": str(self.code), "params": dict(self.params), "text": self.text}

    def with_params(self, **params: Any) -> Outcome:
        return Outcome(self.code, {**self.params, **params})


def stored(code: str | None, params: Params | None) -> Outcome | None:
    """The outcome of a row's ``reason_code`` and ``reason_params``; a code this version does not know
    (written by a newer one) reads as legacy text."""
    if code is None:
        return None
    try:
        return Outcome(Code(code), dict(params or {}))
    except ValueError:
        return Outcome(Code.LEGACY, {"text": code})


def dataset_label(dataset: str) -> str:
    """``jira.audit_records`` -> ``Jira audit records``."""
    product, _, name = dataset.partition(".")
    return f"{product.capitalize()} {name.replace('_', ' ')}".strip()


def _datasets(p: Params, fallback: str = "") -> str:
    names = p.get("datasets") or []
    return ": " + ", ".join(dataset_label(d) for d in names) if names else fallback


def _when(p: Params, key: str = "until") -> str:
    value = p.get(key)
    return f"at {datetime.fromisoformat(value):%Y-%m-%d %H:%M} UTC" if value else "later"


def _day(p: Params, key: str = "by") -> str:
    return f"{datetime.fromisoformat(p[key]):%Y-%m-%d}"


# the one catalogue: a code and its parameters in words
CATALOGUE: dict[Code, Callable[[Params], str]] = {
    Code.WAITING_FOR_FIRST_SYNC: lambda p: "waiting for the first sync",
    Code.STILL_PROCESSING: lambda p: "still processing: the first sync is under way",
    Code.SYNC_QUEUED: lambda p: "a sync is queued",
    Code.RUN_STOPPED: lambda p: "the last sync stopped before its end; the next sync resumes it",
    Code.RECONSENT_NEEDED: lambda p: f"re-consent needed before {_day(p)}: reconnect",
    Code.GRANT_EXPIRED: lambda p: "grant expired: reconnect to consent again",
    Code.CONSENT_REVOKED: lambda p: "consent revoked: reconnect to consent again",
    Code.CREDENTIALS_REJECTED: lambda p: "Atlassian rejected the credentials: reconnect",
    Code.API_TOKEN_EXPIRED: lambda p: f"API token expired on {_day(p, 'on')}: edit the API key to replace it",
    Code.API_TOKEN_REJECTED: lambda p: "API token invalid or expired: edit the API key",
    Code.REFRESH_TIMED_OUT: lambda p: "timed out waiting for another process to refresh the grant",
    Code.REFRESH_UNCONFIRMED: lambda p: (
        "the token endpoint did not confirm a refresh of the grant, and appgov never sends a refresh "
        "token twice: reconnect to consent again"
    ),
    Code.SECRET_UNREADABLE: lambda p: (
        "a stored secret cannot be decrypted (was the secret key changed?): reconnect or edit the API key"
    ),
    Code.TOKEN_ENDPOINT_REFUSED: lambda p: f"the token endpoint did not refresh the grant ({p.get('error')})",
    Code.SITE_UNREACHABLE: lambda p: "site unreachable; the next sync tries again",
    Code.SERVER_FAILING: lambda p: f"Atlassian kept failing ({p.get('failure')}); the next sync tries again",
    Code.RATE_LIMITED: lambda p: f"rate limited (retrying {_when(p)})",
    Code.ASKED_TO_WAIT: lambda p: f"Atlassian asked appgov to wait (retrying {_when(p)})",
    Code.BUDGET_SPENT: lambda p: f"request budget spent (resuming {_when(p)})",
    Code.OFF_SITE_REDIRECT: lambda p: f"{p.get('url')} answered a redirect, which appgov does not follow",
    Code.UNEXPECTED_REPLY: lambda p: "Atlassian answered without the list appgov reads",
    Code.DATABASE_UNAVAILABLE: lambda p: f"the database was unavailable (resuming {_when(p)})",
    Code.DATASETS_FAILED: lambda p: f"some data sets failed{_datasets(p, ': some data sets')}",
    Code.DATASET_FAILED: lambda p: f"HTTP {p.get('status')}: {p.get('detail') or 'no reason given'}",
    Code.DATASET_UNAVAILABLE: lambda p: f"data set unavailable{_datasets(p)}",
    Code.NOT_ON_PLAN: lambda p: f"data set unavailable on this plan{_datasets(p)}",
    Code.SCOPE_MISSING: lambda p: (
        f"the OAuth grant lacks the scope {p.get('scope') or 'this data set needs'}"
    ),
    Code.NEEDS_API_TOKEN: lambda p: "no API token: the app inventory needs one (edit the API key)",
    Code.NOT_SITE_ADMIN: lambda p: (
        "account is not a site admin: the installed-app list needs one (edit the API key)"
    ),
    Code.NO_CREDENTIALS: lambda p: f"no credentials reach {p.get('product')}",
    Code.ENRICHMENT_PENDING: lambda p: (
        "the Marketplace asked appgov to wait: some apps are not enriched yet, and the next sync "
        "enriches them"
    ),
    Code.INSTALLER_UNKNOWN: lambda p: "no documented source names the installer: connect an organization",
    Code.CANCELLED: lambda p: "the last sync was cancelled",
    Code.CANCELLED_ON_REQUEST: lambda p: "cancelled on request",
    Code.DOMAIN_DELETED: lambda p: "cancelled: the domain was deleted",
    Code.TAKEN_OVER: lambda p: "stopped: another runner took the job over",
    Code.SHUTDOWN: lambda p: "appgov stopped; the sync resumes when it starts again",
    Code.SSO_NOT_CONFIGURED: lambda p: "single sign-on is not configured here",
    Code.SSO_REQUIRED: lambda p: "sign in with SSO: password sign-in is turned off here",
    Code.SSO_DENIED: lambda p: f"the identity provider did not sign you in ({p.get('error')})",
    Code.SSO_UNREACHABLE: lambda p: (
        f"the identity provider could not be used ({p.get('detail')}): try again later"
    ),
    Code.SSO_STATE_INVALID: lambda p: (
        "this answer does not match a sign-in started in this browser (unknown, used or expired): start again"
    ),
    Code.SSO_TOKEN_INVALID: lambda p: f"the identity provider's answer was refused ({p.get('detail')})",
    Code.SSO_NO_EMAIL: lambda p: "the identity provider gave no email address for you",
    Code.SSO_EMAIL_UNVERIFIED: lambda p: (
        "an account with your email exists, and the identity provider does not say the email is "
        "verified: ask an admin"
    ),
    Code.SSO_ACCOUNT_CONFLICT: lambda p: (
        "the account with your email is linked to another identity: ask an admin"
    ),
    Code.SSO_USER_DISABLED: lambda p: "your account is disabled: ask an admin",
    Code.FAILED: lambda p: str(p.get("detail") or "the last sync failed"),
    Code.LEGACY: lambda p: str(p.get("text") or "no reason recorded"),
}


def words(outcome: Outcome) -> str:
    return CATALOGUE[outcome.code](outcome.params)
