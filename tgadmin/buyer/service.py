"""Buyers as Telegram shows them: refreshed on every private update, flagged when they block the bot;
their language, 18+ confirmation and the source that brought them in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import i18n
from tgadmin.buyer import repository
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


@dataclass(slots=True)
class KnownBuyer:
    """The sender of a private update as the bot process knows it: handlers read the language from it
    instead of the row (the middleware keeps it per buyer and hands each update its own copy)."""

    id: int
    preferred_language: str | None


async def touch_user(session: AsyncSession, seen: SeenUser) -> KnownBuyer:
    """Insert or refresh the user; returns its id and chosen language."""
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
    # The language Telegram reports on first contact becomes the buyer's; later profile updates never
    # change it (only /language does). With no code at all, it stays unknown and falls back to the code.
    first = {} if seen.language_code is None else {"preferred_language": i18n.language(seen.language_code)}
    user_id, preferred = await repository.upsert(session, seen.telegram_id, values, now, on_insert=first)
    return KnownBuyer(user_id, preferred)


async def mark_blocked(session: AsyncSession, telegram_id: int) -> None:
    """Telegram refused a message to the user's private chat: they blocked the bot (or are gone)."""
    await repository.set_blocked(session, telegram_id)


async def buyer(session: AsyncSession, user_id: int) -> TelegramUser | None:
    return await repository.get(session, user_id)


def language_of(user: TelegramUser | None, code: str | None) -> i18n.Language:
    """The buyer's language for every text they read (their choice first, then Telegram's)."""
    return i18n.buyer_language(user.preferred_language if user else None, code)


def known_language(buyer: KnownBuyer | None, code: str | None) -> i18n.Language:
    """`language_of` without reading the row: the buyer as the middleware knows them."""
    return i18n.buyer_language(buyer.preferred_language if buyer else None, code)


async def choose_language(session: AsyncSession, buyer: KnownBuyer, language: i18n.Language) -> None:
    """Stored for good (`/language`); `buyer` learns it too, so the middleware's copy follows once
    this unit of work commits."""
    await repository.set_language(session, buyer.id, language)
    buyer.preferred_language = language


async def confirm_age(session: AsyncSession, user_id: int) -> None:
    """The buyer confirmed they are 18 or older (once is enough; the first time is kept)."""
    await repository.confirm_age(session, user_id, utcnow())


async def note_source(session: AsyncSession, user_id: int, source: str) -> bool:
    """The group or campaign tag of the buyer's first deep link that carried one; never overwritten."""
    return await repository.set_source_once(session, user_id, source)
