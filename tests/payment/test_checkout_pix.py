"""Checkout through the bot service (real uvicorn, webhooks from the Telegram sandbox, the real
aiogram client), PostgreSQL and SQLite: a pressed product becomes a pending purchase and a PIX
charge the buyer sees as a QR photo and a copy-paste code; the sandbox bank pays it and "I have
paid" confirms it and queues the delivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from redis.asyncio import Redis
from sqlalchemy import update

from tests.bot.conftest import BotWorld, Running, eventually, register_bot, start_service
from tests.factories import make_product
from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox
from tests.payment.stars_world import deliveries, started_buyer
from tgadmin.clock import utcnow
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.models import AppSetting, Product, Purchase, TelegramUser, Transaction
from tgadmin.models.enums import PurchaseStatus, TransactionStatus
from tgadmin.payment import bot as payment_bot
from tgadmin.payment import texts
from tgadmin.queue.client import Queues
from tgadmin.redis import free_port
from tgadmin.telegram.callbacks import Buy, CheckPaid


@dataclass
class Store:
    world: BotWorld
    running: Running
    queues: Queues

    @property
    def sandbox(self) -> Sandbox:
        return self.world.sandbox

    async def product(self, **kw: Any) -> Product:
        async with session_scope(self.world.sessions) as session:
            return await make_product(session, **kw)

    async def methods(self, **enabled: bool) -> None:
        async with session_scope(self.world.sessions) as session:
            session.add(AppSetting(key="payment_methods", value=enabled))

    async def shelf(self, buyer: TelegramUser, *buttons: Buy | str) -> int:
        """What the catalog shows: a product with its buy button (or any data a tampered client
        sends: Telegram presses only a message's own buttons); the message id to press."""
        data = [b.pack() if isinstance(b, Buy) else b for b in buttons]
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Comprar", callback_data=d)] for d in data]
        )
        message = await self.world.tg.bot.send_message(buyer.telegram_id, "Pack", reply_markup=markup)
        return message.message_id

    async def press(self, buyer: TelegramUser, message_id: int, data: str) -> dict[str, Any]:
        """Press a button and wait for the bot's answer to the callback."""
        query_id = await self.sandbox.press(buyer.telegram_id, message_id, data)

        async def answered() -> dict[str, Any] | None:
            found: dict[str, Any] = (
                await self.sandbox.control.get(f"/sandbox/callback_queries/{query_id}")
            ).json()
            return found if found["answered"] else None

        return await eventually(answered)

    async def chat(self, buyer: TelegramUser) -> list[dict[str, Any]]:
        return await self.sandbox.messages(buyer.telegram_id)

    async def bot_messages(self, buyer: TelegramUser, count: int) -> list[dict[str, Any]]:
        """The bot's messages once there are `count` of them (the shelf included)."""

        async def enough() -> list[dict[str, Any]] | None:
            mine = [m for m in await self.chat(buyer) if m["sender"] and m["sender"].get("is_bot")]
            return mine if len(mine) >= count else None

        return await eventually(enough)

    async def pending(self, buyer: TelegramUser) -> list[Purchase]:
        return await self.world.rows(
            Purchase, Purchase.user_id == buyer.id, Purchase.status == PurchaseStatus.PENDING
        )


@asynccontextmanager
async def open_store(sandbox: Sandbox, db_url: str, prefix: str) -> AsyncIterator[Store]:
    """The bot service with the payment router, its PIX provider the sandbox PSP (from settings, as
    the dashboard's), its deliveries on real Redis."""
    await sandbox.configure(enforce_limits=False)
    port = free_port()
    settings = load_settings(
        database_url=db_url,
        telegram_api_base_url=sandbox.url,
        public_url=f"http://127.0.0.1:{port}",
        telegram_bot_token=None,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        pix_provider="sandbox",
        pix_api_url=sandbox.url,
        pix_webhook_secret="checkout-webhook-secret",
    )
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    tg = await sandbox.create_bot("shop_bot")
    record_id, secret = await register_bot(sessions, tg)
    world = BotWorld(sandbox, settings, engine, sessions, tg, record_id, secret, port)
    running = await start_service(world, routers=[payment_bot.router])
    queues = Queues(settings)
    try:
        yield Store(world, running, queues)
    finally:
        await running.stop()
        await queues.close()
        await engine.dispose()


@pytest.fixture
async def store(sandbox: Sandbox, fresh_db_url: str, redis_prefix: str, redis: Redis) -> AsyncIterator[Store]:
    async with open_store(sandbox, fresh_db_url, redis_prefix) as opened:
        yield opened


def button_data(message: dict[str, Any]) -> str:
    return str(message["buttons"][0][0]["callback_data"])


