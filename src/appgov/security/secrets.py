"""Secrets at rest: AES-256-GCM with the key outside the database.

Each ciphertext is bound to what it protects (``context``, e.g. ``api_token:domain:7``) as
associated data, so a ciphertext copied onto another row fails to decrypt instead of leaking. The
format carries a version and key id so key rotation can come later without a data migration.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
NONCE_BYTES = 12


class SecretError(Exception):
    """A secret could not be decrypted: wrong key, tampered data, or copied to another row."""


class SecretBox:
    def __init__(self, key: bytes, key_id: int = 1) -> None:
        if len(key) != 32:
            raise ValueError("the secret key must be 32 bytes")
        self._aead = AESGCM(key)
        self.key_id = key_id

    @classmethod
    def from_settings(cls, secret_key: str | None, data_dir: Path) -> SecretBox:
        """The configured key, or the data directory's key file (created 0600 on first use)."""
        if secret_key:
            try:
                return cls(base64.b64decode(secret_key, validate=True))
            except (binascii.Error, ValueError):
                raise ValueError("APPGOV_SECRET_KEY must be the base64 of 32 random bytes") from None
        path = data_dir / "secret.key"
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(base64.b64encode(secrets.token_bytes(32)))
        return cls(base64.b64decode(path.read_bytes().strip()))

    def encrypt(self, plaintext: str, context: str) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        header = bytes([FORMAT_VERSION, self.key_id])
        return header + nonce + self._aead.encrypt(nonce, plaintext.encode(), header + context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        if len(blob) < 2 + NONCE_BYTES + 16 or blob[0] != FORMAT_VERSION:
            raise SecretError("not an appgov secret")
        header, nonce, body = blob[:2], blob[2 : 2 + NONCE_BYTES], blob[2 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, header + context.encode()).decode()
        except InvalidTag:
            raise SecretError("secret cannot be decrypted with this key for this record") from None


def mask(secret: str, visible: int = 4) -> str:
    """``••••1a2b``: enough to recognise a token, never enough to use it."""
    return "\u2022" * 4 + secret[-visible:] if len(secret) > visible * 2 else "\u2022" * 4
