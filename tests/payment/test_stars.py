"""Telegram Stars: the invoice, the pre-checkout answer, `successful_payment` recorded once and
delivered, refunds and /paysupport — end to end through the bot service (real uvicorn, webhooks
from the Telegram sandbox, the real aiogram client), plus the service rules one by one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from aiogram.types import Message, WebhookInfo
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.bot.conftest import BotWorld, Running, eventually, register_bot, start_service
from tests.factories import make_buyer, make_operator, make_product, make_purchase
from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox
from tgadmin.config import load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.errors import BadRequest, Conflict, Forbidden
from tgadmin.models import Bot as BotRecord
from tgadmin.models import PaymentEvent, Product, Purchase, TelegramUser, Transaction
from tgadmin.models.enums import OperatorRole, PurchaseStatus, TransactionStatus
from tgadmin.payment import bot as payment_bot
from tgadmin.payment import refunds, repository, stars
from tgadmin.payment.service import Result
from tgadmin.purchase.enqueue import QueueDeliveries
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName, QueueName
from tgadmin.redis import free_port
from tgadmin.telegram import stars as telegram_stars
from tgadmin.worker.runner import WorkerProcess

# --- the service, rule by rule (PostgreSQL and SQLite, rolled back) ----------------------------


async def invoice_for(session: AsyncSession, **kw: object) -> tuple[stars.StarsInvoice, Purchase, int]:
    buyer = await make_buyer(session)
    purchase = await make_purchase(session, stars_price=150, buyer=buyer, **kw)  # type: ignore[arg-type]
    return await stars.create_stars_invoice(session, purchase.id), purchase, buyer.telegram_id


async def test_invoice_is_in_stars_for_the_purchase_and_reused(session: AsyncSession) -> None:
    invoice, purchase, _ = await invoice_for(session)
    assert (invoice.amount, invoice.purchase_id) == (150, purchase.id)
    assert invoice.payload == f"purchase:{purchase.id}:tx:{invoice.transaction_id}"
    assert len(invoice.title) <= 32 and 0 < len(invoice.description) <= 255
    tx = await session.get(Transaction, invoice.transaction_id)
    assert tx is not None and (tx.currency.value, tx.method.value, tx.status) == (
        "XTR",
        "stars",
        TransactionStatus.PENDING,
    )
    assert (await stars.create_stars_invoice(session, purchase.id)).transaction_id == tx.id


async def test_invoice_is_refused_without_a_stars_price_or_when_off_sale(session: AsyncSession) -> None:
    no_stars = await make_purchase(session)
    with pytest.raises(BadRequest, match="no Stars price"):
        await stars.create_stars_invoice(session, no_stars.id)
    product = await make_product(session, stars_price=99, is_active=False)
    off = await make_purchase(session, product=product)
    with pytest.raises(Conflict, match="no longer on sale"):
        await stars.create_stars_invoice(session, off.id)


async def test_pre_checkout_accepts_only_what_is_still_true(session: AsyncSession) -> None:
    invoice, purchase, buyer = await invoice_for(session)

    async def verdict(
        payload: str = invoice.payload, total: int = 150, who: int = buyer, currency: str = "XTR"
    ):
        return await stars.check_pre_checkout(
            session, payload=payload, currency=currency, total_amount=total, buyer_telegram_id=who
        )

    assert await verdict() is None
    assert await verdict(total=149) == stars.Refusal.PRICE_CHANGED
    assert await verdict(currency="USD") == stars.Refusal.PRICE_CHANGED
    assert await verdict(who=buyer + 1) == stars.Refusal.WRONG_BUYER
    assert await verdict(payload="purchase:1:tx:x") == stars.Refusal.UNKNOWN_ORDER
    assert (
        await verdict(payload=f"purchase:{purchase.id + 1}:tx:{invoice.transaction_id}")
        == stars.Refusal.UNKNOWN_ORDER
    )
    product = await session.get(Product, purchase.product_id)
    assert product is not None
    product.stars_price = 200
    await session.flush()
    assert await verdict() == stars.Refusal.PRICE_CHANGED
    product.stars_price, product.is_active = 150, False
    await session.flush()
    assert await verdict() == stars.Refusal.OFF_SALE
    product.is_active = True
    purchase.status = PurchaseStatus.FAILED
    await session.flush()
    assert await verdict() == stars.Refusal.NOT_PENDING
    assert "mudou" in stars.refusal_text(stars.Refusal.PRICE_CHANGED, "pt-br")
    assert "changed" in stars.refusal_text(stars.Refusal.PRICE_CHANGED, "en-US")


async def test_successful_payment_is_recorded_once_by_its_charge_id(session: AsyncSession) -> None:
    invoice, purchase, _ = await invoice_for(session)
    paid = {"payload": invoice.payload, "currency": "XTR", "total_amount": 150, "charge_id": "stxONE"}
    first = await stars.record_stars_payment(session, **paid)  # type: ignore[arg-type]
    assert (first.result, first.deliver) == (Result.CONFIRMED, (purchase.id,))
    again = await stars.record_stars_payment(session, **paid)  # type: ignore[arg-type]
    assert (again.result, again.deliver) == (Result.DUPLICATE, ())
    tx = await session.get(Transaction, invoice.transaction_id, populate_existing=True)
    assert (
        tx is not None and tx.status == TransactionStatus.PAID and tx.telegram_payment_charge_id == "stxONE"
    )
    events = (
        await session.scalars(select(PaymentEvent).where(PaymentEvent.provider == "telegram-stars"))
    ).all()
    assert [(e.external_id, e.result) for e in events] == [("stxONE", "confirmed")]
    await session.refresh(purchase)
    assert purchase.status == PurchaseStatus.PAID


async def test_a_stars_payment_of_another_amount_is_kept_and_flagged(session: AsyncSession) -> None:
    invoice, _, _ = await invoice_for(session)
    odd = await stars.record_stars_payment(
        session, payload=invoice.payload, currency="XTR", total_amount=1, charge_id="stxODD"
    )
    assert (odd.result, odd.deliver) == (Result.AMOUNT_MISMATCH, ())
    tx = await session.get(Transaction, invoice.transaction_id, populate_existing=True)
    assert tx is not None and tx.needs_refund and tx.paid_amount_cents == 1
    unknown = await stars.record_stars_payment(
        session, payload="hello", currency="XTR", total_amount=5, charge_id="stxWHO"
    )
    assert unknown.result == Result.UNKNOWN_CHARGE  # kept in the inbox for a refund by hand


# --- end to end: the bot service on the sandbox ------------------------------------------------


@dataclass
class StarsShop:
    world: BotWorld
    running: Running
    queues: Queues


@pytest.fixture
async def stars_shop(
    sandbox: Sandbox, fresh_db_url: str, redis_prefix: str, redis: Redis
) -> AsyncIterator[StarsShop]:
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


async def test_stars_paid_in_telegram_are_recorded_once_delivered_and_refundable(
    stars_shop: StarsShop,
) -> None:
    world = stars_shop.world
    buyer = await started_buyer(world, "Ana", "pt-br")
    buyer_tg = buyer.telegram_id
    async with session_scope(world.sessions) as session:
        purchase = await make_purchase(session, stars_price=150, buyer=await session.merge(buyer))
        invoice = await stars.create_stars_invoice(session, purchase.id)
    message = await payment_bot.send_stars_invoice(world.tg.bot, buyer_tg, invoice)
    assert message.invoice is not None and (message.invoice.currency, message.invoice.total_amount) == (
        "XTR",
        150,
    )

    result = await world.sandbox.pay(buyer_tg, message.message_id)
    assert result["status"] == "paid"
    charge_id = result["telegram_payment_charge_id"]
    tx = await eventually(lambda: world.row(Transaction, Transaction.telegram_payment_charge_id == charge_id))
    assert tx.status == TransactionStatus.PAID and tx.paid_amount_cents == 150
    assert (await world.row(Purchase, Purchase.id == purchase.id)).status == PurchaseStatus.PAID  # type: ignore[union-attr]
    assert await eventually(lambda: deliveries(stars_shop.queues)) == [{"purchaseId": purchase.id}]

    # Telegram redelivering the same update changes nothing.
    async with session_scope(world.sessions) as session:
        again = await stars.record_stars_payment(
            session, payload=invoice.payload, currency="XTR", total_amount=150, charge_id=charge_id
        )
    assert again.result == Result.DUPLICATE

    async with session_scope(world.sessions) as session:
        viewer, admin = await make_operator(session, OperatorRole.VIEWER), await make_operator(session)
    refunder = partial(telegram_stars.refund_through, world.tg.bot)
    async with session_scope(world.sessions) as session:
        with pytest.raises(Forbidden):
            await refunds.refund_stars(session, tx.id, viewer, refunder)
    async with session_scope(world.sessions) as session:
        assert (await refunds.refund_stars(session, tx.id, admin, refunder)).result == Result.REFUNDED
    refunded = await world.row(Transaction, Transaction.id == tx.id)
    assert refunded is not None and refunded.status == TransactionStatus.REFUNDED
    assert (await world.row(Purchase, Purchase.id == purchase.id)).status == PurchaseStatus.REFUNDED  # type: ignore[union-attr]
    # Telegram already gave the Stars back: a retry is answered CHARGE_ALREADY_REFUNDED, which counts as done.
    assert await refunder(buyer_tg, charge_id) is True
    with pytest.raises(BadRequest, match="CHARGE_NOT_FOUND"):
        await refunder(buyer_tg, "stxNOPE")


async def test_stars_paid_in_telegram_are_delivered_by_the_worker_through_the_bot_that_took_them(
    stars_shop: StarsShop,
) -> None:
    world = stars_shop.world
    buyer = await started_buyer(world, "Ana", "pt-br")
    async with session_scope(world.sessions) as session:
        purchase = await make_purchase(session, stars_price=150, buyer=await session.merge(buyer))
        invoice = await stars.create_stars_invoice(session, purchase.id)
    assert purchase.bot_id is None
    message = await payment_bot.send_stars_invoice(world.tg.bot, buyer.telegram_id, invoice)
    worker = WorkerProcess(world.settings, concurrency=2, schedules=False)
    await worker.start()
    try:
        assert (await world.sandbox.pay(buyer.telegram_id, message.message_id))["status"] == "paid"

        async def delivered() -> Purchase | None:
            found = await world.row(Purchase, Purchase.id == purchase.id)
            return found if found is not None and found.status == PurchaseStatus.COMPLETED else None

        done = await eventually(delivered, within=30)
    finally:
        await worker.stop(grace=5)
    assert done.bot_id == world.record_id and done.delivered_at is not None
    shown = [m["text"] for m in await world.sandbox.messages(buyer.telegram_id) if m["text"]]
    assert shown[-1] == "✅ Pagamento confirmado! Aqui está “Pack Verão”."


async def test_a_changed_price_declines_the_payment_with_a_clear_message(stars_shop: StarsShop) -> None:
    world = stars_shop.world
    buyer = await started_buyer(world, "Bob", "en")
    buyer_tg = buyer.telegram_id
    async with session_scope(world.sessions) as session:
        purchase = await make_purchase(session, stars_price=150, buyer=await session.merge(buyer))
        invoice = await stars.create_stars_invoice(session, purchase.id)
    message = await payment_bot.send_stars_invoice(world.tg.bot, buyer_tg, invoice)
    async with session_scope(world.sessions) as session:
        product = await session.get(Product, purchase.product_id)
        assert product is not None
        product.stars_price = 300
    result = await world.sandbox.pay(buyer_tg, message.message_id)
    assert result == {
        "status": "declined",
        "error_message": stars.refusal_text(stars.Refusal.PRICE_CHANGED, "en"),
    }
    await asyncio.sleep(0.3)
    tx = await world.row(Transaction, Transaction.id == invoice.transaction_id)
    assert tx is not None and tx.status == TransactionStatus.PENDING and tx.paid_at is None
    assert await deliveries(stars_shop.queues) == []


async def test_paysupport_answers_with_support_instructions(stars_shop: StarsShop) -> None:
    world = stars_shop.world
    buyer_tg = await world.sandbox.create_user("Ana", language_code="pt-br")
    await world.sandbox.user_says(buyer_tg, "/paysupport")

    async def answer() -> str | None:
        texts = [m.get("text") for m in await world.sandbox.messages(buyer_tg) if m["sender"]["is_bot"]]
        return next((t for t in texts if t), None)

    assert await eventually(answer) == stars.support_text("pt-br")


# --- a Stars payment is never lost ---------------------------------------------------------------


def fail_insert_once(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The fault: the real `payment.repository.insert_event` (the inbox row every Stars payment
    starts with) raises once, as a database that went away mid-update would; later calls go
    through. Returns the charge ids of the calls that failed."""
    real = repository.insert_event
    failed: list[str] = []

    async def flaky(session: AsyncSession, provider: str, external_id: str, payload: Any) -> int | None:
        if not failed:
            failed.append(external_id)
            raise OperationalError("INSERT INTO payment_events", {}, ConnectionError("database is down"))
        return await real(session, provider, external_id, payload)

    monkeypatch.setattr(repository, "insert_event", flaky)
    return failed


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


