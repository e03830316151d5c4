"""The bot process's own replies keep Telegram's limits with the workers' sends: through the shared
limiter, three messages a handler sends into one private chat at once reach the sandbox (limits on)
a second apart and none is refused, where the same three unpaced earn a 429; and a 429 a reply does
earn stores the chat's pause that every worker honours."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram.exceptions import TelegramRetryAfter
from redis.asyncio import Redis

from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox
from tgadmin.config import load_settings
from tgadmin.telegram.limiter import Limiter, Target
from tgadmin.telegram.paced import pace

BOT_ROW_ID = 7  # the limiter's keys name the bot's row; any id of this test's own will do


async def test_a_handlers_burst_into_one_chat_is_spaced_and_never_refused(
    sandbox: Sandbox, redis: Redis, redis_prefix: str
) -> None:
    await sandbox.configure(enforce_limits=True)
    limiter = Limiter(redis, load_settings(redis_url=REDIS_URL, redis_prefix=redis_prefix))
    tg = await sandbox.create_bot("paced_bot")
    buyer = await sandbox.create_user("Bia")
    await sandbox.user_says(buyer, "/start", bot_id=tg.id)

    unpaced = sandbox.new_bot_client(tg.token)
    with pytest.raises(TelegramRetryAfter):
        await asyncio.gather(*(unpaced.send_message(buyer, f"sem ritmo {n}") for n in range(3)))
    await asyncio.sleep(1.2)  # the chat's second passes

    paced = sandbox.new_bot_client(tg.token)
    pace(paced, limiter, BOT_ROW_ID)
    started = time.monotonic()
    sent = await asyncio.gather(*(paced.send_message(buyer, f"com ritmo {n}") for n in range(3)))
    assert len({m.message_id for m in sent}) == 3
    assert time.monotonic() - started >= 1.9  # one a second: the 2nd and 3rd waited their turn


async def test_a_429_a_reply_earns_pauses_that_chat_for_the_workers_too(
    sandbox: Sandbox, redis: Redis, redis_prefix: str
) -> None:
    await sandbox.configure(enforce_limits=True)
    limiter = Limiter(redis, load_settings(redis_url=REDIS_URL, redis_prefix=redis_prefix))
    tg = await sandbox.create_bot("paced_bot")
    buyer = await sandbox.create_user("Caio")
    await sandbox.user_says(buyer, "/start", bot_id=tg.id)
    other = sandbox.new_bot_client(tg.token)  # a send the limiter never heard of
    await other.send_message(buyer, "antes")

    paced = sandbox.new_bot_client(tg.token)
    pace(paced, limiter, BOT_ROW_ID)
    with pytest.raises(TelegramRetryAfter):
        await paced.send_message(buyer, "logo depois")
    assert await limiter.paused_for(Target(BOT_ROW_ID, buyer)) > 0  # workers wait for this chat
    assert await limiter.paused_for(Target(BOT_ROW_ID, buyer + 1)) == 0  # not for the others
