"""The workers listed on the queue monitor: listed once they beat, gone at once when they stop, gone
within the TTL when they die, and found without walking the rest of Redis (jobs' keys included)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from tgadmin.queue import heartbeat


def worker(worker_id: str, pid: int) -> heartbeat.WorkerBeat:
    return heartbeat.WorkerBeat(worker_id, "host-a", pid, ["bot-tasks"], 4, "2026-12-01T05:00:00+00:00")


class Counting(Redis):
    """A client that counts the commands it sends (a pipeline counts as one round trip)."""

    sent = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        Counting.sent += 1
        return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]


async def test_a_worker_is_listed_once_it_beats_and_leaves_the_list_at_once_when_stopped(
    redis: Redis, redis_prefix: str
) -> None:
    await heartbeat.beat(redis, redis_prefix, worker("w2", 20))
    await heartbeat.beat(redis, redis_prefix, worker("w1", 10))
    listed = await heartbeat.alive(redis, redis_prefix)
    assert [(beat.worker_id, beat.pid, beat.queues) for beat in listed] == [
        ("w1", 10, ["bot-tasks"]),
        ("w2", 20, ["bot-tasks"]),
    ]
    await heartbeat.stopped(redis, redis_prefix, "w1")
    assert [beat.worker_id for beat in await heartbeat.alive(redis, redis_prefix)] == ["w2"]


async def test_a_worker_that_stops_beating_drops_off_the_list_within_the_ttl(
    redis: Redis, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heartbeat, "TTL_SECONDS", 1)
    await heartbeat.beat(redis, redis_prefix, worker("dies", 1))
    await heartbeat.beat(redis, redis_prefix, worker("lives", 2))
    await asyncio.sleep(0.6)
    await heartbeat.beat(redis, redis_prefix, worker("lives", 2))
    await asyncio.sleep(0.6)
    assert [beat.worker_id for beat in await heartbeat.alive(redis, redis_prefix)] == ["lives"]


async def test_a_beat_forgets_the_workers_not_seen_for_an_hour(redis: Redis, redis_prefix: str) -> None:
    index = f"{redis_prefix}:workers"
    await redis.zadd(index, {"crashed-long-ago": time.time() - heartbeat.STALE_SECONDS - 60})
    await redis.zadd(index, {"crashed-just-now": time.time() - heartbeat.TTL_SECONDS})
    await heartbeat.beat(redis, redis_prefix, worker("w1", 1))
    assert sorted(await redis.zrange(index, 0, -1)) == [b"crashed-just-now", b"w1"]
    assert [beat.worker_id for beat in await heartbeat.alive(redis, redis_prefix)] == ["w1"]


async def test_the_list_is_read_in_two_round_trips_however_many_other_keys_redis_holds(
    redis: Redis, redis_url: str, redis_prefix: str
) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for n in range(20_000):  # a busy queue's jobs, under the same prefix
            pipe.set(f"{redis_prefix}:bot-tasks:{n}", "{}")
        await pipe.execute()
    await heartbeat.beat(redis, redis_prefix, worker("w1", 1))
    counting = Counting.from_url(redis_url)
    try:
        before = Counting.sent
        assert [beat.worker_id for beat in await heartbeat.alive(counting, redis_prefix)] == ["w1"]
        assert Counting.sent - before == 2
    finally:
        await counting.aclose()