async def test_a_pressed_product_shows_the_pix_qr_code_and_i_have_paid_confirms_the_bank_payment(
    store: Store,
) -> None:
    buyer = await started_buyer(store.world, "Ana", "pt-br")
    product = await store.product(price_cents=2990)
    shelf = await store.shelf(buyer, Buy(product_id=product.id, price_cents=2990, source="grp7"))

    assert (
        await store.press(buyer, shelf, Buy(product_id=product.id, price_cents=2990, source="grp7").pack())
    )["answer"]["text"] is None
    _, photo, code = await store.bot_messages(buyer, 3)

    assert photo["media"]["kind"] == "photo" and photo["media"]["has_bytes"]
    assert "R$ 29,90" in photo["caption"] and "Válido até" in photo["caption"]
    assert photo["buttons"][0][0]["text"] == "✅ Já paguei"
    assert photo["pix_codes"] == [] and code["pix_codes"] == [code["text"]]
    assert code["entities"] == [{"type": "code", "offset": 0, "length": len(code["text"])}]
    assert code["buttons"] == []
    [purchase] = await store.pending(buyer)
    assert (purchase.amount_cents, purchase.source, purchase.bot_id) == (2990, "grp7", store.world.record_id)
    tx = await store.world.row(Transaction, Transaction.purchase_id == purchase.id)
    assert tx is not None and tx.pix_copy_paste == code["text"]
    assert button_data(photo) == CheckPaid(transaction_id=tx.id).pack()

    not_yet = await store.press(buyer, photo["message_id"], button_data(photo))
    assert not_yet["answer"]["text"] == texts.check(texts.Check.NOT_YET, "pt")
    assert await deliveries(store.queues) == []

    paid = await store.sandbox.control.post("/sandbox/pix/pay", json={"code": code["text"]})
    assert paid.status_code == 200, paid.text
    started = time.monotonic()
    confirmed = await store.press(buyer, photo["message_id"], button_data(photo))
    assert time.monotonic() - started < 2
    assert confirmed["answer"]["text"] == texts.check(texts.Check.CONFIRMED, "pt")
    assert (await store.world.row(Transaction, Transaction.id == tx.id)).status == TransactionStatus.PAID  # type: ignore[union-attr]
    assert (await store.world.row(Purchase, Purchase.id == purchase.id)).status == PurchaseStatus.PAID  # type: ignore[union-attr]
    assert await eventually(lambda: deliveries(store.queues)) == [{"purchaseId": purchase.id}]

    again = await store.press(buyer, photo["message_id"], button_data(photo))
    assert again["answer"]["text"] == texts.check(texts.Check.ALREADY_PAID, "pt")


async def test_pressing_again_or_twice_at_once_keeps_one_pending_purchase_and_its_charge(
    store: Store,
) -> None:
    buyer = await started_buyer(store.world, "Bob", "en")
    product = await store.product(price_cents=1990)
    data = Buy(product_id=product.id, price_cents=1990).pack()
    shelf = await store.shelf(buyer, Buy(product_id=product.id, price_cents=1990))

    await asyncio.gather(store.press(buyer, shelf, data), store.press(buyer, shelf, data))
    await store.press(buyer, shelf, data)
    messages = await store.bot_messages(buyer, 7)

    [purchase] = await store.pending(buyer)
    [tx] = await store.world.rows(Transaction, Transaction.purchase_id == purchase.id)
    codes = [m["text"] for m in messages if m["pix_codes"]]
    assert codes == [tx.pix_copy_paste] * 3
    assert "R$19.90" in messages[1]["caption"] and messages[1]["buttons"][0][0]["text"] == "✅ I have paid"


async def test_an_expired_charge_is_replaced_by_a_new_one_on_the_next_press(store: Store) -> None:
    buyer = await started_buyer(store.world, "Ana", "pt-br")
    product = await store.product(price_cents=1990)
    data = Buy(product_id=product.id, price_cents=1990).pack()
    shelf = await store.shelf(buyer, Buy(product_id=product.id, price_cents=1990))
    await store.press(buyer, shelf, data)
    first = (await store.bot_messages(buyer, 3))[2]["text"]
    async with session_scope(store.world.sessions) as session:
        await session.execute(update(Transaction).values(pix_expires_at=utcnow() - timedelta(minutes=1)))

    await store.press(buyer, shelf, data)
    second = (await store.bot_messages(buyer, 5))[4]["text"]

    assert second != first
    old = await store.world.row(Transaction, Transaction.pix_copy_paste == first)
    assert old is not None and old.status == TransactionStatus.EXPIRED
    [purchase] = await store.pending(buyer)
    new = await store.world.row(Transaction, Transaction.pix_copy_paste == second)
    assert new is not None and new.status == TransactionStatus.PENDING and new.purchase_id == purchase.id
    refused = await store.sandbox.control.post("/sandbox/pix/pay", json={"code": first})
    assert refused.status_code == 400
