"""The Stars tests' world: the bot service (real uvicorn, webhooks from the Telegram sandbox, the
real aiogram client) with the payment router, and buyers who open the bot and get invoices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram.types import Message

from tests.bot.conftest import BotWorld, Running, eventually, register_bot, start_service
from tests.factories import make_purchase
from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import Purchase, TelegramUser, Transaction
from tgadmin.models.enums import TransactionStatus
from tgadmin.payment import bot as payment_bot
from tgadmin.payment import stars
from tgadmin.purchase.enqueue import QueueDeliveries
from tgadmin.queue.client import Queues
from tgadmin.queue.names import QueueName
from tgadmin.redis import free_port


@dataclass
class StarsShop:
    world: BotWorld
    running: Running
    queues: Queues


@asynccontextmanager
async def open_stars_shop(sandbox: Sandbox, fresh_db_url: str, redis_prefix: str) -> AsyncIterator[StarsShop]:
    """The bot service with the payment router, served on a free port, its deliveries on real Redis."""
    await sandbox.configure(enforce_limits=False)
    port = free_port()
    settings = load_settings(
        database_url=fresh_db_url,
        telegram_api_base_url=sandbox.url,
        public_url=f"http://127.0.0.1:{port}",
        telegram_bot_token=None,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
    )
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    tg = await sandbox.create_bot("shop_bot")
    record_id, secret = await register_bot(sessions, tg)
    world = BotWorld(sandbox, settings, engine, sessions, tg, record_id, secret, port)
    running = await start_service(world, routers=[payment_bot.router])
    queues = Queues(settings)
    running.service.dispatcher["payment_deliveries"] = QueueDeliveries(queues)
    try:
        yield StarsShop(world, running, queues)
    finally:
        await running.stop()
        await queues.close()
        await engine.dispose()


async def started_buyer(world: BotWorld, name: str, language: str) -> TelegramUser:
    """A sandbox user who opened the bot (/start): the bot service has recorded them."""
    telegram_id = await world.sandbox.create_user(name, language_code=language)
    await world.sandbox.user_says(telegram_id, "/start")
    return await eventually(lambda: world.row(TelegramUser, TelegramUser.telegram_id == telegram_id))


async def deliveries(queues: Queues) -> list[dict[str, object]]:
    jobs = await queues.queue(QueueName.BOT_TASKS).getJobs(["waiting"])
    return [dict(job.data) for job in jobs if job.name == "deliver-purchase"]


async def invoice_sent(world: BotWorld, name: str = "Ana") -> tuple[TelegramUser, Purchase, Message]:
    buyer = await started_buyer(world, name, "pt-br")
    async with session_scope(world.sessions) as session:
        purchase = await make_purchase(session, stars_price=150, buyer=await session.merge(buyer))
        invoice = await stars.create_stars_invoice(session, purchase.id)
    message = await payment_bot.send_stars_invoice(world.tg.bot, buyer.telegram_id, invoice)
    return buyer, purchase, message


async def paid_transaction(world: BotWorld, charge_id: str) -> Transaction:
    async def found() -> Transaction | None:
        tx = await world.row(Transaction, Transaction.telegram_payment_charge_id == charge_id)
        return tx if tx is not None and tx.status == TransactionStatus.PAID else None

    return await eventually(found, within=20)
