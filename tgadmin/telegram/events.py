"""What the gateway learns from Telegram's answers, reported to whoever owns the rows concerned.

The gateway knows no domain: the top floor hands it an implementation of `GatewayEvents` that
passes each report to the domain owning the row (groups, buyers). Every method works in the
caller's session and flushes at most; the caller's unit of work commits.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import Group


class GatewayEvents(Protocol):
    async def call_succeeded(self, session: AsyncSession, group: Group) -> None:
        """A call into a known group went through."""

    async def chat_migrated(
        self, session: AsyncSession, bot_id: int, old_chat_id: int, new_chat_id: int
    ) -> Group | None:
        """A group became a supergroup; returns the group now holding `new_chat_id`, if known."""

    async def chat_gone(self, session: AsyncSession, bot_id: int, chat_id: int, reason: str) -> None:
        """The bot was removed from a group chat, or the chat no longer exists."""

    async def rights_missing(self, session: AsyncSession, group: Group, description: str) -> None:
        """Telegram answered "not enough rights" in a known group."""

    async def user_blocked(self, session: AsyncSession, telegram_id: int) -> None:
        """A private chat is closed to the bot: the user blocked it or deleted their account."""
