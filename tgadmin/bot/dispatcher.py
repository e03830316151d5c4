"""The one aiogram Dispatcher of the bot process: middlewares and the domains' routers."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.base import BaseStorage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgadmin.bot.middlewares import (
    BotDirectory,
    ChatOrderMiddleware,
    ErrorReplyMiddleware,
    InFlightMiddleware,
    LogContextMiddleware,
    SessionMiddleware,
    TelegramUserMiddleware,
)
from tgadmin.bot.routers import domain_routers

# What we ask Telegram to send (setWebhook / getUpdates). chat_member needs it spelled out:
# Telegram leaves it out unless asked.
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "chat_member", "pre_checkout_query"]


@dataclass
class BotDispatcher:
    dispatcher: Dispatcher
    bots: BotDirectory
    in_flight: InFlightMiddleware


def build_dispatcher(
    sessions: async_sessionmaker[AsyncSession],
    *,
    routers: list[Router] | None = None,
    storage: BaseStorage | None = None,
) -> BotDispatcher:
    # No handler keeps FSM state: without storage the FSM middleware (a context look-up per update) is off.
    dispatcher = Dispatcher(storage=storage, disable_fsm=storage is None)
    bots = BotDirectory()
    in_flight = InFlightMiddleware()
    dispatcher.update.outer_middleware(in_flight)
    dispatcher.update.outer_middleware(LogContextMiddleware())
    dispatcher.update.outer_middleware(ChatOrderMiddleware())
    dispatcher.update.outer_middleware(ErrorReplyMiddleware())
    dispatcher.update.outer_middleware(SessionMiddleware(sessions, bots))
    dispatcher.update.outer_middleware(TelegramUserMiddleware())
    for router in domain_routers() if routers is None else routers:
        _detach(router)
        dispatcher.include_router(router)
    return BotDispatcher(dispatcher, bots, in_flight)


def _detach(router: Router) -> None:
    """Domain routers are module-level singletons and aiogram attaches a router to one parent only;
    a process builds one dispatcher, but tests and the benchmark build several, so move it over."""
    parent = router.parent_router
    if parent is not None:
        parent.sub_routers.remove(router)
        router._parent_router = None
