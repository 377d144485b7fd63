"""Secrets at rest: AES-256-GCM under a keyring kept outside the database.

Each ciphertext is bound to what it protects (``context``, e.g. ``api_token:domain:7``) as
associated data, so a ciphertext copied onto another row fails to decrypt instead of leaking. Its
two-byte header (format version, key id) is authenticated too, and names the key that wrote it: the
keyring encrypts with its newest key and decrypts with whichever key a ciphertext names, so keys
rotate online (``appgov keys rotate``, CS-04) without a data migration.

A keyring is written ``id:base64key`` entries, newest first, separated by commas or new lines
(``APPGOV_SECRET_KEYS``, or the data directory's ``secret.key``); a lone base64 key (the older
``APPGOV_SECRET_KEY``, or a key file as earlier versions wrote it) is key 1.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
NONCE_BYTES = 12
HEADER_BYTES = 2
KEY_BYTES = 32


class SecretError(Exception):
    """A secret could not be decrypted: wrong key, tampered data, or copied to another row."""


class KeyringError(ValueError):
    """A keyring that cannot be read: its words say what is wrong (never the key itself)."""


class SecretBox:
    """A keyring: encrypts with ``keys[0]`` (the newest), decrypts with the key a ciphertext names."""

    def __init__(self, keys: Sequence[tuple[int, bytes]]) -> None:
        if not keys:
            raise KeyringError("the keyring holds no key")
        self._aeads: dict[int, AESGCM] = {}
        for key_id, key in keys:
            if not 1 <= key_id <= 255:
                raise KeyringError(f"key id {key_id} is not between 1 and 255")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id} is not 32 bytes")
            if key_id in self._aeads:
                raise KeyringError(f"key id {key_id} appears twice in the keyring")
            self._aeads[key_id] = AESGCM(key)
        self.key_id = keys[0][0]  # the newest key, which encrypts

    @property
    def key_ids(self) -> list[int]:
        """Newest first."""
        return list(self._aeads)

    @classmethod
    def parse(cls, text: str) -> SecretBox:
        """``id:base64key`` entries, newest first, separated by commas or new lines; or one bare key
        (key 1)."""
        entries = [entry for entry in re.split(r"[,\s]+", text.strip()) if entry]
        if len(entries) == 1 and ":" not in entries[0]:
            entries = [f"1:{entries[0]}"]
        keys = []
        for entry in entries:
            key_id, _, encoded = entry.partition(":")
            if not key_id.isdigit() or not encoded:
                raise KeyringError("each key is written id:base64key (see `appgov keys generate`)")
            try:
                keys.append((int(key_id), base64.b64decode(encoded, validate=True)))
            except binascii.Error:
                raise KeyringError(f"key {key_id} is not valid base64") from None
        return cls(keys)

    def encrypt(self, plaintext: str, context: str) -> bytes:
        return self.encrypt_with(self.key_id, plaintext, context)

    def encrypt_with(self, key_id: int, plaintext: str, context: str) -> bytes:
        """Encrypted with a given key of the ring (a key's check row); secrets use ``encrypt``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        header = bytes([FORMAT_VERSION, key_id])
        aead = self._aeads[key_id]
        return header + nonce + aead.encrypt(nonce, plaintext.encode(), header + context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        if len(blob) < HEADER_BYTES + NONCE_BYTES + 16 or blob[0] != FORMAT_VERSION:
            raise SecretError("not an appgov secret")
        aead = self._aeads.get(blob[1])
        if aead is None:
            raise SecretError(f"the secret was written with key {blob[1]}, which is not in the keyring")
        header, nonce = blob[:HEADER_BYTES], blob[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
        try:
            return aead.decrypt(nonce, blob[HEADER_BYTES + NONCE_BYTES :], header + context.encode()).decode()
        except InvalidTag:
            raise SecretError("secret cannot be decrypted with this key for this record") from None

    def is_current(self, blob: bytes) -> bool:
        """Whether the newest key wrote this ciphertext (rotation leaves it alone)."""
        return len(blob) > 1 and blob[1] == self.key_id


def new_key() -> str:
    """A fresh key, base64 (``appgov keys generate``)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def mask(secret: str, visible: int = 4) -> str:
    """``••••1a2b``: enough to recognise a token, never enough to use it."""
    return "\u2022" * 4 + secret[-visible:] if len(secret) > visible * 2 else "\u2022" * 4
