"""Payments in the bot (thin): checkout from a pressed product (`Buy` → `PayWith` → a PIX charge or a
Stars invoice, "I have paid" → `CheckPaid`), Stars pre-checkout answers, `successful_payment`,
`/paysupport`. The rules are in `checkout.py`; the texts in `texts.py`.

The bot process puts its `PaymentRuntime` (the PIX provider of the same settings as the dashboard)
in the dispatcher's data under `payments`. Messages to the buyer are sent after the update's commit,
so a charge the buyer sees always exists.

The bot process wires delivery by putting a `DeliveryHook` in the dispatcher's data under
`payment_deliveries` (e.g. `QueueDeliveries(queues)`); it runs after the update's commit. Without
one, a paid purchase waits for the poll job, which enqueues undelivered purchases again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgadmin.buyer import service as buyer_service
from tgadmin.db import AfterCommit, session_scope
from tgadmin.errors import TgadminError
from tgadmin.i18n import Language
from tgadmin.models import Product, Purchase
from tgadmin.models.enums import Currency, PaymentMethod, PurchaseStatus
from tgadmin.payment import charges, checkout, stars, texts
from tgadmin.payment.webhooks import PaymentRuntime
from tgadmin.pix.providers.base import PixProvider
from tgadmin.purchase.enqueue import DeliveryHook
from tgadmin.telegram.callbacks import Buy, CheckPaid, PayWith
from tgadmin.telegram.filters import inline

log = logging.getLogger(__name__)

router = Router(name="payment")
# Telegram's 1 message a second per chat: a checkout's second message waits this long at most.
MAX_RETRY_AFTER = 5


@router.pre_checkout_query()
async def pre_checkout(
    query: PreCheckoutQuery, session: AsyncSession, telegram_user_id: int | None = None
) -> None:
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
    lang = await checkout.language_of(session, telegram_user_id, query.from_user.language_code)
    await query.answer(ok=False, error_message=stars.refusal_text(refusal, lang))


@router.message(inline(F.successful_payment))
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
async def paysupport(message: Message, session: AsyncSession, telegram_user_id: int | None = None) -> None:
    """Telegram requires bots that take Stars to answer /paysupport."""
    code = message.from_user.language_code if message.from_user else None
    await message.answer(stars.support_text(await checkout.language_of(session, telegram_user_id, code)))


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


# --- checkout -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Press:
    """A checkout button pressed: what its handler needs besides Telegram's objects."""

    session: AsyncSession
    after_commit: AfterCommit
    bot: Bot
    chat_id: int
    buyer_id: int
    lang: Language
    payments: PaymentRuntime | None
    deliveries: DeliveryHook | None
    # The process's session factory, for what is learnt after the commit (a buyer who blocked us).
    sessions: async_sessionmaker[AsyncSession] | None = None

    def pix(self) -> PixProvider | None:
        """The configured PSP; None (logged) when its settings are incomplete."""
        if self.payments is None:
            return None
        try:
            return self.payments.provider(self.payments.settings.pix_provider.value)
        except TgadminError as error:
            log.error("PIX is not available to the bot: %s", error.message)
            return None

    def deliver(self, purchase_ids: tuple[int, ...]) -> None:
        if purchase_ids and self.deliveries is not None:
            self.after_commit.add(partial(self.deliveries, purchase_ids))

    def later(self, send: Callable[[], Awaitable[Any]]) -> None:
        self.after_commit.add(partial(self.send, send))

    async def send(self, send: Callable[[], Awaitable[Any]]) -> bool:
        """One message to the buyer, after the commit: a short flood wait is waited out; a buyer who
        blocked the bot mid-checkout is recorded as such (their purchase stays pending, unpaid)."""
        for attempt in range(2):
            try:
                await send()
                return True
            except TelegramRetryAfter as error:
                if attempt or error.retry_after > MAX_RETRY_AFTER:
                    log.warning(
                        "checkout message to %s dropped: flood wait %ss", self.chat_id, error.retry_after
                    )
                    return False
                await asyncio.sleep(error.retry_after)
            except TelegramForbiddenError:
                await self._blocked()
                return False
            except (TelegramAPIError, OSError, TimeoutError) as error:
                log.warning("checkout message to %s failed: %r", self.chat_id, error)
                return False
        return False

    async def _blocked(self) -> None:
        log.info("buyer %s blocked the bot mid-checkout; the purchase stays pending", self.chat_id)
        if self.sessions is not None:
            async with session_scope(self.sessions) as session:
                await buyer_service.mark_blocked(session, self.chat_id)


