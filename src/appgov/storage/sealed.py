"""Where secrets are stored encrypted, and what each ciphertext is bound to (its context, the
associated data of AES-GCM): a ciphertext moved to another row, or to another column of its row,
does not decrypt. One list (``SEALED``) names every encrypted column, so that the start-up key check
(CS-03) and key rotation (CS-04) cover them all; a new encrypted column belongs in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from appgov.storage.models import ApiToken, OAuthFlow, OAuthGrant, Organization


def api_token_context(domain_id: int) -> str:
    return f"api_token:domain:{domain_id}"


def organization_key_context(organization_id: int) -> str:
    return f"organization_api_key:{organization_id}"


def grant_context(grant_id: int, kind: str) -> str:
    """``kind``: access or refresh."""
    return f"oauth_grant:{grant_id}:{kind}"


def verifier_context(hashed_state: str) -> str:
    return f"oauth_flow:{hashed_state}:code_verifier"


def key_check_context(key_id: int) -> str:
    return f"secret_key_check:{key_id}"


@dataclass(frozen=True)
class Sealed:
    """An encrypted column: its rows' model, and each row's context."""

    kind: str  # as rotation reports it
    model: type[Any]
    column: InstrumentedAttribute[Any]
    context: Callable[[Any], str]

    def blob(self, row: Any) -> bytes | None:
        return getattr(row, self.column.key)  # type: ignore[no-any-return]


SEALED = (
    Sealed("API tokens", ApiToken, ApiToken.secret, lambda row: api_token_context(row.domain_id)),
    Sealed(
        "Organization API keys",
        Organization,
        Organization.secret,
        lambda row: organization_key_context(row.id),
    ),
    Sealed(
        "OAuth access tokens",
        OAuthGrant,
        OAuthGrant.access_token,
        lambda row: grant_context(row.id, "access"),
    ),
    Sealed(
        "OAuth refresh tokens",
        OAuthGrant,
        OAuthGrant.refresh_token,
        lambda row: grant_context(row.id, "refresh"),
    ),
    Sealed(
        "OAuth flow verifiers",
        OAuthFlow,
        OAuthFlow.code_verifier,
        lambda row: verifier_context(row.state_hash),
    ),
)


def key_ids_in_use(session: Session) -> set[int]:
    """The ids of the keys the stored secrets name (the header's second byte)."""
    found: set[int] = set()
    for sealed in SEALED:
        header = select(func.substr(sealed.column, 2, 1)).where(sealed.column.is_not(None)).distinct()
        found.update(head[0] for head in session.scalars(header))
    return found