async def test_a_payment_whose_recording_fails_is_answered_500_and_recorded_when_telegram_retries(
    stars_shop: StarsShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = stars_shop.world
    buyer, purchase, message = await invoice_sent(world)
    failed = fail_insert_once(monkeypatch)

    result = await world.sandbox.pay(buyer.telegram_id, message.message_id)
    charge_id = result["telegram_payment_charge_id"]

    tx = await paid_transaction(world, charge_id)
    assert failed == [charge_id]

    async def settled() -> WebhookInfo | None:
        # The commit comes before the webhook's answer: wait for Telegram to take the 200.
        info = await world.tg.bot.get_webhook_info()
        return info if info.pending_update_count == 0 else None

    # The first delivery was refused with a 5xx (so Telegram kept the update), the retry recorded it.
    info = await eventually(settled)
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert tx.paid_amount_cents == 150 and tx.purchase_id == purchase.id
    assert await eventually(lambda: deliveries(stars_shop.queues)) == [{"purchaseId": purchase.id}]
    events = await world.rows(PaymentEvent, PaymentEvent.external_id == charge_id)
    assert [e.result for e in events] == ["confirmed"]
    # The buyer, who has paid, is not asked to "try again".
    texts = [m["text"] for m in await world.sandbox.messages(buyer.telegram_id) if m["text"]]
    assert not any(text.startswith("Desculpe") for text in texts)


async def run_system_job(stars_shop: StarsShop, job: JobName, data: dict[str, Any]) -> Any:
    """Enqueue one job and let a real worker (system queue only, no schedules) run it."""
    worker = WorkerProcess(stars_shop.world.settings, queues=(QueueName.SYSTEM,), schedules=False)
    await worker.start()
    try:
        queue = stars_shop.queues.queue(job.queue)
        job_id = await stars_shop.queues.enqueue(job, data)

        async def finished() -> str | None:
            state = str(await queue.getJobState(job_id))
            return state if state in ("completed", "failed") else None

        state = await eventually(finished, within=30)
        found = await queue.getJob(job_id)
        assert state == "completed", found.failedReason
        return found.returnvalue
    finally:
        await worker.stop(grace=5)


async def test_reconciliation_records_a_stars_payment_whose_update_was_lost_and_only_that(
    stars_shop: StarsShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault: the real `payment.repository.insert_event` raises once (monkeypatched) and, at
    that moment, Telegram drops the update (deleteWebhook with drop_pending_updates), so the
    `successful_payment` is never seen again: only reconciliation can find the payment."""
    world, running = stars_shop.world, stars_shop.running
    real = repository.insert_event
    failed: list[str] = []

    async def lost(session: AsyncSession, provider: str, external_id: str, payload: Any) -> int | None:
        if not failed:
            failed.append(external_id)
            await world.tg.bot.delete_webhook(drop_pending_updates=True)
            raise OperationalError("INSERT INTO payment_events", {}, ConnectionError("database is down"))
        return await real(session, provider, external_id, payload)

    monkeypatch.setattr(repository, "insert_event", lost)
    buyer, lost_purchase, message = await invoice_sent(world)
    lost_charge = (await world.sandbox.pay(buyer.telegram_id, message.message_id))[
        "telegram_payment_charge_id"
    ]

    async def fault_hit() -> list[str]:
        return failed

    await eventually(fault_hit)
    assert await world.row(Transaction, Transaction.telegram_payment_charge_id == lost_charge) is None

    # The webhook again; another buyer pays normally, and is refunded.
    await running.service.set_webhooks()
    other, kept_purchase, other_message = await invoice_sent(world, "Bob")
    kept_charge = (await world.sandbox.pay(other.telegram_id, other_message.message_id))[
        "telegram_payment_charge_id"
    ]
    kept = await paid_transaction(world, kept_charge)
    # Its delivery is enqueued after the commit: wait for it, then clear the queue.
    assert await eventually(lambda: deliveries(stars_shop.queues)) == [{"purchaseId": kept_purchase.id}]
    async with session_scope(world.sessions) as session:
        admin = await make_operator(session)
    async with session_scope(world.sessions) as session:
        refunder = partial(telegram_stars.refund_through, world.tg.bot)
        assert (await refunds.refund_stars(session, kept.id, admin, refunder)).result == Result.REFUNDED
    await stars_shop.queues.queue(QueueName.BOT_TASKS).obliterate({"force": True})

    # Telegram lists: the lost payment, the kept one, its refund (same id, buyer as receiver).
    tally = await run_system_job(stars_shop, JobName.STARS_RECONCILE, {"pageSize": 1})
    assert tally == {"confirmed": 1, "duplicate": 1, "not_a_payment": 1}
    recovered = await world.row(Transaction, Transaction.telegram_payment_charge_id == lost_charge)
    assert recovered is not None and recovered.status == TransactionStatus.PAID
    assert recovered.purchase_id == lost_purchase.id and recovered.paid_amount_cents == 150
    purchase = await world.row(Purchase, Purchase.id == lost_purchase.id)
    assert (
        purchase is not None and purchase.status == PurchaseStatus.PAID and purchase.bot_id == world.record_id
    )
    assert await deliveries(stars_shop.queues) == [{"purchaseId": lost_purchase.id}]
    # The refunded payment stays refunded: the refund was not taken for a payment.
    refunded = await world.row(Transaction, Transaction.id == kept.id)
    assert refunded is not None and refunded.status == TransactionStatus.REFUNDED
    assert (await world.row(Purchase, Purchase.id == kept_purchase.id)).status == PurchaseStatus.REFUNDED  # type: ignore[union-attr]
    events = await world.rows(PaymentEvent, PaymentEvent.provider == stars.PROVIDER)
    assert sorted(e.external_id for e in events) == sorted([lost_charge, kept_charge])
    bot = await world.row(BotRecord, BotRecord.id == world.record_id)
    assert bot is not None and bot.stars_reconciled == 3

    # The next run starts where this one stopped: one read, past the end, nothing changed.
    since = (await world.sandbox.calls())[-1]["seq"]
    assert await run_system_job(stars_shop, JobName.STARS_RECONCILE, {"pageSize": 1}) == {}
    reads = await world.sandbox.calls(since=since, method="getStarTransactions")
    assert [call["result"] for call in reads] == [{"transactions": []}]
    assert await deliveries(stars_shop.queues) == [{"purchaseId": lost_purchase.id}]


async def test_a_pre_checkout_whose_check_fails_is_answered_500_and_accepted_when_telegram_retries(
    stars_shop: StarsShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault: the real `payment.repository.buyer` (read by the pre-checkout check) raises once
    (monkeypatched); the query is left unanswered, so Telegram's retry is what accepts it."""
    world = stars_shop.world
    buyer, purchase, message = await invoice_sent(world)
    real = repository.buyer
    failed: list[int] = []

    async def flaky(session: AsyncSession, user_id: int) -> TelegramUser | None:
        if not failed:
            failed.append(user_id)
            raise OperationalError("SELECT telegram_users", {}, ConnectionError("database is down"))
        return await real(session, user_id)

    monkeypatch.setattr(repository, "buyer", flaky)
    result = await world.sandbox.pay(buyer.telegram_id, message.message_id)
    assert result["status"] == "paid" and failed == [buyer.id]
    info = await world.tg.bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    tx = await paid_transaction(world, result["telegram_payment_charge_id"])
    assert tx.purchase_id == purchase.id
