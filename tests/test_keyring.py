"""The keyring a process starts with (CS-03, CS-04): read from its settings, checked against the
database's secrets, including a database written before key checks existed (its key file a bare
base64 key, as earlier versions wrote it). SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from typer.testing import CliRunner

from appgov.cli import app
from appgov.config import Settings
from appgov.runtime import Runtime, SecretsLocked
from appgov.security.secrets import KeyringError, SecretBox, SecretError
from appgov.storage.models import ApiToken, Domain, SecretKeyCheck
from appgov.storage.sealed import api_token_context

OLD_KEY = base64.b64encode(secrets.token_bytes(32)).decode()


def start(tmp_path: Path, database_url: str, ring: str | None = None) -> Runtime:
    return Runtime.start(Settings(data_dir=tmp_path, database_url=database_url, secret_keys=ring))


def with_tokens(runtime: Runtime, count: int) -> None:
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        for n in range(1, count + 1):
            session.add(
                Domain(site_url=f"https://s{n}.atlassian.net", name=f"s{n}", products=[], created_at=now,
                       created_by="tester", created_via="cli")
            )  # fmt: skip
            session.flush()
        for domain in session.scalars(select(Domain)):
            token = runtime.secrets.encrypt(f"token-{domain.id}", api_token_context(domain.id))
            session.add(ApiToken(domain_id=domain.id, owner_email="a@example.com", secret=token, last4="0000",
                                 created_at=now, validated_at=now))  # fmt: skip


def test_a_database_from_before_key_checks_starts_with_its_key_and_refuses_another(
    tmp_path: Path, database_url: str
) -> None:
    key_file = tmp_path / "secret.key"
    key_file.write_text(OLD_KEY)  # a bare key, as earlier versions wrote it: key 1
    runtime = start(tmp_path, database_url)
    with_tokens(runtime, 3)
    with runtime.sessions.begin() as session:  # as before migration 0015: no check rows
        session.execute(delete(SecretKeyCheck))
        first = session.scalars(select(ApiToken).order_by(ApiToken.id)).first()
        assert first is not None
        first.secret = first.secret[:-1] + bytes([first.secret[-1] ^ 1])  # one corrupted row proves nothing

    key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
    with pytest.raises(SecretsLocked, match=r"key 1 in .* is not the key that encrypted"):
        start(tmp_path, database_url)

    key_file.write_text(OLD_KEY)
    restarted = start(tmp_path, database_url)
    with restarted.sessions() as session:
        assert session.scalars(select(SecretKeyCheck.key_id)).all() == [1]  # checked from now on


def test_a_keyring_decrypts_with_the_key_a_secret_names_and_encrypts_with_its_newest() -> None:
    k1, k2 = (secrets.token_bytes(32) for _ in range(2))
    old = SecretBox([(1, k1)]).encrypt("token", "ctx")
    ring = SecretBox.parse(f"2:{base64.b64encode(k2).decode()},\n1:{base64.b64encode(k1).decode()}")
    assert ring.decrypt(old, "ctx") == "token"
    assert not ring.is_current(old)
    assert ring.is_current(ring.encrypt("token", "ctx"))
    with pytest.raises(SecretError, match="key 1, which is not in the keyring"):
        SecretBox([(2, k2)]).decrypt(old, "ctx")
    for bad in (
        "1:not base64!",
        "x:AAAA",
        f"1:{base64.b64encode(k1).decode()},1:{base64.b64encode(k2).decode()}",
    ):
        with pytest.raises(KeyringError):
            SecretBox.parse(bad)


def test_keys_generate_prints_the_next_key_of_the_ring(tmp_path: Path) -> None:
    env = {
        "APPGOV_DATA_DIR": str(tmp_path),
        "APPGOV_SECRET_KEYS": f"3:{OLD_KEY},1:{base64.b64encode(bytes(32)).decode()}",
    }
    printed = CliRunner().invoke(app, ["keys", "generate"], env=env)
    assert printed.exit_code == 0, printed.output
    entry = printed.stdout.splitlines()[0]
    assert entry.startswith("4:")
    ring = SecretBox.parse(f"{entry},3:{OLD_KEY}")  # a valid key, ready to head the ring
    assert ring.key_id == 4
    assert not (tmp_path / "secret.key").exists()  # generating starts nothing and writes nothing
