"""Subscriptions for real: a database of the test's own (PostgreSQL and SQLite), the real Redis
under the test's prefix (the gateway's limiter), the Telegram sandbox over HTTP with a bot that is
registered in our database, and buyers who have started it. Sweeps are run directly (no worker
running, so nothing else sweeps behind the test's back); tests/subscription/test_worker.py runs the
job through the real worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import make_buyer, make_product, make_purchase, serial
from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox, SandboxBot
from tests.worker.harness import world, world_overrides  # noqa: F401 - shared fixtures
from tgadmin.clock import utcnow
from tgadmin.config import Settings, load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import AuditLog, Purchase, TelegramUser
from tgadmin.models.enums import ProductType, PurchaseStatus
from tgadmin.subscription.jobs import sweep
from tgadmin.subscription.service import SweepSummary
from tgadmin.telegram.bots import register_from_token
from tgadmin.telegram.client import BotClients
from tgadmin.telegram.gateway import Gateway
from tgadmin.worker.events import DomainEvents


@dataclass
class Buyer:
    telegram_id: int  # the sandbox user's id, also TelegramUser.telegram_id
    id: int  # TelegramUser.id


@dataclass
class Subs:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    sandbox: Sandbox
    tg: SandboxBot
    bot_id: int
    gateway: Gateway

    async def buyer(self, language: str | None = "pt-br", *, started: bool = True) -> Buyer:
        """A sandbox user who (by default) has started the bot, and their TelegramUser row."""
        telegram_id = await self.sandbox.create_user(f"Comprador {serial()}", language_code=language)
        if started:
            await self.sandbox.user_says(telegram_id, "/start")
        async with session_scope(self.sessions) as session:
            user = await make_buyer(session, telegram_id, language)
            return Buyer(telegram_id, user.id)

    async def deliver(self, chat_id: int, count: int) -> list[int]:
        """Messages the bot posts in a chat, as delivery would (the sandbox's limits off meanwhile)."""
        await self.sandbox.configure(enforce_limits=False)
        ids = [
            (await self.tg.bot.send_message(chat_id, f"foto {i + 1}", protect_content=True)).message_id
            for i in range(count)
        ]
        await self.sandbox.configure(enforce_limits=True)
        return ids

    async def subscription(
        self,
        buyer: Buyer,
        *,
        expires_in: timedelta,
        title: str = "Assinatura VIP",
        status: PurchaseStatus = PurchaseStatus.COMPLETED,
        product_type: ProductType = ProductType.SUBSCRIPTION,
        access_chat_id: int | None = None,
        sent_messages: list[dict[str, Any]] | None = None,
        bot: bool = True,
        **flags: bool,
    ) -> int:
        """A purchase of a (by default) subscription product whose access ends `expires_in` from now."""
        async with session_scope(self.sessions) as session:
            product = await make_product(
                session, kind=product_type, title=title, price_cents=7990, access_chat_id=access_chat_id
            )
            now = utcnow()
            purchase = await make_purchase(
                session,
                product=product,
                buyer=await session.get_one(TelegramUser, buyer.id),
                status=status,
                bot_id=self.bot_id if bot else None,
                delivered_at=now,
                access_expires_at=now + expires_in,
                sent_messages=sent_messages or [],
                **dict[str, Any](flags),
            )
            return purchase.id

    async def sweep(self, now: datetime | None = None, batch_size: int = 50) -> SweepSummary:
        async with self.sessions() as session:
            return await sweep(session, self.gateway, session.commit, now=now, batch_size=batch_size)

    async def purchase(self, purchase_id: int) -> Purchase:
        async with self.sessions() as session:
            found = await session.get(Purchase, purchase_id)
            assert found is not None
            return found

    async def user(self, buyer: Buyer) -> TelegramUser:
        async with self.sessions() as session:
            found = await session.get(TelegramUser, buyer.id)
            assert found is not None
            return found

    async def audit(self, purchase_id: int) -> list[AuditLog]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(AuditLog)
                .where(AuditLog.entity_type == "purchase", AuditLog.entity_id == str(purchase_id))
                .order_by(AuditLog.id)
            )
            return list(rows.all())

    async def shown(self, chat_id: int) -> list[str]:
        """Texts the chat shows from the bot (deleted messages excluded)."""
        return [
            str(m["text"])
            for m in await self.sandbox.messages(chat_id)
            if not m["deleted"] and m.get("text") and (m.get("sender") or {}).get("id") == self.tg.id
        ]


def subs_settings(db_url: str, prefix: str, sandbox_url: str) -> Settings:
    return load_settings(
        database_url=db_url, redis_url=REDIS_URL, redis_prefix=prefix, telegram_api_base_url=sandbox_url
    )


@pytest.fixture
async def subs(fresh_db_url: str, redis_prefix: str, redis: Redis, sandbox: Sandbox) -> AsyncIterator[Subs]:
    settings = subs_settings(fresh_db_url, redis_prefix, sandbox.url)
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    tg = await sandbox.create_bot("vip_bot")
    async with session_scope(sessions) as session:
        bot_id = (await register_from_token(session, tg.token, settings)).bot.id
    clients = BotClients(settings, sessions)
    try:
        yield Subs(
            settings, sessions, sandbox, tg, bot_id, Gateway.create(settings, redis, clients, DomainEvents())
        )
    finally:
        await clients.close()
        await engine.dispose()
