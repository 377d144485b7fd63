"""CS-01 and CS-06: the credentials appgov stores (API tokens, OAuth access and refresh tokens) are
nowhere in the database in any readable form, and never in its logs.

CS-01: two domains connected over the simulator with the same canary API token and one with an
OAuth grant (its tokens refreshed once), then the whole database dumped (SQLite: the file's bytes;
PostgreSQL: every column of every table as text): no canary raw, base64, URL-encoded or hex; the
same token stored twice is two different ciphertexts. CS-06: with every logger captured at DEBUG,
connecting, a sync through server errors, a refused refresh and a revoked token never log one."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from sqlalchemy import select, text

from appgov.connectors.atlassian.sites import SiteURLError
from appgov.connectors.base import DomainError
from appgov.connectors.retry import RetryPolicy
from appgov.integrations.domains import add_domain
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, Base, OAuthGrant
from appgov.storage.sealed import SEALED
from support.grants import consent, expire_access_tokens, oauth_runtime
from support.product import connect, principal_for, revoke_api_tokens, sync
from support.simulator import Simulator

FAST = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, defer_after=30)


def stored_secrets(runtime: Runtime) -> set[str]:
    """Every secret the database holds, decrypted: the canaries to look for."""
    with runtime.sessions() as session:
        return {
            runtime.secrets.decrypt(blob, sealed.context(row))
            for sealed in SEALED
            for row in session.scalars(select(sealed.model))
            if (blob := sealed.blob(row)) is not None
        }


def readable_forms(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        quote(secret, safe="").encode(),
        quote_plus(secret).encode(),
        raw.hex().encode(),
    ]


def database_dump(runtime: Runtime) -> bytes:
    """SQLite: the file and its WAL, byte for byte; PostgreSQL: every row of every table as text."""
    url = runtime.settings.database_url
    if url.startswith("sqlite"):
        runtime.engine.dispose()
        path = Path(url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in (path, path.with_name(f"{path.name}-wal")) if p.exists())
    with runtime.engine.connect() as connection:
        rows = (
            connection.execute(text(f'SELECT t::text FROM "{table.name}" t')).scalars()  # noqa: S608 (our table names)
            for table in Base.metadata.sorted_tables
        )
        return "\n".join(row for table_rows in rows for row in table_rows).encode()


def found_in(haystack: bytes, secrets: Iterable[str]) -> list[str]:
    return [secret for secret in secrets for form in readable_forms(secret) if form in haystack]


def test_no_stored_credential_is_in_the_database_in_any_readable_form(
    fresh_sim: Simulator, tmp_path: Path, database_url: str
) -> None:
    runtime = oauth_runtime(fresh_sim, tmp_path, database_url)
    canary = fresh_sim.state["accounts"]["site_admin"]["api_token"]
    acme = connect(runtime, fresh_sim, "acme")
    connect(runtime, fresh_sim, "acme-wiki")
    consent(fresh_sim, runtime, ["acme"])
    minted = stored_secrets(runtime)
    expire_access_tokens(runtime)
    assert sync(runtime, acme).status == "success"  # refreshed: a new pair stored
    canaries = minted | stored_secrets(runtime)
    assert canary in canaries
    assert len(canaries) == 5  # the API token; the first access and refresh tokens; the refreshed pair

    with runtime.sessions() as session:
        tokens = select(ApiToken.secret).order_by(ApiToken.domain_id)
        first, second = session.scalars(tokens).all()
    assert first != second  # the same token, stored twice
    assert runtime.secrets.encrypt(canary, "a context") != runtime.secrets.encrypt(canary, "a context")

    dump = database_dump(runtime)
    assert first in dump or first.hex().encode() in dump  # the dump does hold the stored secrets
    assert found_in(dump, canaries) == []


def test_no_credential_is_ever_logged(
    fresh_sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, appgov's, httpx's and httpcore's
    runtime = oauth_runtime(fresh_sim, tmp_path)
    account = fresh_sim.state["accounts"]["site_admin"]
    with pytest.raises((DomainError, SiteURLError)):  # an Add that fails, with the token in hand
        asyncio.run(
            add_domain(runtime, "https://nowhere.example.com", account["email"], account["api_token"],
                       principal_for(runtime, "tester"))
        )  # fmt: skip
    acme = connect(runtime, fresh_sim, "acme")
    consent(fresh_sim, runtime, ["acme"])
    canaries = stored_secrets(runtime)

    fresh_sim.fault("server_error", site="acme", path="/rest/api/3/field", params={"status": 500})
    assert sync(runtime, acme, policy=FAST).status == "partial"
    expire_access_tokens(runtime)  # the refresh's answer lost: the grant expires, the run fails
    fresh_sim.fault("server_error", site="auth", path="/oauth/token", params={"processed": True})
    assert sync(runtime, acme, policy=FAST).status == "failed"
    with runtime.sessions.begin() as session:  # reads with the API token alone, which is then revoked
        session.query(OAuthGrant).delete()
    revoke_api_tokens(fresh_sim)
    assert sync(runtime, acme, policy=FAST).reason_code == "credentials_rejected"

    logged = caplog.text + "".join(repr(record.args) for record in caplog.records)
    assert len(caplog.records) > 100  # the log was captured
    assert found_in(logged.encode(), canaries) == []