async def _answer(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    try:
        await query.answer(text=text, show_alert=alert)
    except (TelegramAPIError, OSError, TimeoutError) as error:
        log.info("callback %s not answered: %r", query.id, error)


async def _context(query: CallbackQuery, data: dict[str, Any]) -> Press | None:
    """None when the press is not a buyer's in their private chat with the bot."""
    buyer_id: int | None = data.get("telegram_user_id")
    session: AsyncSession = data["session"]
    # The middleware's copy of the buyer carries their chosen language: no read of their row.
    lang = buyer_service.known_language(data.get("buyer"), query.from_user.language_code)
    if buyer_id is None:
        await _answer(query, texts.BAD_BUTTON[lang], alert=True)
        return None
    return Press(
        session=session,
        after_commit=data["after_commit"],
        bot=data["bot"],
        chat_id=query.from_user.id,
        buyer_id=buyer_id,
        lang=lang,
        payments=data.get("payments"),
        deliveries=data.get("payment_deliveries"),
        sessions=data.get("sessions"),
    )


def _buy_button(product: Product, source: str | None, lang: Language) -> InlineKeyboardMarkup:
    data = Buy(product_id=product.id, price_cents=product.price_cents, source=source or "")
    label = texts.buy_again(product.price_cents, product.currency, lang)
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data.pack())]]
    )


def _fresh_button(ctx: Press, text: str, product: Product, source: str | None) -> None:
    markup = _buy_button(product, source, ctx.lang)
    ctx.later(partial(ctx.bot.send_message, ctx.chat_id, text, reply_markup=markup))


@router.callback_query(Buy.filter())
async def buy(query: CallbackQuery, callback_data: Buy, **data: Any) -> None:
    ctx = await _context(query, data)
    if ctx is None:
        return
    result = await checkout.start(
        ctx.session,
        ctx.pix(),
        buyer_id=ctx.buyer_id,
        bot_id=data.get("bot_db_id"),
        product_id=callback_data.product_id,
        price_cents=callback_data.price_cents,
        source=callback_data.source or None,
    )
    if isinstance(result, checkout.StaleButton):
        if result.product is None:
            await _answer(query, texts.off_sale(ctx.lang), alert=True)
            return
        product = result.product
        text = texts.price_changed(product.title, product.price_cents, product.currency, ctx.lang)
        await _answer(query, text, alert=True)
        _fresh_button(ctx, text, product, callback_data.source)
        return
    if result.purchase.status != PurchaseStatus.PENDING:
        ctx.deliver(result.deliver)
        await _answer(query, texts.check(texts.Check.ALREADY_PAID, ctx.lang), alert=True)
        return
    await _offer(query, ctx, result.purchase, result.product, result.methods)


async def _offer(
    query: CallbackQuery,
    ctx: Press,
    purchase: Purchase,
    product: Product,
    methods: tuple[PaymentMethod, ...],
) -> None:
    """One method offered: straight to it; two: the buyer chooses."""
    if not methods:
        await _answer(query, texts.no_method(product.title, ctx.lang), alert=True)
        return
    if len(methods) == 1:
        await _pay(query, ctx, purchase, product, methods[0])
        return
    await _answer(query)
    rows = []
    for method in methods:
        pay = PayWith(purchase_id=purchase.id, method=method.value).pack()
        amount, currency = _amount(product, method)
        label = texts.method_label(method.value, amount, currency, ctx.lang)
        rows.append([InlineKeyboardButton(text=label, callback_data=pay)])
    markup = InlineKeyboardMarkup(inline_keyboard=rows)
    ctx.later(
        partial(ctx.bot.send_message, ctx.chat_id, texts.choose(product.title, ctx.lang), reply_markup=markup)
    )


def _amount(product: Product, method: PaymentMethod) -> tuple[int, Currency]:
    if method == PaymentMethod.STARS:
        return product.stars_price or 0, Currency.XTR
    return product.price_cents, product.currency


