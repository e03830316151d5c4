"""Secrets at rest: what is encrypted decrypts to itself, a tampered or foreign token is refused with
a message naming the key, a rotated key still reads old secrets, and a bot's token never reaches the
database in the clear (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_bot
from tgadmin.config import get_settings
from tgadmin.crypto import constant_time_equal, decrypt, encrypt, token_hash
from tgadmin.errors import ConfigError
from tgadmin.models import Bot

SECRET = "123456:AAH-sécret_token/ção"


@pytest.fixture
def encryption_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Lets a test change DATA_ENCRYPTION_KEY; the run's own key is back afterwards."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_secret_round_trips_and_is_not_stored_as_itself() -> None:
    token = encrypt(SECRET)
    assert decrypt(token) == SECRET
    assert SECRET not in token and "sécret" not in token
    assert encrypt(SECRET) != token  # a fresh IV each time: equal secrets do not look equal


def test_a_tampered_token_is_refused_naming_the_key() -> None:
    token = encrypt(SECRET)
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    with pytest.raises(ConfigError, match="DATA_ENCRYPTION_KEY: cannot decrypt"):
        decrypt(tampered)
    with pytest.raises(ConfigError, match="DATA_ENCRYPTION_KEY"):
        decrypt("not a token at all")


def test_a_rotated_key_still_reads_old_secrets_and_a_dropped_key_does_not(
    encryption_key: pytest.MonkeyPatch,
) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    encryption_key.setenv("DATA_ENCRYPTION_KEY", old_key)
    get_settings.cache_clear()
    old_secret = encrypt("from before")

    encryption_key.setenv("DATA_ENCRYPTION_KEY", f"{new_key},{old_key}")
    get_settings.cache_clear()
    new_secret = encrypt("from after")
    assert decrypt(old_secret) == "from before" and decrypt(new_secret) == "from after"

    encryption_key.setenv("DATA_ENCRYPTION_KEY", new_key)
    get_settings.cache_clear()
    assert decrypt(new_secret) == "from after"
    with pytest.raises(ConfigError, match="was the key changed"):
        decrypt(old_secret)


async def test_a_bot_token_is_stored_encrypted_and_read_back_in_the_clear(session: AsyncSession) -> None:
    bot = await make_bot(session)
    plain = bot.token
    raw = (await session.execute(text("select token from bots where id = :id"), {"id": bot.id})).scalar_one()
    assert plain not in raw and decrypt(raw) == plain
    session.expunge_all()
    assert (await session.get_one(Bot, bot.id)).token == plain


def test_token_hash_and_comparison_never_need_the_token_itself() -> None:
    assert token_hash("abc") == token_hash("abc") != token_hash("abd")
    assert "abc" not in token_hash("abc")
    assert constant_time_equal("é€", "é€") and not constant_time_equal("é€", "e€")
