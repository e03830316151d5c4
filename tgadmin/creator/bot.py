"""The catalog in the buyer's private chat (thin): `/start` with or without a deep link, pages of
creators, a creator's page, and the 18+ confirmation. Rules in service.py, words in texts.py.

Adult creators are listed to everyone, marked 🔞, and open only after the confirmation: hiding them
would leave a buyer who has not confirmed yet no way to find them (or to learn that confirming is
what is missing), while names alone show nothing adult — previews wait behind the confirmation.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.buyer import service as buyers
from tgadmin.buyer.service import KnownBuyer
from tgadmin.creator import media as previews
from tgadmin.creator import service, texts
from tgadmin.creator.service import Catalog, Showcase
from tgadmin.errors import TgadminError
from tgadmin.i18n import Language
from tgadmin.models import Creator, MediaAsset
from tgadmin.storage import Storage
from tgadmin.telegram import media
from tgadmin.telegram.callbacks import Buy, CatalogPage, ConfirmAge, OpenCreator
from tgadmin.telegram.filters import inline
from tgadmin.telegram.replies import patiently

log = logging.getLogger(__name__)

CAPTION_MAX = 1024  # a photo's caption; a longer page goes as its own message

router = Router(name="creator")
router.message.filter(inline(F.chat.type == ChatType.PRIVATE))


async def _preview_item(storage: Storage, asset: MediaAsset, file_id: str | None) -> media.InputMedia:
    """A preview as an album item: framed by the operator's crop when it has one (its file_id, once
    Telegram gave one, is of the cropped picture: a new crop forgets it)."""
    if file_id is not None or asset.crop is None:
        return await media.input_media(storage, asset, file_id)
    data = await previews.preview_bytes(storage, asset)
    return InputMediaPhoto(media=BufferedInputFile(data, filename=previews.delivered_name(asset)))


class Visit:
    """One buyer in one private chat: who they are, their language, and how to answer them.

    The buyer is the middleware's `KnownBuyer` (id and chosen language, kept per process): a page
    of the catalog reads no buyer row; only an adult creator's page reads it, for the 18+ answer.
    """

    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        session: AsyncSession,
        bot_db_id: int,
        buyer: KnownBuyer | None,
        code: str | None,
        storage: Storage | None,
    ) -> None:
        self.bot, self.chat_id, self.session, self.bot_db_id = bot, chat_id, session, bot_db_id
        self.buyer, self.storage = buyer, storage
        self.lang: Language = buyers.known_language(buyer, code)

    async def send(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        await patiently(lambda: self.bot.send_message(self.chat_id, text, reply_markup=markup))

    async def catalog(
        self, page: int = 0, *, edit: Message | None = None, preface: str | None = None
    ) -> None:
        """A page of the list; `preface` (why the buyer sees it) goes in the same message."""
        found = await service.catalog(self.session, page)
        lead = f"{preface}\n\n" if preface else ""
        if not found.creators:
            await self.send(lead + texts.EMPTY[self.lang])
            return
        text = lead + texts.catalog(
            self.lang, found.page, found.pages, any_adult=any(c.is_adult for c in found.creators)
        )
        markup = _catalog_keyboard(found, self.lang)
        if edit is not None:
            try:
                await patiently(lambda: edit.edit_text(text, reply_markup=markup))
                return
            except TelegramBadRequest:
                pass  # too old to edit, or unchanged: a fresh list reads as well
        await self.send(text, markup)

    async def open(self, creator: Creator, source: str | None) -> None:
        """The creator's page, or first the 18+ question when the creator asks for it."""
        if await self._asks_age(creator):
            button = InlineKeyboardButton(
                text=texts.AGE_BUTTON[self.lang],
                callback_data=ConfirmAge(creator_id=creator.id, source=source or "").pack(),
            )
            markup = InlineKeyboardMarkup(inline_keyboard=[[button], [_back(self.lang)]])
            await self.send(texts.age_prompt(self.lang, creator.name), markup)
            return
        shown = await service.showcase(self.session, creator, self.bot_db_id)
        text = texts.creator_page(
            self.lang, creator.name, creator.tier, creator.country, creator.bio, bool(shown.products)
        )
        markup = _products_keyboard(shown, self.lang, source)
        if not await self._previews(shown, text, markup):
            await self.send(text, markup)

    async def _asks_age(self, creator: Creator) -> bool:
        if not service.needs_age_confirmation(creator, None):
            return False  # the creator asks no one: the buyer's answer is not read
        user = await buyers.buyer(self.session, self.buyer.id) if self.buyer is not None else None
        return service.needs_age_confirmation(creator, user.age_confirmed_at if user is not None else None)

    async def _previews(self, shown: Showcase, text: str, markup: InlineKeyboardMarkup) -> bool:
        """An album of 2-10, or one photo carrying the page itself (True: the page is shown too).
        Files this bot sent before go by file_id, the rest are uploaded and their file_id kept. A
        preview that cannot be read or sent leaves the page as text alone."""
        if not shown.previews or self.storage is None:
            return False
        single = len(shown.previews) == 1 and len(text) <= CAPTION_MAX
        try:
            items = [await _preview_item(self.storage, a, f) for a, f in shown.previews]
            if len(items) == 1:
                sent = [await patiently(lambda: self._one(items[0], text, markup, single))]
            else:
                sent = await patiently(lambda: self.bot.send_media_group(self.chat_id, list(items)))
        except (TgadminError, TelegramBadRequest) as error:
            log.warning("previews of creator %s not shown: %s", shown.creator.id, error)
            return False
        await media.remember_sent(self.session, self.bot_db_id, shown.previews, sent)
        return single

    async def _one(
        self, item: media.InputMedia, text: str, markup: InlineKeyboardMarkup, with_page: bool
    ) -> Message:
        caption, buttons = (text, markup) if with_page else (None, None)
        if isinstance(item, InputMediaVideo):
            return await self.bot.send_video(self.chat_id, item.media, caption=caption, reply_markup=buttons)
        return await self.bot.send_photo(self.chat_id, item.media, caption=caption, reply_markup=buttons)


