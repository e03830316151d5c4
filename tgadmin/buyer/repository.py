"""All SQL of the buyer domain (the `telegram_users` table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import db
from tgadmin.models import TelegramUser


async def upsert(
    session: AsyncSession,
    telegram_id: int,
    values: dict[str, Any],
    now: datetime,
    on_insert: dict[str, Any] | None = None,
) -> tuple[int, str | None]:
    """Insert or refresh in one statement (two updates of a new user may race); returns the row id
    and the buyer's preferred language.

    `values` are set on both paths, `on_insert` only when the row is new; `blocked_bot` is False for
    a new user unless `values` says.
    """
    statement = (
        db.insert(session, TelegramUser)
        .values(
            telegram_id=telegram_id,
            first_seen_at=now,
            **{"blocked_bot": False, **(on_insert or {}), **values},
        )
        .on_conflict_do_update(index_elements=[TelegramUser.telegram_id], set_=values)
        .returning(TelegramUser.id, TelegramUser.preferred_language)
    )
    row = (await session.execute(statement)).one()
    return int(row.id), row.preferred_language


async def set_blocked(session: AsyncSession, telegram_id: int) -> None:
    await session.execute(
        update(TelegramUser).where(TelegramUser.telegram_id == telegram_id).values(blocked_bot=True)
    )


async def get(session: AsyncSession, user_id: int) -> TelegramUser | None:
    return await session.get(TelegramUser, user_id, populate_existing=True)


async def set_language(session: AsyncSession, user_id: int, language: str) -> None:
    await session.execute(
        update(TelegramUser)
        .where(TelegramUser.id == user_id)
        .values(preferred_language=language)
        .execution_options(synchronize_session=False)
    )


async def confirm_age(session: AsyncSession, user_id: int, now: datetime) -> None:
    """The first confirmation's time is kept."""
    await session.execute(
        update(TelegramUser)
        .where(TelegramUser.id == user_id, TelegramUser.age_confirmed_at.is_(None))
        .values(age_confirmed_at=now)
        .execution_options(synchronize_session=False)
    )


async def set_source_once(session: AsyncSession, user_id: int, source: str) -> bool:
    """Only the first source is kept: True when this call stored it."""
    result = await session.execute(
        update(TelegramUser)
        .where(TelegramUser.id == user_id, TelegramUser.source.is_(None))
        .values(source=source)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
