"""Update middlewares: errors become a short pt-BR reply, one DB session per update, buyers upserted.

Order (outermost first): aiogram's own context middlewares, then `InFlightMiddleware`,
`ChatOrderMiddleware`, `ErrorReplyMiddleware`, `SessionMiddleware`, `TelegramUserMiddleware`.
The error middleware sits outside the session so that a failed commit is also answered and logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Chat, TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgadmin.buyer.service import KnownBuyer, SeenUser, touch_user
from tgadmin.db import AfterCommit
from tgadmin.errors import TgadminError
from tgadmin.i18n import buyer_language
from tgadmin.logs import log_context, redact
from tgadmin.telegram.bots import id_by_telegram_id

log = logging.getLogger(__name__)

# Seconds within which `last_seen_at` is kept exact (see TelegramUserMiddleware).
SEEN_PRECISION = 60.0

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

SORRY = {
    "pt": "Desculpe, algo deu errado do nosso lado. Tente novamente em alguns instantes.",
    "en": "Sorry, something went wrong on our side. Please try again in a moment.",
}


def sorry_text(language_code: str | None, preferred: str | None = None) -> str:
    """In the buyer's language as `i18n.buyer_language` decides it (their /language choice, when the
    caller knows it, before Telegram's code)."""
    return SORRY[buyer_language(preferred, language_code)]


def is_payment_update(update: Update) -> bool:
    """Telegram's payment updates: they must be handled (and committed) before Telegram is told so,
    since Telegram never sends a confirmed update again and the Stars are already taken."""
    if update.pre_checkout_query is not None:
        return True
    return update.message is not None and update.message.successful_payment is not None


class ErrorReplyMiddleware(BaseMiddleware):
    """A failing handler never reaches the buyer as a stack trace: log it (secrets masked), apologise.

    A payment update is not apologised for: its error goes on to the transport, which leaves the
    update unconfirmed (webhook 5xx, polling offset held) so Telegram gives it again; an apology
    would only ask a buyer who has paid to pay again."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except Exception as error:
            update_id = event.update_id if isinstance(event, Update) else None
            if isinstance(error, TgadminError) and error.status_code < 500:
                log.warning("update %s refused: %s", update_id, redact(error.message))
            else:
                trace = "".join(traceback.format_exception(error))
                log.error("update %s failed: %s", update_id, redact(trace))
            if isinstance(event, Update) and is_payment_update(event):
                raise UpdateNotHandled(update_id) from error
            await _apologise(event, data)
            return None


class UpdateNotHandled(Exception):
    """A payment update failed (already logged): it must not be confirmed to Telegram."""

    def __init__(self, update_id: int | None) -> None:
        super().__init__(f"update {update_id} was not handled")
        self.update_id = update_id


async def _apologise(event: TelegramObject, data: dict[str, Any]) -> None:
    """Answer where the buyer is looking: the callback spinner, or their private chat; never in groups."""
    bot: Bot = data["bot"]
    user: User | None = data.get("event_from_user")
    chat: Chat | None = data.get("event_chat")
    known = data.get("buyer")
    # The language the buyer chose with /language, when this update got as far as knowing them.
    preferred = known.preferred_language if isinstance(known, KnownBuyer) else None
    text = sorry_text(user.language_code if user else None, preferred)
    try:
        if isinstance(event, Update) and event.callback_query is not None:
            await bot.answer_callback_query(event.callback_query.id, text=text, show_alert=True)
        elif chat is not None and chat.type == ChatType.PRIVATE:
            await bot.send_message(chat.id, text)
    except (TelegramAPIError, OSError, TimeoutError) as error:
        log.warning("could not send the apology: %s", redact(str(error)))


class InFlightMiddleware(BaseMiddleware):
    """Counts updates being handled, so shutdown can wait for them instead of cutting them off."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self.count += 1
        self._idle.clear()
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
            if self.count == 0:
                self._idle.set()

    async def drained(self, within: float) -> bool:
        try:
            async with asyncio.timeout(within):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


