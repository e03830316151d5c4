"""The job wrapper: validation, retries with backoff, 429s rescheduled without spending an attempt,
pauses shared by every worker, repeatable jobs registered once, and the real `tgadmin worker`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from tests.fixtures.redis import REDIS_URL
from tests.worker.harness import World, world_settings
from tgadmin.queue.client import Queues, backoff_delay
from tgadmin.queue.names import JobName, QueueName
from tgadmin.telegram.limiter import Limiter, Target
from tgadmin.worker.runner import WorkerProcess, infrastructure_down, register_repeatable

ROOT = Path(__file__).resolve().parents[2]


async def test_wrong_or_missing_fields_fail_once_with_a_clear_error(world: World) -> None:
    out = await world.run(JobName.SEND_MESSAGE, {"chatId": "-100", "text": 5})
    assert out.state == "failed" and out.attempts_made == 1
    assert "invalid send-message job data" in (out.reason or "")
    assert "chatId" in (out.reason or "") and "text" in (out.reason or "")
    missing = await world.run(JobName.DELETE_MESSAGES_BULK, {"chatId": -1})
    assert "messageIds" in (missing.reason or "") and missing.attempts_made == 1
    unknown = await world.queues.queue(QueueName.BOT_TASKS).add("no-such-job", {}, {"attempts": 3})
    failed = await world.wait(JobName.SEND_MESSAGE, str(unknown.id))
    assert "unknown job type" in (failed.reason or "") and failed.attempts_made == 1


async def test_audit_log_job_writes_the_row(world: World) -> None:
    from sqlalchemy import select

    from tgadmin.models import AuditLog

    out = await world.run(
        JobName.AUDIT_LOG,
        {"action": "group.cooldown", "entityType": "group", "entityId": "7", "after": {"s": 30}},
    )
    assert out.state == "completed"
    async with world.sessions() as session:
        row = (
            await session.execute(select(AuditLog).where(AuditLog.action == "group.cooldown"))
        ).scalar_one()
    assert row.after == {"s": 30} and row.entity_id == "7"


def test_backoff_is_exponential_and_capped_at_30_seconds() -> None:
    assert [backoff_delay(n) for n in (1, 2, 3, 6, 20)] == [1000, 2000, 4000, 30000, 30000]


@pytest.fixture
def world_overrides() -> dict[str, Any]:
    # Our limits looser than the sandbox's, so that Telegram (the sandbox) answers 429.
    return {"tg_group_per_minute": 600}


async def test_a_429_pauses_the_chat_for_every_worker_and_reschedules_without_an_attempt(
    world: World,
) -> None:
    await world.sandbox.configure(per_group_per_min=2)
    group = await world.add_group()
    other = await world.add_group("Outro")
    for text in ("1", "2"):
        assert (
            await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": text})
        ).state == "completed"
    job_id = await world.enqueue(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "3"})
    queue = world.queues.queue(QueueName.BOT_TASKS)
    for _ in range(100):
        if await queue.getJobState(job_id) == "delayed":
            break
        await asyncio.sleep(0.05)
    job = await queue.getJob(job_id)
    assert job is not None and await queue.getJobState(job_id) == "delayed"
    assert int(job.attemptsMade) == 0
    # The pause is in Redis for everyone: another process's limiter sees it.
    limiter = Limiter(world.redis, world.settings)
    assert 50 < await limiter.paused_for(Target(world.bot_id, group.telegram_id)) <= 60
    # Other groups of the bot keep going.
    assert (
        await world.run(JobName.SEND_MESSAGE, {"chatId": other.telegram_id, "text": "x"})
    ).state == "completed"
    # Time passes (sandbox clock; our pause lifted), the job runs with its attempts intact.
    await world.sandbox.advance(61)
    await world.redis.delete(*limiter.pause_keys(Target(world.bot_id, group.telegram_id)))
    await job.promote()
    done = await world.wait(JobName.SEND_MESSAGE, job_id)
    assert done.state == "completed" and done.attempts_made == 1
    assert len(await world.sandbox.calls(method="sendMessage")) == 5  # 2 + refused one + retry + other


async def test_network_failures_are_retried_with_backoff_then_fail(
    fresh_db_url: str, redis_prefix: str, redis: object
) -> None:
    from tgadmin.db import create_engine, session_factory, session_scope
    from tgadmin.models import Bot
    from tgadmin.redis import free_port

    settings = world_settings(fresh_db_url, redis_prefix, f"http://127.0.0.1:{free_port()}")
    engine = create_engine(fresh_db_url)
    async with session_scope(session_factory(engine)) as session:
        session.add(Bot(telegram_id=1, username="x_bot", token="1:" + "A" * 35, webhook_secret="s"))
    await engine.dispose()
    worker = WorkerProcess(settings, concurrency=2)
    await worker.start()
    queues = Queues(settings)
    try:
        job_id = await queues.enqueue(JobName.SEND_MESSAGE, {"chatId": 5, "text": "x"}, backoff_ms=50)
        queue = queues.queue(QueueName.BOT_TASKS)
        for _ in range(300):
            if await queue.getJobState(job_id) == "failed":
                break
            await asyncio.sleep(0.05)
        job = await queue.getJob(job_id)
        assert job is not None and await queue.getJobState(job_id) == "failed"
        assert int(job.attemptsMade) == 3 and "recoverable/network" in job.failedReason
    finally:
        await worker.stop(grace=5)
        await queues.close()


async def test_repeatable_jobs_registered_by_many_workers_yield_one_schedule(
    redis_prefix: str, redis: object
) -> None:
    settings = world_settings("sqlite+aiosqlite:///:memory:", redis_prefix, "http://127.0.0.1:1")
    queues = Queues(settings)
    try:
        await asyncio.gather(*(register_repeatable(queues, [JobName.CAMPAIGN_CHECK]) for _ in range(5)))
        system = queues.queue(QueueName.SYSTEM)
        assert await system.getJobSchedulersCount() == 1
        assert await system.getJobCountByTypes("delayed", "waiting") == 1
    finally:
        await queues.close()


async def test_tgadmin_worker_process_finishes_in_flight_jobs_on_sigterm(
    world: World, tmp_path: Path
) -> None:
    # The in-process worker of the fixture stops first, so only the subprocess takes jobs.
    await world.worker.stop(grace=5)
    group = await world.add_group()
    env = {
        **os.environ,
        "DATABASE_URL": world.settings.database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_PREFIX": world.settings.redis_prefix,
        "TELEGRAM_API_BASE_URL": world.sandbox.url,
        "WORKER_CONCURRENCY": "3",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tgadmin",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        first = await world.run(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "a"}, within=60)
        assert first.state == "completed"
        # The next one waits ~3 s for the group's slot: SIGTERM while it waits; it must still finish.
        job_id = await world.enqueue(JobName.SEND_MESSAGE, {"chatId": group.telegram_id, "text": "b"})
        queue = world.queues.queue(QueueName.BOT_TASKS)
        for _ in range(100):
            if await queue.getJobState(job_id) == "active":
                break
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, output.decode()
        assert await queue.getJobState(job_id) == "completed"
        assert b"worker stopped" in output
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_a_job_whose_database_is_unreachable_waits_for_it_without_spending_attempts(
    redis_prefix: str, redis: object
) -> None:
    from tgadmin.redis import free_port

    # A closed local port: PostgreSQL restarting, as far as the job can tell.
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone"
    settings = world_settings(dead, redis_prefix, f"http://127.0.0.1:{free_port()}")
    worker = WorkerProcess(settings, concurrency=1, schedules=False)
    await worker.start()
    queues = Queues(settings)
    try:
        data = {"action": "group.cooldown", "entityType": "group", "entityId": "7"}
        job_id = await queues.enqueue(JobName.AUDIT_LOG, data, backoff_ms=50)
        queue = queues.queue(QueueName.SYSTEM)
        # Three quick retries would have failed it well within this time.
        for _ in range(40):
            if await queue.getJobState(job_id) == "delayed":
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)
        job = await queue.getJob(job_id)
        assert job is not None and await queue.getJobState(job_id) == "delayed"
        assert int(job.attemptsMade) == 0
    finally:
        await worker.stop(grace=5)
        await queues.close()


def test_a_database_starting_up_counts_as_down_not_as_a_bug() -> None:
    """While PostgreSQL restarts, asyncpg's "starting up" (57P03) reaches the job as a plain
    DBAPIError, wrapped the way SQLAlchemy's asyncpg dialect wraps it; only its SQLSTATE tells."""
    import asyncpg
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

    dbapi = AsyncAdapt_asyncpg_dbapi(asyncpg)  # type: ignore[no-untyped-call]  # SQLAlchemy's, unannotated
    translate = dbapi._asyncpg_error_translate[asyncpg.exceptions.PostgresError]

    def wrapped(error: Exception) -> DBAPIError:
        wrapper = DBAPIError.instance(None, None, translate(str(error), error), dbapi.Error)
        assert isinstance(wrapper, DBAPIError)
        return wrapper

    assert infrastructure_down(
        wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))
    )
    assert infrastructure_down(wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")))
    assert not infrastructure_down(wrapped(asyncpg.exceptions.DivisionByZeroError("division by zero")))
