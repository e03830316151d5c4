"""The storefront as a buyer meets it: the bot service running against the sandbox over HTTP, with a
media folder of the test's own, on a database of its own (PostgreSQL and SQLite)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bot.conftest import BotWorld, Running, eventually, register_bot, start_service
from tests.factories import make_creator, make_preview, make_product
from tests.fixtures.sandbox import Sandbox
from tests.sandbox.conftest import png_bytes
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import Creator, TelegramUser
from tgadmin.redis import free_port
from tgadmin.storage import LocalStorage

COLORS = ("red", "green", "blue", "yellow", "purple", "orange", "white", "black", "gray", "pink")
_updates = itertools.count(900_000)


@dataclass
class Store:
    world: BotWorld
    storage: LocalStorage

    @property
    def sandbox(self) -> Sandbox:
        return self.world.sandbox

    async def creator(
        self, *, previews: int = 0, products: list[dict[str, Any]] | None = None, **fields: Any
    ) -> Creator:
        """A creator with `previews` PNG previews in storage and the given products."""
        async with session_scope(self.world.sessions) as session:
            creator = await make_creator(session, **fields)
            for position in range(previews):
                data = png_bytes(COLORS[position % len(COLORS)], (40 + position, 30))
                key = f"creators/{creator.id}/{position}.png"
                await self.storage.put(key, data, "image/png")
                await make_preview(session, creator, key, data, position)
            for product in products or []:
                await make_product(session, creator=creator, **product)
            return creator

    async def deactivate(self, creator: Creator) -> None:
        async with session_scope(self.world.sessions) as session:
            (await session.get_one(Creator, creator.id)).is_active = False

    async def buyer(self, language: str | None = "pt-br") -> int:
        return await self.sandbox.create_user(f"Ana {next(_updates)}", language_code=language)

    async def chat(self, user: int) -> list[dict[str, Any]]:
        """What the buyer's chat shows from the bot, oldest first (nothing before they wrote)."""
        try:
            shown = await self.sandbox.messages(user, bot_id=self.world.tg.id)
        except httpx.HTTPStatusError as error:
            if error.response.status_code == 404:
                return []
            raise
        return [
            m for m in shown if (m.get("sender") or {}).get("id") == self.world.tg.id and not m.get("deleted")
        ]

    async def replies(self, user: int, count: int) -> list[dict[str, Any]]:
        """Waits until the bot has sent at least `count` messages to the buyer; returns them all."""

        async def enough() -> list[dict[str, Any]] | None:
            shown = await self.chat(user)
            return shown if len(shown) >= count else None

        return await eventually(enough)

    async def says(self, user: int, text: str, expect: int) -> list[dict[str, Any]]:
        """The buyer writes; the chat once `expect` new bot messages arrived (the new ones)."""
        before = len(await self.chat(user))
        await self.sandbox.user_says(user, text)
        return (await self.replies(user, before + expect))[before:]

    async def settled(self, user: int) -> None:
        """Every earlier update of the buyer committed: a chat's updates are handled in turn, so once
        a later one is answered, the earlier ones are done."""
        await self.says(user, "/help", expect=1)

    async def press(self, user: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """Presses a button; returns the callback query's answer as the sandbox recorded it."""
        query_id = await self.sandbox.press(user, message["message_id"], data)

        async def answered() -> dict[str, Any] | None:
            found: dict[str, Any] = (
                await self.sandbox.control.get(f"/sandbox/callback_queries/{query_id}")
            ).json()
            return found if found.get("answered") else None

        return await eventually(answered)

    async def user(
        self, telegram_id: int, until: Callable[[TelegramUser], bool] = lambda _: True
    ) -> TelegramUser:
        """The buyer's row once it exists (and `until` holds: a reply can show before its commit)."""

        async def stored() -> TelegramUser | None:
            row = await self.world.row(TelegramUser, TelegramUser.telegram_id == telegram_id)
            return row if row is not None and until(row) else None

        return await eventually(stored)

    async def post_update(self, update: dict[str, Any]) -> None:
        """An update the sandbox cannot make (a sticker), delivered to the webhook as Telegram would."""
        secret = {"X-Telegram-Bot-Api-Secret-Token": self.world.webhook_secret}
        async with httpx.AsyncClient(base_url=self.world.base_url, trust_env=False) as client:
            url = f"/telegram/webhook/{self.world.record_id}"
            (
                await client.post(url, json={"update_id": next(_updates), **update}, headers=secret)
            ).raise_for_status()


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button, row after row."""
    rows = message.get("buttons") or []
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


@pytest.fixture
async def store(sandbox: Sandbox, fresh_db_url: str, tmp_path: Path) -> AsyncIterator[Store]:
    port = free_port()
    settings = load_settings(
        database_url=fresh_db_url,
        telegram_api_base_url=sandbox.url,
        public_url=f"http://127.0.0.1:{port}",
        telegram_bot_token=None,
        media_dir=tmp_path / "media",
    )
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    tg = await sandbox.create_bot("shop_bot")
    record_id, secret = await register_bot(sessions, tg)
    world = BotWorld(sandbox, settings, engine, sessions, tg, record_id, secret, port)
    running: Running = await start_service(world)
    try:
        yield Store(world, LocalStorage(tmp_path / "media"))
    finally:
        await running.stop()
        await engine.dispose()