class ChatOrderMiddleware(BaseMiddleware):
    """Updates of one chat are handled one after another, in the order they arrived; other chats in
    parallel. Telegram delivers a webhook's updates over several connections at once, and a chat's
    updates depend on each other (a group's migration arrives as two messages, from both ids)."""

    def __init__(self) -> None:
        self._locks: dict[tuple[int, int], tuple[asyncio.Lock, int]] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        scope = _order_scope(event, data)
        if scope is None:
            return await handler(event, data)
        key = (data["bot"].id, scope)
        lock, waiting = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, waiting + 1)
        try:
            async with lock:
                return await handler(event, data)
        finally:
            lock, waiting = self._locks[key]
            if waiting == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, waiting - 1)


def _order_scope(event: TelegramObject, data: dict[str, Any]) -> int | None:
    """The chat an update belongs to; a migration's second message counts as its old group's."""
    if isinstance(event, Update) and event.message is not None and event.message.migrate_from_chat_id:
        return event.message.migrate_from_chat_id
    chat: Chat | None = data.get("event_chat")
    user: User | None = data.get("event_from_user")
    return chat.id if chat is not None else (user.id if user is not None else None)


class BotDirectory:
    """Telegram bot id (the token's prefix) → our Bot row id; everything Telegram-side is keyed by it."""

    def __init__(self) -> None:
        self._ids: dict[int, int] = {}

    def remember(self, telegram_id: int, db_id: int) -> None:
        self._ids[telegram_id] = db_id

    async def db_id(self, session: AsyncSession, telegram_id: int) -> int:
        known = self._ids.get(telegram_id)
        if known is None:
            found = await id_by_telegram_id(session, telegram_id)
            if found is None:
                raise TgadminError(f"bot {telegram_id} has no record: register it first")
            known = self._ids[telegram_id] = found
        return known


