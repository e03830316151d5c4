"""/mypurchases in the buyer's private chat (thin): their purchases, newest first in pages, and
"send again" for a completed pack. Rules in history.py, words in texts.py.

A resend is claimed in the update's unit of work and its `resend-purchase` job enqueued after the
commit, through the `Resender` the bot process put in the dispatcher's data (`payment_deliveries`,
purchase.enqueue.QueueDeliveries); without one (no Redis) nothing is claimed and the buyer is told
to try later.
"""

from __future__ import annotations

import logging
from functools import partial

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgadmin.buyer import service as buyers
from tgadmin.clock import utcnow
from tgadmin.db import AfterCommit, session_scope
from tgadmin.i18n import Language
from tgadmin.purchase import history, texts
from tgadmin.purchase.enqueue import DeliveryHook, Resender
from tgadmin.telegram.callbacks import MyPurchasesPage, Resend
from tgadmin.telegram.filters import inline
from tgadmin.telegram.replies import patiently

log = logging.getLogger(__name__)

router = Router(name="purchase")
router.message.filter(inline(F.chat.type == ChatType.PRIVATE))


async def _language(session: AsyncSession, user_id: int | None, code: str | None) -> Language:
    user = await buyers.buyer(session, user_id) if user_id is not None else None
    return buyers.language_of(user, code)


def _render(found: history.Page, lang: Language) -> tuple[str, InlineKeyboardMarkup | None]:
    if not found.rows:
        return texts.NO_PURCHASES[lang], None
    lines: list[str] = []
    rows: list[list[InlineKeyboardButton]] = []
    for index, (purchase, product) in enumerate(found.rows, start=found.page * history.PAGE_SIZE + 1):
        amount = texts.money(purchase.amount_cents, purchase.currency, lang)
        lines.append(
            texts.purchase_line(
                index,
                product.title,
                purchase.status,
                amount,
                purchase.created_at,
                purchase.access_expires_at,
                history.is_subscription(product),
                lang,
            )
        )
        if history.resendable(purchase, product):
            data = Resend(purchase_id=purchase.id).pack()
            rows.append(
                [InlineKeyboardButton(text=texts.resend_button(product.title, lang), callback_data=data)]
            )
    any_resend = bool(rows)
    paging = []
    if found.page > 0:
        data = MyPurchasesPage(page=found.page - 1).pack()
        paging.append(InlineKeyboardButton(text=texts.PREVIOUS[lang], callback_data=data))
    if found.page < found.pages - 1:
        data = MyPurchasesPage(page=found.page + 1).pack()
        paging.append(InlineKeyboardButton(text=texts.NEXT[lang], callback_data=data))
    if paging:
        rows.append(paging)
    text = texts.purchases(lines, found.page, found.pages, any_resend, lang)
    return text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


@router.message(Command("mypurchases"))
async def my_purchases(message: Message, session: AsyncSession, telegram_user_id: int | None = None) -> None:
    code = message.from_user.language_code if message.from_user else None
    lang = await _language(session, telegram_user_id, code)
    if telegram_user_id is None:
        await patiently(lambda: message.answer(texts.NO_PURCHASES[lang]))
        return
    text, markup = _render(await history.page_of(session, telegram_user_id, 0), lang)
    await patiently(lambda: message.answer(text, reply_markup=markup))


@router.callback_query(MyPurchasesPage.filter())
async def page(
    query: CallbackQuery,
    callback_data: MyPurchasesPage,
    bot: Bot,
    session: AsyncSession,
    telegram_user_id: int | None = None,
) -> None:
    lang = await _language(session, telegram_user_id, query.from_user.language_code)
    if telegram_user_id is None:
        await _answer(query, texts.REFUSED[lang][history.Refusal.BAD_BUTTON], alert=True)
        return
    text, markup = _render(await history.page_of(session, telegram_user_id, callback_data.page), lang)
    await _answer(query)
    if isinstance(query.message, Message):
        shown = query.message
        try:
            await patiently(lambda: shown.edit_text(text, reply_markup=markup))
            return
        except TelegramBadRequest:
            pass  # too old to edit, or unchanged: a fresh list reads as well
    await patiently(lambda: bot.send_message(query.from_user.id, text, reply_markup=markup))


@router.callback_query(Resend.filter())
async def resend(
    query: CallbackQuery,
    callback_data: Resend,
    session: AsyncSession,
    after_commit: AfterCommit,
    telegram_user_id: int | None = None,
    payment_deliveries: DeliveryHook | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> None:
    lang = await _language(session, telegram_user_id, query.from_user.language_code)
    if telegram_user_id is None:
        await _answer(query, texts.REFUSED[lang][history.Refusal.BAD_BUTTON], alert=True)
        return
    if not isinstance(payment_deliveries, Resender):
        await _answer(query, texts.REFUSED[lang][history.Refusal.UNAVAILABLE], alert=True)
        return
    claim = await history.claim_resend(session, telegram_user_id, callback_data.purchase_id, utcnow())
    if claim.refusal is not None:
        await _answer(query, texts.REFUSED[lang][claim.refusal], alert=True)
        return
    if claim.stamp is None:
        assert claim.next_at is not None
        await _answer(query, texts.too_soon(claim.next_at, lang), alert=True)
        return
    after_commit.add(partial(send_again, payment_deliveries, sessions, claim, query, lang))
    await _answer(query, texts.RESENDING[lang].format(title=claim.title))


async def send_again(
    resender: Resender,
    sessions: async_sessionmaker[AsyncSession] | None,
    claim: history.Claim,
    query: CallbackQuery,
    lang: Language,
) -> None:
    """After the claim's commit: enqueue the resend; if Redis refused, give the claim back (else the
    buyer would wait an hour for a resend that never comes) and say so."""
    assert claim.stamp is not None
    if await resender.resend(claim.purchase_id, claim.stamp):
        return
    if sessions is not None:
        async with session_scope(sessions) as session:
            await history.release_resend(session, claim)
    bot, sorry = query.bot, texts.REFUSED[lang][history.Refusal.UNAVAILABLE]
    if bot is not None:
        await patiently(lambda: bot.send_message(query.from_user.id, sorry))


@router.callback_query(inline(F.data.regexp(r"^(rs|myp):")))
async def bad_button(
    query: CallbackQuery, session: AsyncSession, telegram_user_id: int | None = None
) -> None:
    """A /mypurchases button whose data does not parse (tampered, or from an older bot)."""
    lang = await _language(session, telegram_user_id, query.from_user.language_code)
    await _answer(query, texts.REFUSED[lang][history.Refusal.BAD_BUTTON], alert=True)


async def _answer(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    try:
        await query.answer(text=text, show_alert=alert)
    except (TelegramAPIError, OSError, TimeoutError) as error:
        log.info("callback %s not answered: %r", query.id, error)
