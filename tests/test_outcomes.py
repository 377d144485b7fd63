"""Reason codes: the one catalogue has words for every code, the words the console shows; a stored
code reads back as its outcome, and one this version does not know as legacy text."""

from __future__ import annotations

from typing import Any

import pytest

from appgov.outcomes import CATALOGUE, Code, Outcome, stored

URL = "https://acme.atlassian.net/rest/api/3/users/search"
UNTIL = "2026-03-02T12:45:00+00:00"
WORDS: dict[Code, tuple[dict[str, Any], str]] = {
    Code.WAITING_FOR_FIRST_SYNC: ({}, "waiting for the first sync"),
    Code.STILL_PROCESSING: ({}, "still processing: the first sync is under way"),
    Code.SYNC_QUEUED: ({}, "a sync is queued"),
    Code.RUN_STOPPED: ({}, "the last sync stopped before its end; the next sync resumes it"),
    Code.RECONSENT_NEEDED: ({"by": "2027-11-20T09:00:00+00:00"},
                            "re-consent needed before 2027-11-20: reconnect"),
    Code.GRANT_EXPIRED: ({"detail": "invalid_grant"}, "grant expired: reconnect to consent again"),
    Code.CONSENT_REVOKED: ({}, "consent revoked: reconnect to consent again"),
    Code.CREDENTIALS_REJECTED: ({"detail": "Unauthorized"}, "Atlassian rejected the credentials: reconnect"),
    Code.API_TOKEN_REJECTED: ({"detail": "Unauthorized"}, "API token invalid or expired: edit the API key"),
    Code.API_TOKEN_EXPIRED: (
        {"on": "2027-01-05T00:00:00+00:00"},
        "API token expired on 2027-01-05: edit the API key to replace it",
    ),
    Code.REFRESH_TIMED_OUT: ({}, "timed out waiting for another process to refresh the grant"),
    Code.REFRESH_UNCONFIRMED: ({}, "the token endpoint did not confirm a refresh of the grant, and appgov "
                                   "never sends a refresh token twice: reconnect to consent again"),
    Code.SECRET_UNREADABLE: ({"detail": "not an appgov secret"},
                             "a stored secret cannot be decrypted (was the secret key changed?): "
                             "reconnect or edit the API key"),
    Code.TOKEN_ENDPOINT_REFUSED: ({"error": "server_error"},
                                  "the token endpoint did not refresh the grant (server_error)"),
    Code.SITE_UNREACHABLE: ({"url": URL, "attempts": 6, "failure": "ConnectError"},
                            "site unreachable; the next sync tries again"),
    Code.SERVER_FAILING: ({"url": URL, "attempts": 6, "failure": "HTTP 503"},
                          "Atlassian kept failing (HTTP 503); the next sync tries again"),
    Code.RATE_LIMITED: ({"url": URL, "seconds": 2700, "until": UNTIL},
                        "rate limited (retrying at 2026-03-02 12:45 UTC)"),
    Code.ASKED_TO_WAIT: ({"until": None}, "Atlassian asked appgov to wait (retrying later)"),
    Code.BUDGET_SPENT: ({"limit": 100, "until": UNTIL},
                        "request budget spent (resuming at 2026-03-02 12:45 UTC)"),
    Code.OFF_SITE_REDIRECT: ({"method": "GET", "url": URL},
                             f"{URL} answered a redirect, which appgov does not follow"),
    Code.UNEXPECTED_REPLY: ({"key": "values"}, "Atlassian answered without the list appgov reads"),
    Code.DATABASE_UNAVAILABLE: ({"until": UNTIL},
                                "the database was unavailable (resuming at 2026-03-02 12:45 UTC)"),
    Code.DATASETS_FAILED: ({"datasets": ["jira.users", "confluence.groups"]},
                           "some data sets failed: Jira users, Confluence groups"),
    Code.DATASET_FAILED: ({"status": 500, "url": URL, "detail": ""}, "HTTP 500: no reason given"),
    Code.DATASET_UNAVAILABLE: ({"datasets": ["jira.license"]}, "data set unavailable: Jira license"),
    Code.NOT_ON_PLAN: ({"datasets": ["jira.audit_records"]},
                       "data set unavailable on this plan: Jira audit records"),
    Code.SCOPE_MISSING: ({"scope": "read:jira-user"}, "the OAuth grant lacks the scope read:jira-user"),
    Code.NEEDS_API_TOKEN: ({}, "no API token: the app inventory needs one (edit the API key)"),
    Code.NOT_SITE_ADMIN: ({"detail": "Forbidden"},
                          "account is not a site admin: the installed-app list needs one (edit the API key)"),
    Code.NO_CREDENTIALS: ({"product": "confluence"}, "no credentials reach confluence"),
    Code.ENRICHMENT_PENDING: ({"until": UNTIL},
                              "the Marketplace asked appgov to wait: some apps are not enriched yet, and "
                              "the next sync enriches them"),
    Code.INSTALLER_UNKNOWN: ({}, "no documented source names the installer: connect an organization"),
    Code.CANCELLED: ({}, "the last sync was cancelled"),
    Code.CANCELLED_ON_REQUEST: ({}, "cancelled on request"),
    Code.DOMAIN_DELETED: ({}, "cancelled: the domain was deleted"),
    Code.TAKEN_OVER: ({}, "stopped: another runner took the job over"),
    Code.SHUTDOWN: ({}, "appgov stopped; the sync resumes when it starts again"),
    Code.SSO_NOT_CONFIGURED: ({}, "single sign-on is not configured here"),
    Code.SSO_REQUIRED: ({}, "sign in with SSO: password sign-in is turned off here"),
    Code.SSO_DENIED: ({"error": "access_denied"},
                      "the identity provider did not sign you in (access_denied)"),
    Code.SSO_UNREACHABLE: ({"detail": "ConnectError"},
                           "the identity provider could not be used (ConnectError): try again later"),
    Code.SSO_STATE_INVALID: ({}, "this answer does not match a sign-in started in this browser (unknown, "
                                 "used or expired): start again"),
    Code.SSO_TOKEN_INVALID: ({"detail": "bad signature"},
                             "the identity provider's answer was refused (bad signature)"),
    Code.SSO_NO_EMAIL: ({}, "the identity provider gave no email address for you"),
    Code.SSO_EMAIL_UNVERIFIED: ({}, "an account with your email exists, and the identity provider does not "
                                    "say the email is verified: ask an admin"),
    Code.SSO_ACCOUNT_CONFLICT: ({}, "the account with your email is linked to another identity: ask an "
                                    "admin"),
    Code.SSO_USER_DISABLED: ({}, "your account is disabled: ask an admin"),
    Code.FAILED: ({"detail": "expected a list in the response"}, "expected a list in the response"),
    Code.LEGACY: ({"text": "cancelled by ada@example.com"}, "cancelled by ada@example.com"),
}  # fmt: skip


def test_every_code_has_words_in_the_catalogue() -> None:
    assert set(CATALOGUE) == set(Code) == set(WORDS)


@pytest.mark.parametrize("code", list(WORDS), ids=[str(c) for c in WORDS])
def test_the_catalogue_words_each_code_with_its_parameters(code: Code) -> None:
    params, words = WORDS[code]
    outcome = Outcome(code, params)
    assert outcome.text == words
    assert outcome.as_json() == {"code": str(code), "params": params, "text": words}


def test_a_stored_code_reads_back_and_an_unknown_one_as_legacy_text() -> None:
    assert stored(None, None) is None
    assert stored("budget_spent", {"limit": 100}) == Outcome(Code.BUDGET_SPENT, {"limit": 100})
    assert stored("a_code_from_a_newer_version", {"x": 1}) == Outcome(
        Code.LEGACY, {"text": "a_code_from_a_newer_version"}
    )
