"""All SQL of the buyer domain (the `telegram_users` table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import db
from tgadmin.models import TelegramUser


async def upsert(session: AsyncSession, telegram_id: int, values: dict[str, Any], now: datetime) -> int:
    """Insert or refresh in one statement (two updates of a new user may race); returns the row id.

    `values` are set on both paths; `blocked_bot` is False for a new user unless `values` says.
    """
    statement = (
        db.insert(session, TelegramUser)
        .values(
            telegram_id=telegram_id,
            first_seen_at=now,
            **{"blocked_bot": False, **values},
        )
        .on_conflict_do_update(index_elements=[TelegramUser.telegram_id], set_=values)
        .returning(TelegramUser.id)
    )
    return int((await session.execute(statement)).scalar_one())


async def set_blocked(session: AsyncSession, telegram_id: int) -> None:
    await session.execute(
        update(TelegramUser).where(TelegramUser.telegram_id == telegram_id).values(blocked_bot=True)
    )
