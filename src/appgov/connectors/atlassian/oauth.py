"""OAuth 2.0 (3LO) with Atlassian's authorization server (references §1): the authorization URL with
state and PKCE, the code exchange, and the rotating refresh.

Token-endpoint errors are classified (reliability OA-07): ``invalid_grant`` and friends mean the
grant is gone (the user must consent again) and are never retried; 5xx and network failures are
transient and go through the one retry policy.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from appgov.clock import Clock, SystemClock
from appgov.connectors.atlassian.client import AtlassianClient, AtlassianError
from appgov.outcomes import Code, Outcome

# What appgov asks for: the granular read scopes of every data set it reads (references §1.7), plus
# offline_access for a refresh token and read:me to know who consented. Nothing that writes.
READ_SCOPES: tuple[str, ...] = (
    "read:jira-user", "read:jira-work",
    "read:application-role:jira", "read:audit-log:jira", "read:avatar:jira", "read:field:jira",
    "read:field-configuration:jira", "read:group:jira", "read:instance-configuration:jira",
    "read:issue-type:jira", "read:issue-type-hierarchy:jira", "read:issue.time-tracking:jira",
    "read:license:jira", "read:permission:jira", "read:permission-scheme:jira", "read:project:jira",
    "read:project-category:jira", "read:project-role:jira", "read:project-version:jira",
    "read:project.component:jira", "read:project.property:jira", "read:user:jira",
    "read:user-configuration:jira",
    "read:configuration:confluence", "read:space.setting:confluence", "read:group:confluence",
    "read:user:confluence", "read:audit-log:confluence",
    "read:me", "offline_access",
)  # fmt: skip

GRANT_GONE = ("invalid_grant", "unauthorized_client", "access_denied", "invalid_client")


class GrantGone(AtlassianError):
    """The refresh token no longer works: expired, revoked or reused. Only a new consent helps."""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None  # Atlassian may omit it; a stored one is then kept, never nulled
    expires_at: datetime
    scopes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


class AuthorizationServer:
    def __init__(
        self,
        auth_url: str,
        client_id: str,
        client_secret: str,
        *,
        verify: str | bool = True,
        clock: Clock | None = None,
    ) -> None:
        self.auth_url = auth_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.clock = clock or SystemClock()
        self.http = AtlassianClient(self.auth_url, None, verify=verify, timeout=30)

    def authorization_request(
        self, redirect_uri: str, scopes: tuple[str, ...] = READ_SCOPES
    ) -> AuthorizationRequest:
        """The consent URL (with a fresh single-use state and a PKCE S256 challenge)."""
        state = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        query = urlencode(
            {
                "audience": "api.atlassian.com",
                "client_id": self.client_id,
                "scope": " ".join(scopes),
                "redirect_uri": redirect_uri,
                "state": state,
                "response_type": "code",
                "prompt": "consent",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return AuthorizationRequest(f"{self.auth_url}/authorize?{query}", state, verifier)

    async def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            body["code_verifier"] = code_verifier
        return await self._token(body)

    async def refresh(self, refresh_token: str) -> TokenSet:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def _token(self, body: dict[str, str]) -> TokenSet:
        reply = await self.http.request(
            "POST",
            "/oauth/token",
            json={**body, "client_id": self.client_id, "client_secret": self._client_secret},
        )
        data: dict[str, Any] = reply.data if isinstance(reply.data, dict) else {}
        if reply.status >= 400:
            error = str(data.get("error") or f"HTTP {reply.status}")
            description = str(data.get("error_description") or "")
            # the error code decides; a bare 401/403 means the same. A 400 like invalid_request is
            # appgov's configuration, not a dead grant: the grant must not be marked expired for it
            if error in GRANT_GONE or (reply.status in (401, 403) and "error" not in data):
                raise GrantGone(f"{error}: {description}".strip(": "), reply.status, reply.url)
            raise AtlassianError(
                f"the token endpoint answered {error}",
                reply.status,
                reply.url,
                outcome=Outcome(Code.TOKEN_ENDPOINT_REFUSED, {"error": error}),
            )
        if not isinstance(data.get("access_token"), str):
            raise AtlassianError(
                "the token endpoint answered without an access token",
                reply.status,
                reply.url,
                outcome=Outcome(Code.TOKEN_ENDPOINT_REFUSED, {"error": "no access token"}),
            )
        lifetime = int(data.get("expires_in") or 3600)
        return TokenSet(
            data["access_token"],
            data.get("refresh_token") or None,
            self.clock.now() + timedelta(seconds=lifetime),
            str(data.get("scope", "")).split(),
        )

    async def aclose(self) -> None:
        await self.http.aclose()
