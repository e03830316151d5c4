"""The dashboard's process state at shutdown: stopped, it refuses the queues rather than open a
connection nobody would close."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.fixtures.redis import REDIS_URL
from tgadmin.config import load_settings
from tgadmin.queue.client import QueuesClosed
from tgadmin.queue.names import QueueName
from tgadmin.webkit.deps import AppState


@pytest.mark.parametrize("used_before", [True, False], ids=["opened", "never-opened"])
async def test_a_stopped_state_refuses_the_queues_and_leaves_no_connection_open(
    used_before: bool, redis: Redis, redis_prefix: str, tmp_path: Path
) -> None:
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'state.db'}",
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
    )
    state = AppState(settings)
    if used_before:
        await state.queues.queue(QueueName.SYSTEM).getJobCounts("waiting")
    await state.stop()
    with pytest.raises(QueuesClosed):
        state.queues.queue(QueueName.BOT_TASKS)
    opened = [c["name"] for c in await redis.client_list() if c["name"].startswith(redis_prefix)]
    assert opened == []
