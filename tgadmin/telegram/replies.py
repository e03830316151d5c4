"""Replies a buyer is waiting for in their private chat, sent from a bot handler (not the gateway).

Telegram paces a chat at about one message a second: the second message of a reply (a creator's
page after its preview album) can be answered 429 with `retry_after`. Waiting that long once is
what Telegram asks, and the buyer sees the whole reply; a longer pause is not waited for."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram.exceptions import TelegramRetryAfter

T = TypeVar("T")

MAX_WAIT_SECONDS = 5


async def patiently(call: Callable[[], Awaitable[T]], max_wait: int = MAX_WAIT_SECONDS) -> T:
    try:
        return await call()
    except TelegramRetryAfter as error:
        if error.retry_after > max_wait:
            raise
        await asyncio.sleep(error.retry_after)
        return await call()
