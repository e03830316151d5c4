"""The bot process's own Bot API calls (a handler's replies) keep the same limits as the workers'.

A handler answers a buyer straight from the bot process, not through the gateway's jobs; without
this, fifty buyers browsing at once send past the bot's 30 msg/s and each chat's 1 msg/s, and
Telegram answers 429 (bench/updates.py storefront). As an aiogram request middleware on the bot
process's clients, every message a handler sends first takes its slot from the shared limiter (the
bot's and the chat's, in Redis, shared with every worker) and records it; a 429 stores the pause
the gateway would store, so the workers' sends into that chat wait too. Calls that send nothing
(answerCallbackQuery, getMe, ...) only honour a pause in force.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from tgadmin.telegram.errors import Reschedule
from tgadmin.telegram.gateway import chat_of, is_sending, pauses_whole_bot
from tgadmin.telegram.limiter import Limiter, Target

log = logging.getLogger(__name__)

# A buyer waits for the answer: a slot further than this is not waited for; the call goes out and
# Telegram's own answer (a 429 with its wait) decides, as `telegram.replies.patiently` handles it.
MAX_WAIT_SECONDS = 3.0


class PacedCalls(BaseRequestMiddleware):
    def __init__(self, limiter: Limiter, bot_id: int) -> None:
        self.limiter = limiter
        self.bot_id = bot_id  # the Bot row's id: the limiter's keys are the workers' keys

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        target = Target(self.bot_id, chat_of(method), counted=is_sending(method))
        try:
            await self._wait_turn(target)
        except Reschedule as later:
            log.info("bot %s: %s; calling %s now", self.bot_id, later, method.__api_method__)
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:
            seconds = float(error.retry_after)
            await self.limiter.pause(target, seconds, whole_bot=pauses_whole_bot(target, seconds))
            raise

    async def _wait_turn(self, target: Target) -> None:
        if target.counted:
            await self.limiter.acquire(target, max_wait=MAX_WAIT_SECONDS)
            await self.limiter.commit(target)
            return
        # Not a message (a callback's answer, an edit, a read): Telegram's message limits do not
        # count it, so it takes no slot of theirs; it still waits out a 429 pause in force.
        paused = await self.limiter.paused_for(target)
        if paused > MAX_WAIT_SECONDS:
            raise Reschedule(paused, "paused after a 429")
        if paused:
            await asyncio.sleep(paused)


def pace(client: Bot, limiter: Limiter, bot_id: int) -> None:
    """Put the pacing on an aiogram client's session (the bot process's clients)."""
    client.session.middleware(PacedCalls(limiter, bot_id))
