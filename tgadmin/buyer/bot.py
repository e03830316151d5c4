"""The buyer's own commands (thin): /language and /help; `fallback`, the router registered last,
which answers what no other domain took (stickers, photos, unknown commands, dead buttons); and
`plain_text`, registered first, which gives that same answer to the bulk of what a buyer writes
(plain text) without aiogram walking every domain router to reach the fallback."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.buyer import service, texts
from tgadmin.i18n import Language
from tgadmin.telegram.callbacks import SetLanguage
from tgadmin.telegram.filters import inline
from tgadmin.telegram.replies import patiently

router = Router(name="buyer")
router.message.filter(inline(F.chat.type == ChatType.PRIVATE))

LANGUAGES: tuple[Language, ...] = ("pt", "en")


def _code(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user else None


# The language comes from `buyer` (TelegramUserMiddleware: what the process last wrote or read of the
# row), not from a read per update: these handlers answer every stray message a buyer sends.


@router.message(Command("language"))
async def language(message: Message, buyer: service.KnownBuyer | None = None) -> None:
    lang = service.known_language(buyer, _code(message))
    buttons = [
        InlineKeyboardButton(text=texts.LANGUAGE_NAMES[code], callback_data=SetLanguage(code=code).pack())
        for code in LANGUAGES
    ]
    markup = InlineKeyboardMarkup(inline_keyboard=[buttons])
    await patiently(lambda: message.answer(texts.CHOOSE_LANGUAGE[lang], reply_markup=markup))


@router.callback_query(SetLanguage.filter())
async def set_language(
    query: CallbackQuery,
    callback_data: SetLanguage,
    bot: Bot,
    session: AsyncSession,
    buyer: service.KnownBuyer | None = None,
) -> None:
    chosen = next((code for code in LANGUAGES if code == callback_data.code), None)
    if chosen is None or buyer is None:
        lang = service.known_language(buyer, query.from_user.language_code)
        await query.answer(texts.STALE_BUTTON[lang], show_alert=True)
        return
    await service.choose_language(session, buyer, chosen)
    await query.answer()
    if isinstance(query.message, Message):
        try:
            edited = query.message
            await patiently(lambda: edited.edit_text(texts.LANGUAGE_SET[chosen]))
            return
        except TelegramBadRequest:
            pass  # too old to edit: say it in a new message
    await patiently(lambda: bot.send_message(query.from_user.id, texts.LANGUAGE_SET[chosen]))


@router.message(Command("help"))
async def help_(message: Message, buyer: service.KnownBuyer | None = None) -> None:
    lang = service.known_language(buyer, _code(message))
    await patiently(lambda: message.answer(texts.HELP[lang]))


fallback = Router(name="buyer-fallback")


@fallback.message(inline(F.chat.type == ChatType.PRIVATE))
async def hint(message: Message, buyer: service.KnownBuyer | None = None) -> SendMessage:
    """Stickers, photos, unknown commands, any text: point at /start instead of staying silent.

    Returned, not sent: the transport sends it after the commit, so a hint that cannot be delivered
    (the buyer blocked the bot, or writes faster than Telegram lets a chat be answered) is only
    logged and never takes the update's unit of work (the buyer's row) down with it."""
    lang = service.known_language(buyer, _code(message))
    return SendMessage(chat_id=message.chat.id, text=texts.HINT[lang])


# Plain private text is the most common update a storefront bot gets, and only the fallback answers
# it: every other domain's message handlers want a command (text starting with "/", aiogram's
# `Command` prefix), a service message (migration, successful payment) or a group chat. aiogram
# walks routers in order at ~25 µs each (bench/updates.py), so this router, registered first, takes
# exactly those messages and answers them as the fallback would. tests/bot/test_routers.py checks
# that no other domain handler accepts such a message.
plain_text = Router(name="buyer-plain-text")


async def is_plain_private_text(message: Message) -> bool:
    """Private-chat text that is no command and no service message: only the fallback answers it."""
    text = message.text
    return (
        message.chat.type == ChatType.PRIVATE
        and text is not None
        # aiogram's Command splits on whitespace first: " /start" is a command too.
        and not text.lstrip().startswith("/")
        and message.successful_payment is None
        and message.migrate_to_chat_id is None
        and message.migrate_from_chat_id is None
    )


plain_text.message(is_plain_private_text)(hint)


@fallback.callback_query()
async def dead_button(query: CallbackQuery, buyer: service.KnownBuyer | None = None) -> AnswerCallbackQuery:
    """A button whose data no domain understands (tampered, or from an old version of the bot)."""
    lang = service.known_language(buyer, query.from_user.language_code)
    return AnswerCallbackQuery(callback_query_id=query.id, text=texts.STALE_BUTTON[lang], show_alert=True)
