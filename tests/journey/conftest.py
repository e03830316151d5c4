"""The whole shop running for a buyer's journey: the bot service (real uvicorn, webhooks from the
Telegram sandbox, every domain router), a real worker (deliveries, send-promo), the dashboard
serving the PIX webhook the sandbox PSP notifies, on a database of the test's own (PostgreSQL and
SQLite), real Redis under the test's prefix, and a media folder of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import update

from tests.bot.conftest import BotWorld, Running, eventually, register_bot, start_service
from tests.fixtures.dashboard import dashboard_server
from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox
from tgadmin.config import Settings, load_settings
from tgadmin.creator.demo import DemoSeed, seed_demo
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import Group, Product, Purchase, TelegramUser
from tgadmin.pix.providers import get_provider
from tgadmin.pix.providers.sandbox import SandboxProvider
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName
from tgadmin.redis import free_port
from tgadmin.storage import LocalStorage
from tgadmin.subscription.jobs import sweep
from tgadmin.subscription.service import SweepSummary
from tgadmin.worker.runner import WorkerProcess

WEBHOOK_SECRET = "journey-pix-webhook-secret"


@dataclass
class Shop:
    world: BotWorld
    queues: Queues
    worker: WorkerProcess

    @property
    def sandbox(self) -> Sandbox:
        return self.world.sandbox

    @property
    def bot_tg_id(self) -> int:
        return self.world.tg.id

    # --- the operator's side --------------------------------------------------------------------

    async def seed(self) -> DemoSeed:
        async with session_scope(self.world.sessions) as session:
            return await seed_demo(session, LocalStorage(self.world.settings.media_dir))

    async def change(self, model: type[Any], row_id: int, **values: Any) -> None:
        async with session_scope(self.world.sessions) as session:
            await session.execute(update(model).where(model.id == row_id).values(**values))

    async def admin_group(self, title: str) -> Group:
        """A sandbox group the bot is added to and promoted in; the bot service records it."""
        chat = await self.sandbox.create_chat("supergroup", title)
        rights = {
            "can_delete_messages": True,
            "can_post_messages": True,
            "can_invite_users": True,
            "can_restrict_members": True,
        }
        await self.sandbox.add_member(chat, bot_id=self.bot_tg_id, status="administrator", rights=rights)
        return await eventually(lambda: self.world.row(Group, Group.telegram_id == chat))

    async def job(self, name: JobName, data: dict[str, Any], within: float = 60) -> Any:
        """Enqueue for the real worker; its return value once completed."""
        job_id = await self.queues.enqueue(name, data)
        queue = self.queues.queue(name.queue)

        async def done() -> str | None:
            state = await queue.getJobState(job_id)
            return state if state in ("completed", "failed") else None

        state = await eventually(done, within=within)
        found = await queue.getJob(job_id)
        assert found is not None and state == "completed", found.failedReason if found else state
        return found.returnvalue

    async def sweep(self, now: Any) -> SweepSummary:
        assert self.worker.ctx is not None
        async with self.world.sessions() as session:
            return await sweep(session, self.worker.ctx.gateway, session.commit, now=now)

    # --- the buyer's side -----------------------------------------------------------------------

    async def chat(self, chat_id: int) -> list[dict[str, Any]]:
        """What the chat shows from the bot, oldest first (deleted messages excluded)."""
        try:
            shown = await self.sandbox.messages(chat_id, bot_id=self.bot_tg_id)
        except httpx.HTTPStatusError as error:
            if error.response.status_code == 404:
                return []  # the buyer has not written to the bot yet
            raise
        return [m for m in shown if (m.get("sender") or {}).get("id") == self.bot_tg_id and not m["deleted"]]

    async def after(self, chat_id: int, seen: int, count: int, within: float = 20) -> list[dict[str, Any]]:
        """The bot's messages after the first `seen`, once there are `count` new ones."""

        async def enough() -> list[dict[str, Any]] | None:
            new = (await self.chat(chat_id))[seen:]
            return new if len(new) >= count else None

        return await eventually(enough, within=within)

    async def says(self, user: int, text: str, expect: int) -> list[dict[str, Any]]:
        seen = len(await self.chat(user))
        await self.sandbox.user_says(user, text)
        return await self.after(user, seen, expect)

    async def press(self, user: int, message: dict[str, Any], label_start: str) -> dict[str, Any]:
        """Press the message's button whose label starts with `label_start`; the callback's answer."""
        data = button(message, label_start)[1]
        return await self.press_data(user, message, data)

    async def press_data(self, user: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        query_id = await self.sandbox.press(user, message["message_id"], data)

        async def answered() -> dict[str, Any] | None:
            found: dict[str, Any] = (
                await self.sandbox.control.get(f"/sandbox/callback_queries/{query_id}")
            ).json()
            return found if found.get("answered") else None

        return await eventually(answered)

    async def buyer(self, telegram_id: int, until: Callable[[TelegramUser], bool] = bool) -> TelegramUser:
        async def stored() -> TelegramUser | None:
            row = await self.world.row(TelegramUser, TelegramUser.telegram_id == telegram_id)
            return row if row is not None and until(row) else None

        return await eventually(stored)

    async def purchase(self, until: Callable[[Purchase], bool], *where: Any, within: float = 30) -> Purchase:
        async def found() -> Purchase | None:
            rows = await self.world.rows(Purchase, *where)
            return next((p for p in rows if until(p)), None)

        return await eventually(found, within=within)

    async def product(self, product_id: int) -> Product:
        found = await self.world.row(Product, Product.id == product_id)
        assert found is not None
        return found


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback data or URL) of every inline button, row after row."""
    rows = message.get("buttons") or []
    return [(b["text"], b.get("callback_data") or b.get("url") or "") for row in rows for b in row]


def button(message: dict[str, Any], label_start: str) -> tuple[str, str]:
    found = [b for b in buttons(message) if b[0].startswith(label_start)]
    assert len(found) == 1, (label_start, buttons(message))
    return found[0]


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


def journey_settings(db_url: str, prefix: str, sandbox_url: str, port: int, media: Path) -> Settings:
    return load_settings(
        database_url=db_url,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        telegram_api_base_url=sandbox_url,
        public_url=f"http://127.0.0.1:{port}",
        telegram_bot_token=None,
        pix_provider="sandbox",
        pix_api_url=sandbox_url,
        pix_webhook_secret=WEBHOOK_SECRET,
        media_dir=media,
    )


@pytest.fixture
async def shop(
    sandbox: Sandbox, fresh_db_url: str, redis_prefix: str, redis: Redis, tmp_path: Path
) -> AsyncIterator[Shop]:
    await sandbox.configure(enforce_limits=False)
    bot_port, web_port = free_port(), free_port()
    settings = journey_settings(fresh_db_url, redis_prefix, sandbox.url, bot_port, tmp_path / "media")
    web = journey_settings(fresh_db_url, redis_prefix, sandbox.url, web_port, tmp_path / "media")
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    tg = await sandbox.create_bot("shop_bot")
    record_id, secret = await register_bot(sessions, tg)
    world = BotWorld(sandbox, settings, engine, sessions, tg, record_id, secret, bot_port)
    psp = get_provider(web)
    assert isinstance(psp, SandboxProvider)
    queues = Queues(settings)
    worker = WorkerProcess(settings, concurrency=2, schedules=False)
    running: Running | None = None
    try:
        async with dashboard_server(web, web_port) as url:
            await psp.register_webhook(psp.webhook_url(url))
            running = await start_service(world)
            await worker.start()
            yield Shop(world, queues, worker)
    finally:
        if worker.ctx is not None:
            await worker.stop(grace=5)
        if running is not None:
            await running.stop()
        await asyncio.gather(psp.aclose(), queues.close())
        await engine.dispose()
