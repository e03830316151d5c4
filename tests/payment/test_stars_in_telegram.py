"""Telegram Stars end to end through the bot service (real uvicorn, webhooks from the Telegram
sandbox, the real aiogram client): paid, recorded once, delivered, refunded; a changed price
declined; /paysupport answered."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from tests.bot.conftest import eventually
from tests.factories import make_operator, make_purchase
from tests.payment.stars_world import StarsShop, deliveries, started_buyer
from tgadmin.db import session_scope
from tgadmin.errors import BadRequest, Forbidden
from tgadmin.models import Product, Purchase, Transaction
from tgadmin.models.enums import OperatorRole, PurchaseStatus, TransactionStatus
from tgadmin.payment import bot as payment_bot
from tgadmin.payment import refunds, stars
from tgadmin.payment.service import Result
from tgadmin.telegram import stars as telegram_stars
from tgadmin.worker.runner import WorkerProcess


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

    assert await eventually(answer) == stars.support_text("pt")
