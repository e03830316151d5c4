"""/mypurchases as a buyer meets it: the bot service (real uvicorn, webhooks from the Telegram sandbox,
the real aiogram client) and a real worker on the same database (PostgreSQL and SQLite), Redis and
media folder. The list shows each purchase's status, price, date and a subscription's access end; a
delivered pack can be sent again, through delivery's own job, once an hour; nothing is sent for
someone else's purchase, a refunded one, a subscription or a tampered button. Deliveries speak the
language the buyer chose, whatever Telegram says."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from redis.asyncio import Redis
from sqlalchemy import update

from tests.bot.conftest import BotWorld, eventually, register_bot, start_service
from tests.creator.storefront import Store, buttons, text_of
from tests.factories import add_product_file, make_product, make_purchase
from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox
from tests.sandbox.conftest import png_bytes
from tgadmin.clock import utcnow
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.i18n import format_date
from tgadmin.models import Product, Purchase, TelegramUser
from tgadmin.models.enums import ProductType, PurchaseStatus
from tgadmin.purchase import bot as purchase_bot
from tgadmin.purchase import history
from tgadmin.purchase.enqueue import QueueDeliveries
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName, QueueName
from tgadmin.redis import free_port
from tgadmin.storage import LocalStorage
from tgadmin.telegram.callbacks import MyPurchasesPage, Resend, SetLanguage
from tgadmin.worker.runner import WorkerProcess


@dataclass
class Mall(Store):
    """The storefront (tests/creator/storefront.py) with a worker behind it and Redis queues."""

    queues: Queues

    async def started(self, language: str = "pt-br") -> tuple[int, TelegramUser]:
        """A buyer who opened the bot, and their row."""
        user = await self.buyer(language)
        await self.says(user, "/start", expect=1)
        return user, await self.user(user)

    async def pack(
        self, photos: int, *, kind: ProductType = ProductType.CONTENT, title: str = "Pack Verão"
    ) -> Product:
        """A product whose PNG photos are in the media folder the worker reads."""
        async with session_scope(self.world.sessions) as session:
            product = await make_product(session, kind=kind, title=title, price_cents=2990)
            for position in range(photos):
                await add_product_file(
                    session,
                    self.storage,
                    product,
                    position,
                    png_bytes("red", (32 + position, 24)),
                    "image/png",
                )
            return product

    async def purchase(self, buyer: TelegramUser, product: Product | None = None, **kw: Any) -> Purchase:
        async with session_scope(self.world.sessions) as session:
            return await make_purchase(
                session,
                product=await session.get_one(Product, product.id) if product else None,
                buyer=await session.get_one(TelegramUser, buyer.id),
                bot_id=self.world.record_id,
                **kw,
            )

    async def delivered(self, buyer: TelegramUser, product: Product) -> Purchase:
        """A paid purchase delivered by the `deliver-purchase` job, as after a payment."""
        paid = await self.purchase(buyer, product, status=PurchaseStatus.PAID)
        await QueueDeliveries(self.queues)([paid.id])
        return await self.row(paid.id, lambda p: p.status is PurchaseStatus.COMPLETED)

    async def row(self, purchase_id: int, until: Any = lambda _: True) -> Purchase:
        async def found() -> Purchase | None:
            async with self.world.sessions() as session:
                row = await session.get_one(Purchase, purchase_id)
            return row if until(row) else None

        return await eventually(found, within=30)

    async def resends(self) -> list[str]:
        jobs = await self.queues.queue(QueueName.BOT_TASKS).getJobs(
            ["waiting", "active", "completed", "failed"]
        )
        return [str(job.id) for job in jobs if job.name == JobName.RESEND_PURCHASE]

    async def ask(self, user: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """Presses a button; the bot's answer to it ({text, show_alert})."""
        answer: dict[str, Any] = (await self.press(user, message, data))["answer"]
        return answer

    async def forged(self, user: int, *data: str) -> dict[str, Any]:
        """A message of the bot carrying any button data (what a tampered client could send)."""
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="?", callback_data=d)] for d in data]
        )
        sent = await self.world.tg.bot.send_message(user, "…", reply_markup=markup)
        return {"message_id": sent.message_id}


