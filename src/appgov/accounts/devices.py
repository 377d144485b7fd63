"""Known-device cookies (OWASP's "device cookies"): after a right password, the browser gets a token
naming the account, sealed with the server's key (AES-GCM, so it cannot be forged or moved to another
account). A browser showing a live one for the account it signs in to is not held back by the
account-wide failure count (WS-05): an attacker failing everywhere cannot lock out its owner."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta

from appgov.security.secrets import SecretBox, SecretError

DEVICE_LIFETIME = timedelta(days=180)
_CONTEXT = "known_device"


def _account(email: str) -> str:
    return email.strip().lower()


def device_token(box: SecretBox, email: str, now: datetime) -> str:
    """A token saying this browser signed in to ``email``, good for ``DEVICE_LIFETIME``."""
    sealed = box.encrypt(f"{(now + DEVICE_LIFETIME).isoformat()} {_account(email)}", _CONTEXT)
    return base64.urlsafe_b64encode(sealed).decode()


def is_known_device(box: SecretBox, token: str, email: str, now: datetime) -> bool:
    """Whether ``token`` is a live known-device token of ``email``."""
    if not token or len(token) > 1000:
        return False
    try:
        expires, _, account = box.decrypt(base64.urlsafe_b64decode(token), _CONTEXT).partition(" ")
        return account == _account(email) and datetime.fromisoformat(expires) > now
    except (binascii.Error, ValueError, SecretError):
        return False
