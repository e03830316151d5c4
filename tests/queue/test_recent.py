"""The queue monitor's shared reads (queue/recent.py): one read a second serves every page of the
process, callers arriving meanwhile wait for it, and what the process changes shows at once."""

from __future__ import annotations

import asyncio
import threading

import pytest
from redis.asyncio import Redis

from tests.fixtures.redis import REDIS_URL
from tgadmin.config import load_settings
from tgadmin.queue.client import Queues, QueuesClosed
from tgadmin.queue.monitor import QueueMonitor
from tgadmin.queue.names import JobName, QueueName
from tgadmin.queue.recent import RecentReads


async def test_callers_within_the_second_share_one_read_and_a_failed_read_is_not_kept() -> None:
    recent = RecentReads(seconds=0.2)
    reads = 0

    async def read() -> int:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.01)  # callers arrive while it runs
        return reads

    assert await asyncio.gather(*(recent.get("k", read) for _ in range(50))) == [1] * 50
    assert await recent.get("k", read) == 1 and reads == 1
    assert await recent.get("other", read) == 2  # another key is read on its own
    await asyncio.sleep(0.25)
    assert await recent.get("k", read) == 3
    recent.forget()
    assert await recent.get("k", read) == 4

    async def broken() -> int:
        raise ConnectionError("redis went away")

    recent.forget()
    with pytest.raises(ConnectionError):
        await recent.get("k", broken)
    assert await recent.get("k", read) == 5


async def test_a_caller_going_away_does_not_cancel_the_read_the_others_wait_for() -> None:
    recent = RecentReads()
    started = asyncio.Event()

    async def read() -> str:
        started.set()
        await asyncio.sleep(0.05)
        return "counts"

    first = asyncio.ensure_future(recent.get("k", read))
    await started.wait()
    second = asyncio.ensure_future(recent.get("k", read))
    first.cancel()
    assert await second == "counts"


async def test_the_shared_monitor_shows_this_process_changes_at_once_and_others_after_its_reads_age(
    redis: Redis, redis_prefix: str
) -> None:
    settings = load_settings(redis_url=REDIS_URL, redis_prefix=redis_prefix)
    ours, another_process = Queues(settings), Queues(settings)
    # A long window, so that a slow machine cannot age the read mid-test (expiry is tested above).
    ours.recent = RecentReads(seconds=60)
    try:
        shared, exact = QueueMonitor(ours, shared=True), QueueMonitor(ours)
        assert (await shared.counts())[QueueName.BOT_TASKS]["waiting"] == 0
        await ours.enqueue(JobName.SEND_MESSAGE, {"chatId": 1, "text": "a"})
        assert (await shared.counts())[QueueName.BOT_TASKS]["waiting"] == 1
        await another_process.enqueue(JobName.SEND_MESSAGE, {"chatId": 2, "text": "b"})
        assert (await exact.counts())[QueueName.BOT_TASKS]["waiting"] == 2
        assert (await shared.counts())[QueueName.BOT_TASKS]["waiting"] == 1  # the kept read
        ours.recent.forget()  # as the read's age would
        assert (await shared.counts())[QueueName.BOT_TASKS]["waiting"] == 2
    finally:
        await ours.close()
        await another_process.close()


def test_a_read_running_in_another_event_loop_is_not_awaited_in_this_one() -> None:
    recent = RecentReads(seconds=60)
    started, release = threading.Event(), threading.Event()

    async def slow() -> str:
        started.set()
        await asyncio.to_thread(release.wait, 10)
        return "other loop"

    async def fast() -> str:
        return "this loop"

    other = threading.Thread(target=lambda: asyncio.run(recent.get("k", slow)))
    other.start()
    try:
        assert started.wait(10)
        assert asyncio.run(recent.get("k", fast)) == "this loop"
    finally:
        release.set()
        other.join(10)


async def test_closing_the_queues_ends_a_shared_read_its_caller_left_and_opens_nothing_after(
    redis: Redis, redis_prefix: str
) -> None:
    queues = Queues(load_settings(redis_url=REDIS_URL, redis_prefix=redis_prefix))
    caller = asyncio.ensure_future(QueueMonitor(queues, shared=True).counts())
    for _ in range(50):  # until the read is under way (it reads the queues one after another)
        await asyncio.sleep(0.001)
        if await _connected(redis, redis_prefix):
            break
    caller.cancel()  # the page went away; its shielded read goes on
    await queues.close()
    await asyncio.sleep(0.3)  # time for a read left running to reach the other queues
    assert await _connected(redis, redis_prefix) == []
    with pytest.raises(QueuesClosed):  # an OSError: callers handle it as Redis being away
        await queues.enqueue(JobName.SEND_MESSAGE, {"chatId": 1, "text": "late"})


async def _connected(redis: Redis, prefix: str) -> list[str]:
    """The names of the Redis connections our queues hold open."""
    return [c["name"] for c in await redis.client_list() if c["name"].startswith(prefix)]
