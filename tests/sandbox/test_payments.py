"""Telegram Stars: invoice, pre-checkout handshake, successful payment, refund — through aiogram."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice, TransactionPartnerUser, Update

from tests.fixtures.sandbox import Sandbox, SandboxBot
from tests.narrow import of_type, present

PRICE = [LabeledPrice(label="Pack Verão", amount=150)]


async def shop_with_buyer(sandbox: Sandbox) -> tuple[SandboxBot, int]:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot()
    buyer = await sandbox.create_user("Buyer")
    await sandbox.user_says(buyer, "/start")
    await shop.bot.get_updates(offset=-1)
    return shop, buyer


async def next_update(shop: SandboxBot, offset: int) -> Update:
    updates = await shop.bot.get_updates(offset=offset, timeout=5)
    assert updates, "no update arrived"
    return updates[0]


async def test_stars_invoice_is_paid_after_the_bot_accepts_the_pre_checkout(sandbox: Sandbox) -> None:
    shop, buyer = await shop_with_buyer(sandbox)
    start = (await shop.bot.get_updates())[-1].update_id + 1
    invoice = await shop.bot.send_invoice(buyer, "Pack Verão", "15 fotos", "purchase:42", "XTR", PRICE)
    assert present(invoice.invoice).total_amount == 150 and present(invoice.invoice).currency == "XTR"
    paying = asyncio.create_task(sandbox.pay(buyer, invoice.message_id))
    query = (await next_update(shop, start)).pre_checkout_query
    assert query is not None and query.invoice_payload == "purchase:42" and query.from_user.id == buyer
    assert await shop.bot.answer_pre_checkout_query(query.id, ok=True) is True
    result = await paying
    assert result["status"] == "paid"
    paid = await next_update(shop, start + 1)
    payment = present(present(paid.message).successful_payment)
    assert payment.total_amount == 150 and payment.invoice_payload == "purchase:42"
    assert payment.telegram_payment_charge_id == result["telegram_payment_charge_id"]
    with pytest.raises(TelegramBadRequest) as twice:
        await shop.bot.answer_pre_checkout_query(query.id, ok=True)
    assert (
        twice.value.message
        == "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )

    assert await shop.bot.refund_star_payment(buyer, payment.telegram_payment_charge_id) is True
    refunded = present(present((await next_update(shop, start + 2)).message).refunded_payment)
    assert refunded.telegram_payment_charge_id == payment.telegram_payment_charge_id
    with pytest.raises(TelegramBadRequest) as again:
        await shop.bot.refund_star_payment(buyer, payment.telegram_payment_charge_id)
    assert again.value.message == "Bad Request: CHARGE_ALREADY_REFUNDED"
    with pytest.raises(TelegramBadRequest) as unknown:
        await shop.bot.refund_star_payment(buyer, "stxNOPE")
    assert unknown.value.message == "Bad Request: CHARGE_NOT_FOUND"
    paid_again = await sandbox.control.post(
        f"/sandbox/users/{buyer}/pay", json={"message_id": invoice.message_id}
    )
    assert paid_again.json() == {"error": "this invoice is already paid"}


async def test_a_declined_pre_checkout_takes_no_money(sandbox: Sandbox) -> None:
    shop, buyer = await shop_with_buyer(sandbox)
    start = (await shop.bot.get_updates())[-1].update_id + 1
    invoice = await shop.bot.send_invoice(buyer, "Pack", "desc", "p:1", "XTR", PRICE)
    paying = asyncio.create_task(sandbox.pay(buyer, invoice.message_id))
    query = present((await next_update(shop, start)).pre_checkout_query)
    with pytest.raises(TelegramBadRequest) as no_reason:
        await shop.bot.answer_pre_checkout_query(query.id, ok=False)
    assert no_reason.value.message == 'Bad Request: parameter "error_message" is required'
    await shop.bot.answer_pre_checkout_query(query.id, ok=False, error_message="Esgotado")
    assert await paying == {"status": "declined", "error_message": "Esgotado"}
    assert await shop.bot.get_updates(offset=start + 1) == []


async def test_a_bot_that_never_answers_fails_the_payment(sandbox: Sandbox) -> None:
    shop, buyer = await shop_with_buyer(sandbox)
    invoice = await shop.bot.send_invoice(buyer, "Pack", "desc", "p:1", "XTR", PRICE)
    response = await sandbox.control.post(
        f"/sandbox/users/{buyer}/pay", json={"message_id": invoice.message_id, "timeout": 0.3}
    )
    assert response.status_code == 400 and "did not answer the pre-checkout query" in response.json()["error"]


async def test_invoice_links_are_payable_and_other_currencies_refused(sandbox: Sandbox) -> None:
    shop, buyer = await shop_with_buyer(sandbox)
    link = await shop.bot.create_invoice_link(
        "VIP", "30 dias", "sub:7", "XTR", [LabeledPrice(label="VIP", amount=500)]
    )
    assert link.startswith("https://t.me/$")
    start = (await shop.bot.get_updates())[-1].update_id + 1
    paying = asyncio.create_task(
        sandbox.control.post(f"/sandbox/users/{buyer}/pay", json={"invoice_link": link})
    )
    query = present((await next_update(shop, start)).pre_checkout_query)
    assert query.total_amount == 500
    await shop.bot.answer_pre_checkout_query(query.id, ok=True)
    response: httpx.Response = await paying
    assert response.json()["status"] == "paid"
    with pytest.raises(TelegramBadRequest) as brl:
        await shop.bot.send_invoice(buyer, "Pack", "desc", "p", "BRL", PRICE, provider_token="x")
    assert brl.value.message == "Bad Request: PAYMENT_PROVIDER_INVALID"
    with pytest.raises(TelegramBadRequest) as two_prices:
        await shop.bot.send_invoice(buyer, "Pack", "desc", "p", "XTR", PRICE * 2)
    assert two_prices.value.message == "Bad Request: STARS_INVOICE_INVALID"


async def pay_and_accept(sandbox: Sandbox, shop: SandboxBot, buyer: int, payload: str, amount: int) -> str:
    """The buyer pays an invoice and the bot accepts the pre-checkout; returns the charge id."""
    offset = (await shop.bot.get_updates(offset=-1))[-1].update_id + 1
    price = [LabeledPrice(label="Pack", amount=amount)]
    invoice = await shop.bot.send_invoice(buyer, "Pack", "desc", payload, "XTR", price)
    paying = asyncio.create_task(sandbox.pay(buyer, invoice.message_id))
    query = present((await next_update(shop, offset)).pre_checkout_query)
    await shop.bot.answer_pre_checkout_query(query.id, ok=True)
    return str((await paying)["telegram_payment_charge_id"])


async def test_star_transactions_list_payments_and_refunds_oldest_first_in_pages(sandbox: Sandbox) -> None:
    shop, buyer = await shop_with_buyer(sandbox)
    assert (await shop.bot.get_star_transactions()).transactions == []
    first = await pay_and_accept(sandbox, shop, buyer, "purchase:1:tx:1", 150)
    second = await pay_and_accept(sandbox, shop, buyer, "purchase:2:tx:2", 20)
    await shop.bot.refund_star_payment(buyer, first)

    listed = (await shop.bot.get_star_transactions()).transactions
    assert [(t.id, t.amount) for t in listed] == [(first, 150), (second, 20), (first, 150)]
    payment, refund = listed[0], listed[2]
    assert payment.receiver is None and payment.source is not None
    source = of_type(payment.source, TransactionPartnerUser)
    assert source.user.id == buyer
    assert source.transaction_type == "invoice_payment"
    assert source.invoice_payload == "purchase:1:tx:1"
    # A refund is outgoing: the buyer is its receiver, and its id is the payment's.
    assert refund.source is None and of_type(refund.receiver, TransactionPartnerUser).user.id == buyer
    assert refund.date >= payment.date

    page = await shop.bot.get_star_transactions(offset=1, limit=1)
    assert [t.id for t in page.transactions] == [second]
    assert (await shop.bot.get_star_transactions(offset=3)).transactions == []
    # Out-of-range values are clamped, as Telegram does.
    assert len((await shop.bot.get_star_transactions(offset=-5, limit=500)).transactions) == 3
