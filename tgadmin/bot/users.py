"""Buyers as Telegram shows them: one row per Telegram user, refreshed on every private update."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import db
from tgadmin.clock import utcnow
from tgadmin.models import TelegramUser


@dataclass(frozen=True, slots=True)
class SeenUser:
    """What one update tells us about its sender (domain terms, no Telegram types)."""

    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    # None: the update says nothing about it; True/False: the user blocked or (re)started the bot.
    blocked_bot: bool | None = None


async def touch_user(session: AsyncSession, seen: SeenUser) -> int:
    """Insert or refresh the user in one statement (two updates of a new user may race); returns its id."""
    now = utcnow()
    values: dict[str, Any] = {
        "first_name": seen.first_name,
        "last_name": seen.last_name,
        "username": seen.username,
        "language_code": seen.language_code,
        "last_seen_at": now,
    }
    if seen.blocked_bot is not None:
        values["blocked_bot"] = seen.blocked_bot
    statement = (
        db.insert(session, TelegramUser)
        .values(
            telegram_id=seen.telegram_id,
            first_seen_at=now,
            blocked_bot=bool(seen.blocked_bot),
            **{k: v for k, v in values.items() if k != "blocked_bot"},
        )
        .on_conflict_do_update(index_elements=[TelegramUser.telegram_id], set_=values)
        .returning(TelegramUser.id)
    )
    return int((await session.execute(statement)).scalar_one())
