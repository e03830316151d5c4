"""The worker's counters move with what its jobs met at Telegram (the sandbox): a send done, a
send refused for good, a 429 that paused the chat and rescheduled the job without an attempt."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from prometheus_client import REGISTRY

from tests.worker.harness import World
from tgadmin.queue import heartbeat
from tgadmin.queue.names import JobName, QueueName


@pytest.fixture
def world_overrides() -> dict[str, Any]:
    # Our limits looser than the sandbox's, so that Telegram (the sandbox) answers 429.
    return {"tg_group_per_minute": 600}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def snapshot() -> dict[str, float]:
    job = {"job": JobName.SEND_MESSAGE.value}
    return {
        "processed": value("tgadmin_jobs_processed_total", **job),
        "failed": value("tgadmin_jobs_failed_total", **job),
        "rescheduled": value("tgadmin_jobs_rescheduled_total", **job),
        "timed": value("tgadmin_job_seconds_count", **job),
        "ok": value("tgadmin_telegram_calls_total", method="sendMessage", outcome="ok"),
        "permanent": value("tgadmin_telegram_calls_total", method="sendMessage", outcome="permanent"),
        "retry_after": value("tgadmin_telegram_calls_total", method="sendMessage", outcome="retry_after"),
        "429": value("tgadmin_telegram_429_total", method="sendMessage"),
    }


async def test_jobs_and_telegram_calls_are_counted_by_outcome(world: World) -> None:
    await world.sandbox.configure(per_group_per_min=1)
    group = await world.add_group()
    lost = await world.sandbox.create_chat("supergroup", "Saiu")
    before, paused_before = snapshot(), value("tgadmin_telegram_pause_seconds_total")
    assert (
        await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "1"})
    ).state == "completed"
    assert (await world.run(JobName.SEND_MESSAGE, {"chatId": lost, "text": "x"})).state == "failed"
    job_id = await world.enqueue(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "2"})
    queue = world.queues.queue(QueueName.BOT_TASKS)
    for _ in range(200):
        if await queue.getJobState(job_id) == "delayed":
            break
        await asyncio.sleep(0.05)
    after = snapshot()
    assert {key: after[key] - before[key] for key in before} == {
        "processed": 1,
        "failed": 1,
        "rescheduled": 1,
        "timed": 3,
        "ok": 1,
        "permanent": 1,
        "retry_after": 1,
        "429": 1,
    }
    assert 0 < value("tgadmin_telegram_pause_seconds_total") - paused_before <= 60


async def test_a_worker_is_listed_alive_while_it_runs_and_leaves_the_list_when_stopped(world: World) -> None:
    prefix = world.settings.redis_prefix
    listed = {beat.worker_id: beat for beat in await heartbeat.alive(world.redis, prefix)}
    mine = listed[world.worker.worker_id]
    assert mine.pid == os.getpid() and mine.concurrency == 4 and "bot-tasks" in mine.queues
    assert 0 < await world.redis.ttl(f"{prefix}:workers:{world.worker.worker_id}") <= heartbeat.TTL_SECONDS
    await world.worker.stop(grace=5)
    assert world.worker.worker_id not in {
        beat.worker_id for beat in await heartbeat.alive(world.redis, prefix)
    }