@router.message(CommandStart())
async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    bot_db_id: int,
    telegram_user_id: int | None = None,
    buyer: KnownBuyer | None = None,
    storage: Storage | None = None,
) -> None:
    code = message.from_user.language_code if message.from_user else None
    visit = Visit(bot, message.chat.id, session, bot_db_id, buyer, code, storage)
    payload = (command.args or "").strip()
    if not payload:
        await visit.catalog()
        return
    link = service.parse_payload(payload)
    creator = await service.active_creator(session, link.creator_id) if link is not None else None
    if link is None or creator is None:
        await visit.catalog(preface=texts.UNKNOWN_LINK[visit.lang])
        return
    if link.source is not None and telegram_user_id is not None:
        await buyers.note_source(session, telegram_user_id, link.source)
    await service.record_start(session, link, telegram_user_id)
    await visit.open(creator, link.source)


def _callback_visit(
    query: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    bot_db_id: int,
    buyer: KnownBuyer | None,
    storage: Storage | None,
) -> Visit:
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    return Visit(bot, chat_id, session, bot_db_id, buyer, query.from_user.language_code, storage)


@router.callback_query(CatalogPage.filter())
async def catalog_page(
    query: CallbackQuery,
    callback_data: CatalogPage,
    bot: Bot,
    session: AsyncSession,
    bot_db_id: int,
    buyer: KnownBuyer | None = None,
    storage: Storage | None = None,
) -> None:
    visit = _callback_visit(query, bot, session, bot_db_id, buyer, storage)
    await query.answer()
    editable = query.message if isinstance(query.message, Message) else None
    await visit.catalog(callback_data.page, edit=editable)


@router.callback_query(OpenCreator.filter())
async def open_creator(
    query: CallbackQuery,
    callback_data: OpenCreator,
    bot: Bot,
    session: AsyncSession,
    bot_db_id: int,
    buyer: KnownBuyer | None = None,
    storage: Storage | None = None,
) -> None:
    visit = _callback_visit(query, bot, session, bot_db_id, buyer, storage)
    creator = await service.active_creator(session, callback_data.creator_id)
    if creator is None:
        await _gone(query, visit)
        return
    await query.answer()
    await visit.open(creator, None)


@router.callback_query(ConfirmAge.filter())
async def confirm_age(
    query: CallbackQuery,
    callback_data: ConfirmAge,
    bot: Bot,
    session: AsyncSession,
    bot_db_id: int,
    telegram_user_id: int | None = None,
    buyer: KnownBuyer | None = None,
    storage: Storage | None = None,
) -> None:
    if telegram_user_id is not None:
        await buyers.confirm_age(session, telegram_user_id)
    visit = _callback_visit(query, bot, session, bot_db_id, buyer, storage)
    creator = await service.active_creator(session, callback_data.creator_id)
    if creator is None:
        await _gone(query, visit)
        return
    await query.answer(texts.AGE_THANKS[visit.lang])
    await visit.open(creator, service.clean_source(callback_data.source))


async def _gone(query: CallbackQuery, visit: Visit) -> None:
    """A stale button: say so where the buyer is looking, then the list as it is now."""
    await query.answer(texts.GONE[visit.lang], show_alert=True)
    await visit.catalog(preface=texts.GONE[visit.lang])


def _back(lang: Language) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=texts.BACK[lang], callback_data=CatalogPage(page=0).pack())


def _catalog_keyboard(found: Catalog, lang: Language) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=texts.creator_button(c.name, c.is_adult),
                callback_data=OpenCreator(creator_id=c.id).pack(),
            )
        ]
        for c in found.creators
    ]
    moves: list[InlineKeyboardButton] = []
    if found.has_previous:
        page = CatalogPage(page=found.page - 1).pack()
        moves.append(InlineKeyboardButton(text=texts.PREVIOUS[lang], callback_data=page))
    if found.has_next:
        page = CatalogPage(page=found.page + 1).pack()
        moves.append(InlineKeyboardButton(text=texts.NEXT[lang], callback_data=page))
    if moves:
        rows.append(moves)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _products_keyboard(shown: Showcase, lang: Language, source: str | None) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=texts.product_button(lang, p.title, p.price_cents, p.currency, p.stars_price),
                callback_data=Buy(product_id=p.id, price_cents=p.price_cents, source=source or "").pack(),
            )
        ]
        for p in shown.products
    ]
    rows.append([_back(lang)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
