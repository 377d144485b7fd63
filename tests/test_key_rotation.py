"""CS-04: key rotation. With the keyring [k2, k1], ``appgov keys rotate`` moves every secret (API
tokens, OAuth access and refresh tokens) to k2 in small transactions: killed (SIGKILL) half way and
run again, it moves the rest without encrypting anything twice or losing a row, and reports what it
moved and what was current already; k1 then leaves the ring and every secret still decrypts. A
token refreshed while rotation reads it is never overwritten with the old one. SQLite and
PostgreSQL."""

from __future__ import annotations

import base64
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from appgov.administration.keys import Moved, rotate_batch
from appgov.config import Settings
from appgov.runtime import Runtime
from appgov.storage.models import ApiToken, AuditEvent, Domain, OAuthGrant, Organization
from appgov.storage.sealed import SEALED, api_token_context, grant_context, organization_key_context

K1, K2 = (base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(2))
# 2,001 secrets: an access and a refresh token per grant, a token per domain, an organization's key
GRANTS, DOMAINS = 950, 100
Expected = dict[tuple[str, int], str]  # (kind, row id) -> the plaintext


def runtime_with(tmp_path: Path, database_url: str, ring: str) -> Runtime:
    return Runtime.start(Settings(data_dir=tmp_path, database_url=database_url, secret_keys=ring))


def seeded(runtime: Runtime) -> Expected:
    """GRANTS grants, DOMAINS domains' API tokens and an organization's key, encrypted with the ring's
    newest key."""
    box, now, expected = runtime.secrets, runtime.clock.now(), {}
    with runtime.sessions.begin() as session:
        for n in range(1, GRANTS + 1):
            access, refresh = f"access-{n}-{secrets.token_hex(8)}", f"refresh-{n}-{secrets.token_hex(8)}"
            session.add(
                OAuthGrant(
                    id=n, client_id="client", account_id=f"account-{n}", scopes=[], created_at=now,
                    consented_at=now, access_token=box.encrypt(access, grant_context(n, "access")),
                    refresh_token=box.encrypt(refresh, grant_context(n, "refresh")),
                )
            )  # fmt: skip
            expected["OAuth access tokens", n], expected["OAuth refresh tokens", n] = access, refresh
        session.add_all(
            Domain(
                id=n, site_url=f"https://site-{n}.atlassian.net", name=f"site-{n}", products=["jira"],
                created_at=now, created_by="tester", created_via="cli",
            )
            for n in range(1, DOMAINS + 1)
        )  # fmt: skip
        session.flush()  # the domains before their tokens
        for n in range(1, DOMAINS + 1):
            token = expected["API tokens", n] = f"api-{n}-{secrets.token_hex(8)}"
            session.add(
                ApiToken(
                    id=n, domain_id=n, owner_email="admin@example.com", last4=token[-4:], created_at=now,
                    validated_at=now, secret=box.encrypt(token, api_token_context(n)),
                )
            )  # fmt: skip
        org_key = expected["Organization API keys", 1] = f"org-{secrets.token_hex(8)}"
        session.add(
            Organization(
                id=1, org_id="org-1", name="Acme", last4=org_key[-4:], created_at=now, created_by="tester",
                validated_at=now, secret=box.encrypt(org_key, organization_key_context(1)),
            )
        )  # fmt: skip
    return expected


def key_ids(runtime: Runtime) -> dict[int, int]:
    """How many stored secrets each key wrote."""
    found: dict[int, int] = {}
    with runtime.sessions() as session:
        for sealed in SEALED:
            for blob in session.scalars(select(sealed.column)):
                found[blob[1]] = found.get(blob[1], 0) + 1
    return found


def decrypted(runtime: Runtime) -> Expected:
    with runtime.sessions() as session:
        return {
            (sealed.kind, row.id): runtime.secrets.decrypt(sealed.blob(row), sealed.context(row))
            for sealed in SEALED
            for row in session.scalars(select(sealed.model))
            if sealed.blob(row) is not None
        }


def rotation(tmp_path: Path, database_url: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "APPGOV_DATA_DIR": str(tmp_path),
        "APPGOV_DATABASE_URL": database_url,
        "APPGOV_SECRET_KEYS": f"2:{K2},1:{K1}",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "appgov", "keys", "rotate", "--batch-size", "50"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_rotation_killed_half_way_and_run_again_moves_every_secret_once_and_k1_can_go(
    tmp_path: Path, database_url: str
) -> None:
    expected = seeded(runtime_with(tmp_path, database_url, f"1:{K1}"))
    total = len(expected)
    assert total == 2_001

    killed = rotation(tmp_path, database_url)
    assert killed.stdout is not None
    first = killed.stdout.readline()  # printed once its first batch has committed
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert first.startswith("... API tokens: 50 re-encrypted"), first
    ring = runtime_with(tmp_path, database_url, f"2:{K2},1:{K1}")
    half = key_ids(ring)
    assert 50 <= half[2] < total  # half way: some on k2, the rest still on k1
    assert half[2] + half[1] == total
    assert decrypted(ring) == expected

    again = rotation(tmp_path, database_url)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    report = out[out.index("Rotated to key 2:") :]
    counts = [tuple(map(int, found)) for found in re.findall(r"(\d+) re-encrypted, (\d+) already", report)]
    assert sum(moved for moved, _ in counts) == half[1]  # each moved once: nothing twice, nothing lost
    assert sum(current for _, current in counts) == half[2]
    assert key_ids(ring) == {2: total}

    only_k2 = runtime_with(tmp_path, database_url, f"2:{K2}")
    assert decrypted(only_k2) == expected
    with only_k2.sessions() as session:
        audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "secrets.rotated")).all()
    assert [e.target for e in audited] == ["key 2"]  # the killed run never finished
    assert sum(kind["current"] for kind in audited[0].detail["rows"].values()) == half[2]


def test_a_token_refreshed_while_rotation_reads_it_is_not_overwritten_with_the_old_one(
    tmp_path: Path, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's write transaction holds the lock from its first read: no write comes between")
    seeded(runtime_with(tmp_path, database_url, f"1:{K1}"))
    ring = runtime_with(tmp_path, database_url, f"2:{K2},1:{K1}")
    refreshed = ring.secrets.encrypt("refreshed", grant_context(1, "access"))
    moved = Moved("OAuth access tokens")
    access = next(s for s in SEALED if s.kind == moved.kind)

    with ring.engine.connect() as refresh:  # a refresh's transaction, holding the row it wrote
        refresh.execute(update(OAuthGrant).where(OAuthGrant.id == 1).values(access_token=refreshed))

        def rotate_first_grant() -> None:
            with ring.sessions.begin() as session:
                rotate_batch(session, ring.secrets, access, None, 1, moved)

        rotating = threading.Thread(target=rotate_first_grant)
        rotating.start()  # reads the old token, then waits on the refresh's row lock to write
        waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
        with ring.engine.connect() as watch:
            deadline = time.monotonic() + 30
            while not watch.execute(waiting).scalar() and time.monotonic() < deadline:
                time.sleep(0.01)  # polling for the lock wait to begin, not timing a result
        refresh.commit()
        rotating.join(timeout=30)

    assert (moved.moved, moved.changed) == (0, 1)
    with ring.sessions() as session:
        grant = session.get_one(OAuthGrant, 1)
        assert ring.secrets.decrypt(grant.access_token or b"", grant_context(1, "access")) == "refreshed"
        assert session.scalar(select(func.count()).select_from(OAuthGrant)) == GRANTS