class LogContextMiddleware(BaseMiddleware):
    """Every line logged while an update is handled names its chat (the bot is added once known)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chat: Chat | None = data.get("event_chat")
        with log_context(chat_id=chat.id if chat is not None else None):
            return await handler(event, data)


class SessionMiddleware(BaseMiddleware):
    """One unit of work per update, owned here: committed when the handlers return, else rolled back.

    Handlers add to `data["after_commit"]` (`db.AfterCommit`) what must wait until their data is
    visible (enqueueing a job, caching); it runs only once the commit succeeded. What it runs opens
    its own unit of work from `data["sessions"]` if it must write (e.g. to undo a claim).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], bots: BotDirectory) -> None:
        self.sessions = sessions
        self.bots = bots
        bind = sessions.kw.get("bind")
        # SQLite has one writer, and a transaction that read before writing fails at once ("database
        # is locked") when another one wrote first; the embedded default runs its units of work in turn.
        self._one_at_a_time = asyncio.Lock() if bind is not None and bind.dialect.name == "sqlite" else None

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if self._one_at_a_time is None:
            return await self._unit_of_work(handler, event, data)
        async with self._one_at_a_time:
            return await self._unit_of_work(handler, event, data)

    async def _unit_of_work(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        # The session is cheap until used: it takes a connection on its first statement. Most updates
        # (a known buyer's message answered with a hint) never make one, so the commit and the close,
        # two greenlet round trips each, are only paid by a session that began a transaction or holds
        # objects to flush; what waits for the commit still runs, in order, after it.
        after_commit = AfterCommit()
        session = self.sessions()
        data["session"] = session
        data["after_commit"] = after_commit
        data["sessions"] = self.sessions  # for what runs after the commit and must write again
        try:
            data["bot_db_id"] = await self.bots.db_id(session, data["bot"].id)
            with log_context(bot_id=data["bot_db_id"]):
                result = await handler(event, data)
            if _used(session):
                await session.commit()
        finally:
            if _used(session) or session.sync_session.identity_map:
                await session.close()  # rolls back what a failed handler left open
        await after_commit.run()
        return result


def _used(session: AsyncSession) -> bool:
    """The session began a transaction or has objects waiting for a flush."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


class TelegramUserMiddleware(BaseMiddleware):
    """Every private update refreshes its sender: names, language, last seen, blocked-the-bot flag.

    A buyer tapping through the catalogue sends several updates a minute, and a write per update
    would make the busiest path the database's. So the process remembers, per buyer, what it last
    committed (`Written`, a bounded LRU) and skips the write while nothing but the time changed and
    that write is less than `SEEN_PRECISION` seconds old: `last_seen_at` is exact to that precision.
    A new name, username or language is written at once; so is every block or unblock (the
    membership update itself), since the worker may have flagged a block behind this cache's back.
    The cache learns a write only after its commit, so a rolled-back write is tried again.
    """

    def __init__(self, max_remembered: int = 100_000) -> None:
        self._written: OrderedDict[int, Written] = OrderedDict()
        self._max = max_remembered

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        seen = seen_user(event, data)
        if seen is not None:
            buyer = await self._touch(event, seen, data)
            data["telegram_user_id"] = buyer.id
            data["buyer"] = buyer
        return await handler(event, data)

    async def _touch(self, event: TelegramObject, seen: SeenUser, data: dict[str, Any]) -> KnownBuyer:
        """The update's own copy of the buyer: what a handler changes in it (`/language`) reaches
        the cache only once the unit of work committed."""
        now = time.monotonic()
        written = self._written.get(seen.telegram_id)
        if written is not None and written.covers(seen, now) and not _is_membership(event):
            self._written.move_to_end(seen.telegram_id)
            buyer = replace(written.buyer)
            data["after_commit"].add(lambda: self._learn(seen.telegram_id, written, buyer))
            return buyer
        buyer = await touch_user(data["session"], seen)
        data["after_commit"].add(lambda: self._remember(written, seen, buyer, now))
        return buyer

    def _learn(self, telegram_id: int, written: Written, buyer: KnownBuyer) -> None:
        if buyer != written.buyer and self._written.get(telegram_id) is written:
            self._written[telegram_id] = replace(written, buyer=replace(buyer))

    def _remember(self, before: Written | None, seen: SeenUser, buyer: KnownBuyer, at: float) -> None:
        # An update that said nothing about blocking wrote nothing about it: keep what we knew.
        blocked = seen.blocked_bot
        if blocked is None and before is not None:
            blocked = before.seen.blocked_bot
        self._written[seen.telegram_id] = Written(replace(seen, blocked_bot=blocked), replace(buyer), at)
        self._written.move_to_end(seen.telegram_id)
        while len(self._written) > self._max:
            self._written.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Written:
    """What the last committed `touch_user` of a buyer wrote, and when (monotonic seconds); `buyer`
    is the row's id and language as that commit left them (never handed out: updates get copies)."""

    seen: SeenUser
    buyer: KnownBuyer
    at: float

    def covers(self, seen: SeenUser, now: float) -> bool:
        """True when writing `seen` now would change nothing but `last_seen_at`, within the precision."""
        if now - self.at >= SEEN_PRECISION:
            return False
        if seen.blocked_bot is None:  # the update says nothing about blocking: compare the profile only
            seen = replace(seen, blocked_bot=self.seen.blocked_bot)
        return seen == self.seen


def _is_membership(event: TelegramObject) -> bool:
    return isinstance(event, Update) and event.my_chat_member is not None


def seen_user(event: TelegramObject, data: dict[str, Any]) -> SeenUser | None:
    user: User | None = data.get("event_from_user")
    chat: Chat | None = data.get("event_chat")
    if user is None or user.is_bot or (chat is not None and chat.type != ChatType.PRIVATE):
        return None
    blocked: bool | None = None if chat is None else False
    if isinstance(event, Update) and event.my_chat_member is not None:
        # In a private chat, the bot's own membership is the user blocking or restarting it.
        blocked = event.my_chat_member.new_chat_member.status == ChatMemberStatus.KICKED
    return SeenUser(
        telegram_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
        blocked_bot=blocked,
    )
