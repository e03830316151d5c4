"""A real worker (in this process) on a database of the test's own, the real Redis under the test's
prefix and the sandbox over HTTP; `world.run(job, data)` enqueues and waits for the outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from bullmq import Job
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fixtures.redis import REDIS_URL
from tests.fixtures.sandbox import Sandbox, SandboxBot
from tgadmin.config import Settings, load_settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.group import service as group_service
from tgadmin.models import Group
from tgadmin.models.enums import BotMemberStatus, ChatType
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName
from tgadmin.telegram.bots import register_from_token
from tgadmin.worker.runner import WorkerProcess


@dataclass
class Outcome:
    state: str
    value: Any
    reason: str | None
    attempts_made: int
    job: Job


@dataclass
class World:
    sandbox: Sandbox
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    queues: Queues
    worker: WorkerProcess
    tg: SandboxBot
    bot_id: int
    redis: Redis

    async def add_group(
        self, title: str = "Ofertas", *, type: str = "supergroup", status: str = "administrator", **kw: Any
    ) -> Group:
        """A sandbox chat with our bot in it, and its Group row (as the bot service would record it)."""
        chat = await self.sandbox.create_chat(type, title)
        rights = (
            {"can_delete_messages": True, "can_post_messages": True} if status == "administrator" else None
        )
        await self.sandbox.add_member(chat, bot_id=self.tg.id, status=status, rights=kw.pop("rights", rights))
        async with session_scope(self.sessions) as session:
            group = await group_service.upsert_membership(
                session,
                self.bot_id,
                group_service.ChatFacts(chat, ChatType(type), title),
                BotMemberStatus(status),
                {},
            )
            for key, value in kw.items():
                setattr(group, key, value)
        return group

    async def group(self, group_id: int) -> Group:
        async with self.sessions() as session:
            found = await session.get(Group, group_id)
            assert found is not None
            return found

    async def enqueue(self, job: JobName, data: dict[str, Any], **opts: Any) -> str:
        return await self.queues.enqueue(job, data, **opts)

    async def wait(self, job: JobName, job_id: str, within: float = 30.0) -> Outcome:
        queue = self.queues.queue(job.queue)
        deadline = asyncio.get_running_loop().time() + within
        while True:
            state = await queue.getJobState(job_id)
            if state in ("completed", "failed"):
                found = await queue.getJob(job_id)
                assert found is not None
                return Outcome(state, found.returnvalue, found.failedReason, int(found.attemptsMade), found)
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"job {job_id} still {state} after {within}s")
            await asyncio.sleep(0.05)

    async def run(self, job: JobName, data: dict[str, Any], within: float = 30.0, **opts: Any) -> Outcome:
        return await self.wait(job, await self.enqueue(job, data, **opts), within)


def world_settings(db_url: str, prefix: str, sandbox_url: str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": db_url,
        "redis_url": REDIS_URL,
        "redis_prefix": prefix,
        "telegram_api_base_url": sandbox_url,
    }
    # An override wins (e.g. Telegram reached through a proxy that loses answers).
    return load_settings(**{**base, **overrides})


@pytest.fixture
def world_overrides() -> dict[str, Any]:
    """Settings a test module wants changed (override this fixture)."""
    return {}


@pytest.fixture
async def world(
    fresh_db_url: str, redis_prefix: str, redis: Redis, sandbox: Sandbox, world_overrides: dict[str, Any]
) -> AsyncIterator[World]:
    settings = world_settings(fresh_db_url, redis_prefix, sandbox.url, **world_overrides)
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    tg = await sandbox.create_bot("shop_bot")
    async with session_scope(sessions) as session:
        bot_id = (await register_from_token(session, tg.token, settings)).bot.id
    worker = WorkerProcess(settings, concurrency=4)
    await worker.start()
    queues = Queues(settings)
    try:
        yield World(sandbox, settings, sessions, queues, worker, tg, bot_id, redis)
    finally:
        await worker.stop(grace=5)
        await queues.close()
        await engine.dispose()
