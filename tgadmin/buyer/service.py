"""Buyers as Telegram shows them: refreshed on every private update, flagged when they block the bot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.buyer import repository
from tgadmin.clock import utcnow


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
    """Insert or refresh the user; returns its id."""
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
    return await repository.upsert(session, seen.telegram_id, values, now)


async def mark_blocked(session: AsyncSession, telegram_id: int) -> None:
    """Telegram refused a message to the user's private chat: they blocked the bot (or are gone)."""
    await repository.set_blocked(session, telegram_id)
