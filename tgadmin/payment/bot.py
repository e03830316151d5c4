"""Telegram Stars in the bot (thin): pre-checkout answers, `successful_payment`, `/paysupport`.

The bot process wires delivery by putting a `DeliveryHook` in the dispatcher's data under
`payment_deliveries` (e.g. `QueueDeliveries(queues)`); it runs after the update's commit. Without
one, a paid purchase waits for the poll job, which enqueues undelivered purchases again.
"""

from __future__ import annotations

import logging
from functools import partial

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import LabeledPrice, Message, PreCheckoutQuery
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.db import AfterCommit
from tgadmin.payment import stars
from tgadmin.purchase.enqueue import DeliveryHook

log = logging.getLogger(__name__)

router = Router(name="payment")


@router.pre_checkout_query()
async def pre_checkout(query: PreCheckoutQuery, session: AsyncSession) -> None:
    """Telegram waits at most 10 seconds for this answer before it fails the payment."""
    refusal = await stars.check_pre_checkout(
        session,
        payload=query.invoice_payload,
        currency=query.currency,
        total_amount=query.total_amount,
        buyer_telegram_id=query.from_user.id,
    )
    if refusal is None:
        await query.answer(ok=True)
        return
    log.info("pre-checkout %s refused: %s", query.invoice_payload, refusal.value)
    await query.answer(ok=False, error_message=stars.refusal_text(refusal, query.from_user.language_code))


@router.message(F.successful_payment)
async def successful_payment(
    message: Message,
    session: AsyncSession,
    after_commit: AfterCommit,
    bot_db_id: int | None = None,
    payment_deliveries: DeliveryHook | None = None,
) -> None:
    paid = message.successful_payment
    assert paid is not None
    outcome = await stars.record_stars_payment(
        session,
        payload=paid.invoice_payload,
        currency=paid.currency,
        total_amount=paid.total_amount,
        charge_id=paid.telegram_payment_charge_id,
        bot_id=bot_db_id,
    )
    log.info("Stars payment %s: %s", paid.telegram_payment_charge_id, outcome.result.value)
    if outcome.deliver and payment_deliveries is not None:
        after_commit.add(partial(payment_deliveries, outcome.deliver))


@router.message(Command("paysupport"))
async def paysupport(message: Message) -> None:
    """Telegram requires bots that take Stars to answer /paysupport."""
    language = message.from_user.language_code if message.from_user else None
    await message.answer(stars.support_text(language))


async def send_stars_invoice(bot: Bot, chat_id: int, invoice: stars.StarsInvoice) -> Message:
    """The invoice message: XTR, one price, no provider token (Stars need none)."""
    return await bot.send_invoice(
        chat_id=chat_id,
        title=invoice.title,
        description=invoice.description,
        payload=invoice.payload,
        currency="XTR",
        prices=[LabeledPrice(label=invoice.title, amount=invoice.amount)],
        provider_token="",
        protect_content=True,
    )
