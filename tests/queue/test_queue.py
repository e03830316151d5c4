"""Our queue interface and the monitor the dashboard uses, on the real Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from tests.fixtures.redis import REDIS_URL
from tests.worker.harness import World
from tgadmin.config import load_settings
from tgadmin.errors import Conflict, NotFound
from tgadmin.queue.client import ENQUEUE_TIMEOUT_S, Queues
from tgadmin.queue.monitor import STATES, QueueMonitor
from tgadmin.queue.names import QUEUE_OF, JobName, QueueName
from tgadmin.redis import free_port


def test_every_job_type_has_its_queue() -> None:
    assert set(QUEUE_OF) == set(JobName)
    assert JobName.SEND_MESSAGE.queue is QueueName.BOT_TASKS
    assert JobName.SUBSCRIPTION_SWEEP.queue is QueueName.SUBSCRIPTIONS
    assert JobName.ANALYTICS_AGGREGATE.queue is QueueName.SYSTEM


async def test_enqueue_with_a_job_id_is_idempotent_and_keys_use_the_prefix(
    redis: Redis, redis_prefix: str
) -> None:
    queues = Queues(load_settings(redis_url=REDIS_URL, redis_prefix=redis_prefix))
    try:
        first = await queues.enqueue(JobName.SEND_MESSAGE, {"chatId": 1, "text": "a"}, job_id="send-1")
        second = await queues.enqueue(JobName.SEND_MESSAGE, {"chatId": 1, "text": "a"}, job_id="send-1")
        many = await queues.enqueue_many(JobName.SEND_MESSAGE, [{"chatId": i, "text": "b"} for i in range(5)])
        assert first == second == "send-1" and len(set(many)) == 5
        counts = (await QueueMonitor(queues).counts())[QueueName.BOT_TASKS]
        assert counts["waiting"] == 6 and set(counts) == set(STATES)
        keys = [k.decode() async for k in redis.scan_iter(match=f"{redis_prefix}:*:wait")]
        assert keys == [f"{redis_prefix}:bot-tasks:wait"]
        job = await queues.queue(QueueName.BOT_TASKS).getJob("send-1")
        assert job.opts["attempts"] == 3
        with pytest.raises(ValueError, match="':'"):
            await queues.enqueue(JobName.SEND_MESSAGE, {}, job_id="a:b")
    finally:
        await queues.close()


async def test_an_enqueue_while_redis_is_down_fails_in_seconds_instead_of_hanging() -> None:
    # BullMQ's connection retries a refused connection for minutes; the caller must hear at once.
    queues = Queues(load_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    started = asyncio.get_running_loop().time()
    try:
        with pytest.raises(TimeoutError):  # an OSError: every caller handles it as "Redis refused"
            await queues.enqueue(JobName.SEND_MESSAGE, {"chatId": 1, "text": "a"}, job_id="send-1")
    finally:
        await queues.close()
    assert asyncio.get_running_loop().time() - started < ENQUEUE_TIMEOUT_S + 2


async def test_monitor_lists_failed_jobs_and_retries_or_removes_them(world: World) -> None:
    monitor = QueueMonitor(world.queues)
    bad = await world.run(JobName.SEND_MESSAGE, {"chatId": -100_404, "text": "x"})
    also = await world.run(JobName.SEND_MESSAGE, {"chatId": -100_405, "text": "y"})
    assert bad.state == also.state == "failed"
    failed = await monitor.failed(QueueName.BOT_TASKS)
    assert {f.id for f in failed} == {bad.job.id, also.job.id}
    info = next(f for f in failed if f.id == bad.job.id)
    assert "chat not found" in (info.failed_reason or "") and info.attempts_made == 1
    assert info.data == {"chatId": -100_404, "text": "x"} and info.max_attempts == 3
    assert (await monitor.counts())[QueueName.BOT_TASKS]["failed"] == 2

    # The pages' shared monitor keeps its reads for a second, but not past a change made through it.
    shared = QueueMonitor(world.queues, shared=True)
    assert len(await shared.failed(QueueName.BOT_TASKS)) == 2
    await shared.remove(QueueName.BOT_TASKS, str(also.job.id))
    with pytest.raises(NotFound):
        await monitor.get(QueueName.BOT_TASKS, str(also.job.id))
    assert [f.id for f in await shared.failed(QueueName.BOT_TASKS)] == [bad.job.id]
    assert (await shared.counts())[QueueName.BOT_TASKS]["failed"] == 1

    group = await world.add_group()
    # The operator fixes the cause (here: the job's chat now exists) and retries.
    await bad.job.updateData({"chatId": group.telegram_id, "text": "x"})
    await monitor.retry(QueueName.BOT_TASKS, str(bad.job.id))
    done = await world.wait(JobName.SEND_MESSAGE, str(bad.job.id))
    assert done.state == "completed"
    with pytest.raises(Conflict, match="only failed"):
        await monitor.retry(QueueName.BOT_TASKS, str(bad.job.id))


async def test_retry_all_failed_requeues_every_failed_job(world: World) -> None:
    monitor = QueueMonitor(world.queues)
    for chat in (-100_501, -100_502):
        await world.run(JobName.SEND_MESSAGE, {"chatId": chat, "text": "x"})
    assert await monitor.retry_all_failed(QueueName.BOT_TASKS) == 2
    # Both ran again (and, their chats still missing, failed again).
    for _ in range(200):
        if len(await world.sandbox.calls(method="sendMessage")) == 4:
            break
        await asyncio.sleep(0.05)
    assert len(await world.sandbox.calls(method="sendMessage")) == 4
