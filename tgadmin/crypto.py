"""Secrets at rest: Fernet (AES-128-CBC + HMAC) from `cryptography`, keyed by DATA_ENCRYPTION_KEY.

DATA_ENCRYPTION_KEY may list several comma-separated keys: the first encrypts, all decrypt, so a
key can be rotated without downtime (MultiFernet).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

from tgadmin.config import get_settings
from tgadmin.errors import ConfigError


def generate_key() -> str:
    return Fernet.generate_key().decode()


@lru_cache(maxsize=8)
def _cipher(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",")])


def cipher() -> MultiFernet:
    key = get_settings().data_encryption_key
    if key is None:
        raise ConfigError("DATA_ENCRYPTION_KEY: is required to store secrets but not set")
    return _cipher(key.get_secret_value())


def encrypt(plaintext: str) -> str:
    return cipher().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ConfigError(
            "DATA_ENCRYPTION_KEY: cannot decrypt a stored secret"
            " (was the key changed without keeping the old one?)"
        ) from None


def token_hash(value: str) -> str:
    """Hash for single-use tokens stored for lookup (magic links, sessions): never the token itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def constant_time_equal(a: str, b: str) -> bool:
    """Compares the UTF-8 bytes: `hmac.compare_digest` refuses non-ASCII text (a TypeError, not False)."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


class EncryptedString(TypeDecorator[str]):
    """A string column stored Fernet-encrypted; plaintext exists only in memory."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(str(value))