@pytest.fixture
async def mall(
    sandbox: Sandbox, fresh_db_url: str, redis_prefix: str, redis: Redis, tmp_path: Path
) -> AsyncIterator[Mall]:
    await sandbox.configure(enforce_limits=False)
    port = free_port()
    settings = load_settings(
        database_url=fresh_db_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
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
    running = await start_service(world)
    worker = WorkerProcess(settings, concurrency=2)
    await worker.start()
    queues = Queues(settings)
    try:
        yield Mall(world, LocalStorage(tmp_path / "media"), queues)
    finally:
        await worker.stop(grace=5)
        await queues.close()
        await running.stop()
        await engine.dispose()


def photos(chat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in chat if m.get("media") is not None]


# --- the list ----------------------------------------------------------------------------------


async def test_the_list_shows_status_price_date_and_a_subscriptions_access_end_newest_first(
    mall: Mall,
) -> None:
    user, buyer = await mall.started()
    now = utcnow()
    end = now + timedelta(days=20)
    pack = await mall.purchase(buyer, status=PurchaseStatus.COMPLETED, created_at=now - timedelta(days=3))
    sub_product = await mall.pack(0, kind=ProductType.SUBSCRIPTION, title="Assinatura VIP")
    await mall.purchase(
        buyer,
        sub_product,
        status=PurchaseStatus.COMPLETED,
        access_expires_at=end,
        created_at=now - timedelta(days=2),
    )
    await mall.purchase(buyer, status=PurchaseStatus.REFUNDED, created_at=now - timedelta(days=1))
    await mall.purchase(buyer, amount_cents=4990, created_at=now)  # pending

    [shown] = await mall.says(user, "/mypurchases", expect=1)

    text = text_of(shown)
    assert text.startswith(
        "🛍 Suas compras\n\n1. Pack Verão — R$ 49,90\n   ⏳ Aguardando pagamento · compra de "
    )
    assert "2. Pack Verão — R$ 19,90\n   ↩️ Reembolsado" in text
    assert (
        "3. Assinatura VIP — R$ 29,90\n   ✅ Entregue · compra de "
        f"{format_date(now - timedelta(days=2), 'pt')}\n   🔑 Acesso até {format_date(end, 'pt')}\n"
        "   Assinatura: o conteúdo fica no grupo de acesso e não é reenviado." in text
    )
    assert "4. Pack Verão — R$ 19,90\n   ✅ Entregue" in text
    # Only the delivered pack can be sent again.
    assert buttons(shown) == [("🔁 Reenviar “Pack Verão”", Resend(purchase_id=pack.id).pack())]


async def test_more_than_eight_purchases_come_in_pages(mall: Mall) -> None:
    user, buyer = await mall.started("en")
    now = utcnow()
    for age in range(10):
        await mall.purchase(buyer, status=PurchaseStatus.FAILED, created_at=now - timedelta(hours=age))

    [first] = await mall.says(user, "/mypurchases", expect=1)
    assert text_of(first).startswith(
        "🛍 Your purchases (page 1 of 2)\n\n1. Pack Verão — R$19.90\n   ❌ Failed"
    )
    assert "8. Pack" in text_of(first) and "9. Pack" not in text_of(first)
    assert buttons(first) == [("Older ▶️", MyPurchasesPage(page=1).pack())]

    await mall.press(user, first, MyPurchasesPage(page=1).pack())

    async def turned() -> dict[str, Any] | None:
        [edited] = (await mall.chat(user))[-1:]
        return edited if "page 2 of 2" in text_of(edited) else None

    second = await eventually(turned)
    assert "9. Pack Verão" in text_of(second) and "10. Pack Verão" in text_of(second)
    assert buttons(second) == [("◀️ Newer", MyPurchasesPage(page=0).pack())]


# --- send again --------------------------------------------------------------------------------


async def test_send_again_resends_the_album_once_and_a_second_press_within_the_hour_is_refused(
    mall: Mall,
) -> None:
    user, buyer = await mall.started()
    purchase = await mall.delivered(buyer, await mall.pack(3))
    first = await mall.chat(user)
    [shown] = await mall.says(user, "/mypurchases", expect=1)

    answer = await mall.ask(user, shown, Resend(purchase_id=purchase.id).pack())

    assert answer["text"] == "🔁 Enviando “Pack Verão” novamente…"
    again = (await mall.replies(user, len(first) + 1 + 4))[len(first) + 1 :]
    assert text_of(again[0]).startswith("🔁 Aqui está “Pack Verão” novamente.\n3 arquivo(s) a seguir.")
    assert [m["media"]["file_id"] for m in photos(again)] == [m["media"]["file_id"] for m in photos(first)]
    assert all(m["protect_content"] for m in again)
    # The first delivery: one album of 3 (the confirmation its caption); the resend: a text and the album.
    row = await mall.row(purchase.id, lambda p: len(p.sent_messages[0]["message_ids"]) == 7)
    assert row.resent_at is not None and row.delivered_steps == purchase.delivered_steps
    assert row.sent_messages[0]["message_ids"][3:] == [m["message_id"] for m in again]

    refused = await mall.ask(user, shown, Resend(purchase_id=purchase.id).pack())

    next_at = format_date(row.resent_at + timedelta(hours=1), "pt")
    assert refused["text"] == (
        f"Este pacote foi reenviado há pouco. Você poderá pedir de novo a partir de {next_at}."
    )
    assert refused["show_alert"] is True
    await mall.settled(user)
    assert len(await mall.chat(user)) == len(first) + 1 + 4 + 1  # only /help's answer more
    assert len(await mall.resends()) == 1
    assert (await mall.row(purchase.id)).resent_at == row.resent_at


async def test_a_pack_can_be_sent_again_once_the_hour_has_passed(mall: Mall) -> None:
    user, buyer = await mall.started()
    purchase = await mall.delivered(buyer, await mall.pack(2))
    async with session_scope(mall.world.sessions) as session:
        (await session.get_one(Purchase, purchase.id)).resent_at = utcnow() - timedelta(minutes=61)
    before = len(await mall.chat(user))

    answer = await mall.ask(
        user,
        await mall.forged(user, Resend(purchase_id=purchase.id).pack()),
        Resend(purchase_id=purchase.id).pack(),
    )

    assert answer["text"] == "🔁 Enviando “Pack Verão” novamente…"
    again = (await mall.replies(user, before + 1 + 3))[before + 1 :]
    assert text_of(again[0]).startswith("🔁 Aqui está “Pack Verão” novamente.")
    assert len(photos(again)) == 2


async def test_someone_elses_a_refunded_or_a_tampered_purchase_is_answered_and_nothing_is_sent(
    mall: Mall,
) -> None:
    owner_chat, owner = await mall.started()
    theirs = await mall.delivered(owner, await mall.pack(1))
    user, buyer = await mall.started()
    refunded = await mall.purchase(buyer, status=PurchaseStatus.REFUNDED)
    expired = await mall.purchase(buyer, status=PurchaseStatus.EXPIRED)
    data = {
        Resend(purchase_id=theirs.id).pack(): "Não encontramos essa compra entre as suas.",
        Resend(purchase_id=refunded.id).pack(): "Esta compra foi reembolsada: ela não pode ser reenviada.",
        Resend(purchase_id=expired.id).pack(): "Esta compra expirou: ela não pode ser reenviada.",
        "rs:abc": "Este botão não é válido. Envie /mypurchases para ver suas compras.",
        "rs:99999999999999999999": "Não encontramos essa compra entre as suas.",
        "myp:x": "Este botão não é válido.",
    }
    message = await mall.forged(user, *data)
    before = len(await mall.chat(user))

    for pressed, expected in data.items():
        answer = await mall.ask(user, message, pressed)
        assert answer["text"].startswith(expected) and answer["show_alert"] is True, pressed

    await mall.settled(user)
    assert len(await mall.chat(user)) == before + 1  # /help's answer only
    assert await mall.resends() == []
    for purchase_id in (theirs.id, refunded.id, expired.id):
        assert (await mall.row(purchase_id)).resent_at is None
    assert len(photos(await mall.chat(owner_chat))) == 1


async def test_a_subscription_has_no_send_again_and_a_forged_press_is_refused(mall: Mall) -> None:
    user, buyer = await mall.started("en")
    product = await mall.pack(2, kind=ProductType.SUBSCRIPTION, title="VIP Club")
    sub = await mall.purchase(
        buyer, product, status=PurchaseStatus.COMPLETED, access_expires_at=utcnow() + timedelta(days=9)
    )
    [shown] = await mall.says(user, "/mypurchases", expect=1)
    assert "Subscription: its content is in the access group and is not sent again." in text_of(shown)
    assert buttons(shown) == []

    answer = await mall.ask(
        user, await mall.forged(user, Resend(purchase_id=sub.id).pack()), Resend(purchase_id=sub.id).pack()
    )

    assert answer["text"] == "Subscriptions are not sent again: their content is in the access group."
    assert (await mall.row(sub.id)).resent_at is None and await mall.resends() == []


# --- delivery in the buyer's chosen language ---------------------------------------------------------


async def test_a_buyer_who_chose_english_gets_the_delivery_in_english_though_telegram_says_pt_br(
    mall: Mall,
) -> None:
    user, _ = await mall.started("pt-br")
    [offer] = await mall.says(user, "/language", expect=1)
    await mall.press(user, offer, SetLanguage(code="en").pack())
    buyer = await mall.user(user, until=lambda row: row.preferred_language == "en")
    assert buyer.language_code == "pt-br"

    await mall.delivered(buyer, await mall.pack(2))

    ready = [m for m in await mall.chat(user) if "Pack Verão" in text_of(m)]
    assert [text_of(m) for m in ready] == [
        "✅ Payment confirmed! Here is “Pack Verão”.\n"
        "2 file(s) follow. The content is protected: it cannot be forwarded or saved."
    ]


async def test_two_presses_at_once_claim_one_resend(fresh_db_url: str) -> None:
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    try:
        async with session_scope(sessions) as session:
            purchase = await make_purchase(session, status=PurchaseStatus.COMPLETED)
        now = utcnow()

        # On SQLite the bot runs its units of work one at a time (bot/middlewares.py), as here;
        # PostgreSQL runs them at once, and the conditional UPDATE alone decides.
        in_turn = asyncio.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()

        async def press() -> history.Claim:
            async with in_turn, session_scope(sessions) as session:
                return await history.claim_resend(session, purchase.user_id, purchase.id, now)

        claims = await asyncio.gather(press(), press())
    finally:
        await engine.dispose()

    assert sorted(c.stamp is not None for c in claims) == [False, True]
    refused = next(c for c in claims if c.stamp is None)
    assert refused.next_at == now + timedelta(hours=1) and refused.refusal is None


async def test_a_resend_whose_job_cannot_be_enqueued_is_given_back_and_the_buyer_may_press_again(
    mall: Mall,
) -> None:
    user, buyer = await mall.started()
    purchase = await mall.delivered(buyer, await mall.pack(1))
    async with session_scope(mall.world.sessions) as session:
        claim = await history.claim_resend(session, buyer.id, purchase.id, utcnow())
    assert claim.stamp is not None
    # Redis refusing the enqueue: a queue client pointed at a closed local port.
    dead = Queues(load_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", telegram_bot_token=None))
    press = CallbackQuery.model_validate(
        {"id": "1", "from": {"id": user, "is_bot": False, "first_name": "B"}, "chat_instance": "c"},
        context={"bot": mall.world.tg.bot},
    )
    try:
        await purchase_bot.send_again(QueueDeliveries(dead), mall.world.sessions, claim, press, "pt")
    finally:
        await dead.close()

    assert (await mall.row(purchase.id)).resent_at is None
    said = await mall.chat(user)
    assert text_of(said[-1]) == "Não foi possível reenviar agora. Tente de novo em alguns minutos."
    async with session_scope(mall.world.sessions) as session:
        again = await history.claim_resend(session, buyer.id, purchase.id, utcnow())
    assert again.stamp is not None  # not "wait an hour"


async def test_a_pack_refunded_while_it_is_sent_again_takes_back_what_the_resend_sent(
    mall: Mall, fresh_db_url: str
) -> None:
    if not fresh_db_url.startswith("postgresql"):
        pytest.skip("the refund holds the purchase's row with PostgreSQL's row lock")
    user, buyer = await mall.started()
    purchase = await mall.delivered(buyer, await mall.pack(2))
    before = len(await mall.chat(user))
    async with session_scope(mall.world.sessions) as session:
        claim = await history.claim_resend(session, buyer.id, purchase.id, utcnow())
    assert claim.stamp is not None

    async with mall.world.sessions() as refund, refund.begin():
        # A refund in progress holds the row: the resend reads the purchase as completed, sends its
        # first message, and its write waits for the refund to commit.
        await refund.execute(
            update(Purchase).where(Purchase.id == purchase.id).values(status=PurchaseStatus.REFUNDED)
        )
        assert await QueueDeliveries(mall.queues).resend(purchase.id, claim.stamp)
        again = (await mall.replies(user, before + 1))[before]
        assert text_of(again).startswith("🔁 Aqui está “Pack Verão” novamente.")

    async def taken_back() -> list[dict[str, Any]] | None:
        chat = await mall.chat(user)
        return chat if len(chat) == before else None

    await eventually(taken_back, within=30)
    job = await mall.queues.queue(QueueName.BOT_TASKS).getJob(history.resend_job_id(purchase.id, claim.stamp))
    assert job.returnvalue["deleted"] == 1 and "stopped" in job.returnvalue
    assert (await mall.row(purchase.id)).status is PurchaseStatus.REFUNDED
