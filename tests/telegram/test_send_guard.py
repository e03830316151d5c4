"""The send ledger's "pending" mark is written only right before the HTTP request: a call that never
got past the limiter leaves no mark, so the send is not wrongly held as "outcome unknown"."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.methods import SendMessage
from redis.asyncio import Redis

from tests.telegram.recorded_events import RecordedEvents
from tgadmin.config import load_settings
from tgadmin.telegram.gateway import Gateway
from tgadmin.telegram.ledger import SendLedger
from tgadmin.telegram.limiter import Limiter, Target


class NoClients:
    """The call never reaches a client in these tests; asking for one is a failure."""

    async def get(self, bot_id: int) -> Any:
        return None


async def test_a_call_cancelled_while_the_limiter_makes_it_wait_leaves_no_pending_mark(
    redis: Redis, redis_prefix: str
) -> None:
    settings = load_settings(redis_prefix=redis_prefix, tg_private_per_second=1)
    limiter = Limiter(redis, settings)
    gateway = Gateway(settings, redis, NoClients(), RecordedEvents(), limiter)  # type: ignore[arg-type]
    chat = 5_000_000_777
    # A call to this private chat was just made: the next one waits about a second in `commit`.
    await limiter.commit(Target(1, chat))
    ledger = SendLedger(redis, redis_prefix, "job-1")

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(
            gateway.call(None, SendMessage(chat_id=chat, text="oi"), bot_id=1, guard=ledger),  # type: ignore[arg-type]
            timeout=0.3,
        )

    assert await ledger.read() is None
