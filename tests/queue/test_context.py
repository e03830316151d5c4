"""The worker's shared resources at shutdown: one failing to close does not leave the others open."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.pool import QueuePool

from tests.fixtures.redis import REDIS_URL
from tests.telegram.recorded_events import RecordedEvents
from tgadmin.config import load_settings
from tgadmin.queue.client import QueuesClosed
from tgadmin.queue.context import WorkerContext
from tgadmin.queue.names import QueueName


async def test_the_queues_redis_and_the_database_close_even_when_the_bot_clients_fail_to(
    redis: Redis, redis_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}",
        redis_url=REDIS_URL,
        redis_prefix=redis_prefix,
    )
    ctx = WorkerContext.create(settings, RecordedEvents())
    await ctx.queues.queue(QueueName.SYSTEM).getJobCounts("waiting")
    async with ctx.engine.connect():
        pass  # the pool now holds an open SQLite connection

    async def broken() -> None:
        raise ConnectionError("a bot session would not close")

    monkeypatch.setattr(ctx.clients, "close", broken)
    with pytest.raises(ConnectionError, match="would not close"):
        await ctx.close()
    with pytest.raises(QueuesClosed):
        ctx.queues.queue(QueueName.SYSTEM)
    pool = ctx.engine.pool
    assert isinstance(pool, QueuePool) and pool.checkedin() == 0  # disposed: its connection closed
    assert [c["name"] for c in await redis.client_list() if c["name"].startswith(redis_prefix)] == []
