"""aiogram clients of the workers: one per bot account per process, built by `bots.client`.

Tokens live in the database (encrypted); the client is built on first use and kept, since an
aiohttp session per call would cost a TCP/TLS handshake each time. `forget` drops a client whose
token may have changed (Telegram answered Unauthorized); `close` ends them all at shutdown.
"""

from __future__ import annotations

import asyncio

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgadmin.config import Settings
from tgadmin.telegram import bots


class BotClients:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions
        self._bots: dict[int, Bot] = {}
        self._lock = asyncio.Lock()

    async def get(self, bot_id: int) -> Bot:
        """The client of bot account `bot_id` (NotFound if there is no such bot)."""
        bot = self._bots.get(bot_id)
        if bot is not None:
            return bot
        async with self._lock:
            if bot_id not in self._bots:
                async with self.sessions() as session:
                    record = await bots.get_bot(session, bot_id)
                    self._bots[bot_id] = bots.client(record.token, self.settings)
            return self._bots[bot_id]

    async def forget(self, bot_id: int) -> None:
        bot = self._bots.pop(bot_id, None)
        if bot is not None:
            await bot.session.close()

    async def close(self) -> None:
        clients, self._bots = list(self._bots.values()), {}
        for bot in clients:
            await bot.session.close()