@router.callback_query(PayWith.filter())
async def pay_with(query: CallbackQuery, callback_data: PayWith, **data: Any) -> None:
    ctx = await _context(query, data)
    if ctx is None:
        return
    if callback_data.method not in {m.value for m in PaymentMethod}:
        await _answer(query, texts.BAD_BUTTON[ctx.lang], alert=True)
        return
    choice = await checkout.choose(ctx.session, ctx.buyer_id, callback_data.purchase_id, callback_data.method)
    if (
        choice.refusal in ("closed", "repriced")
        and choice.purchase is not None
        and choice.product is not None
    ):
        product = choice.product
        text = (
            texts.CLOSED[ctx.lang]
            if choice.refusal == "closed"
            else texts.price_changed(product.title, product.price_cents, product.currency, ctx.lang)
        )
        await _answer(query, text, alert=True)
        _fresh_button(ctx, text, product, choice.purchase.source)
        return
    if choice.refusal is not None or choice.purchase is None or choice.product is None:
        refusal = {
            "not_pending": texts.NOT_PENDING[ctx.lang],
            "off_sale": texts.off_sale(ctx.lang),
        }.get(choice.refusal or "", texts.BAD_BUTTON[ctx.lang])
        await _answer(query, refusal, alert=True)
        return
    await _pay(query, ctx, choice.purchase, choice.product, PaymentMethod(callback_data.method))


async def _pay(
    query: CallbackQuery, ctx: Press, purchase: Purchase, product: Product, method: PaymentMethod
) -> None:
    if method == PaymentMethod.STARS:
        try:
            invoice = await stars.create_stars_invoice(ctx.session, purchase.id)
        except TgadminError as error:
            log.warning("no Stars invoice for purchase %s: %s", purchase.id, error.message)
            await _answer(query, texts.STARS_UNAVAILABLE[ctx.lang], alert=True)
            return
        await _answer(query)
        ctx.later(partial(send_stars_invoice, ctx.bot, ctx.chat_id, invoice))
        return
    provider = ctx.pix()
    if provider is None or ctx.payments is None:
        await _answer(query, texts.PIX_UNAVAILABLE[ctx.lang], alert=True)
        return
    minutes = ctx.payments.settings.pix_expires_minutes
    try:
        tx = await charges.create_pix_charge(ctx.session, provider, purchase.id, expires_minutes=minutes)
    except TgadminError as error:
        log.warning("no PIX charge for purchase %s: %s", purchase.id, error.message)
        await _answer(query, texts.PIX_UNAVAILABLE[ctx.lang], alert=True)
        return
    await _answer(query)
    assert tx.pix_copy_paste is not None and tx.pix_expires_at is not None
    offer = PixOffer(tx.id, charges.qr_image_bytes(tx), tx.pix_copy_paste, tx.amount_cents, tx.pix_expires_at)
    ctx.after_commit.add(partial(_send_pix, ctx, offer, product.title))


@dataclass(frozen=True)
class PixOffer:
    transaction_id: int
    qr_png: bytes
    code: str
    amount_cents: int
    expires_at: datetime


async def _send_pix(ctx: Press, offer: PixOffer, title: str) -> None:
    """The QR photo (amount, expiry, "I have paid"), then the copy-paste code alone."""
    paid = CheckPaid(transaction_id=offer.transaction_id).pack()
    button = InlineKeyboardButton(text=texts.I_HAVE_PAID[ctx.lang], callback_data=paid)
    photo = partial(
        ctx.bot.send_photo,
        ctx.chat_id,
        BufferedInputFile(offer.qr_png, filename="pix.png"),
        caption=texts.pix_caption(title, offer.amount_cents, offer.expires_at, ctx.lang),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
    )
    if await ctx.send(photo):
        code = texts.copy_paste(offer.code)
        await ctx.send(partial(ctx.bot.send_message, ctx.chat_id, code, parse_mode="HTML"))


@router.callback_query(CheckPaid.filter())
async def check_paid(query: CallbackQuery, callback_data: CheckPaid, **data: Any) -> None:
    ctx = await _context(query, data)
    if ctx is None:
        return
    result = await checkout.check_paid(ctx.session, ctx.pix(), ctx.buyer_id, callback_data.transaction_id)
    ctx.deliver(result.deliver)
    text = texts.check(result.result, ctx.lang)
    await _answer(query, text, alert=True)
    if result.result == texts.Check.EXPIRED and result.product is not None:
        _fresh_button(ctx, text, result.product, result.source)


@router.callback_query(inline(F.data.regexp(r"^(buy|pay|paid):")))
async def bad_checkout_button(query: CallbackQuery, **data: Any) -> None:
    """A checkout button whose data does not parse (tampered, or from an older bot)."""
    lang = buyer_service.known_language(data.get("buyer"), query.from_user.language_code)
    await _answer(query, texts.BAD_BUTTON[lang], alert=True)
