"""Encryption at rest for connected-account tokens.

A database dump must never contain a usable token, so token columns hold Fernet
ciphertext. ``SANDPIT_ENCRYPTION_KEY`` may list several comma-separated keys: the first
encrypts, all decrypt, which is how a key is rotated without downtime.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = [key.strip() for key in settings.ENCRYPTION_KEY.split(",") if key.strip()]
    if not keys:
        # Development only (production settings refuse to start without a key).
        digest = hashlib.sha256(f"sandpit-token-key:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "SANDPIT_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes); "
            "make one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored token cannot be decrypted: SANDPIT_ENCRYPTION_KEY has changed. "
            "Add the old key after the new one, comma-separated."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted before it reaches the database."""

    def get_prep_value(self, value: object) -> object:
        value = super().get_prep_value(value)
        return encrypt(str(value)) if value else value

    def from_db_value(
        self, value: str | None, expression: object, connection: object
    ) -> str | None:
        return decrypt(value) if value else value
