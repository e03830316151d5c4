"""What every job handler gets: the process's shared resources and the job's own unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tgadmin.config import Settings
from tgadmin.db import create_engine, session_factory
from tgadmin.queue.client import Queues, connection_url
from tgadmin.redis import client as redis_client
from tgadmin.storage import Storage, get_storage
from tgadmin.telegram.client import BotClients
from tgadmin.telegram.events import GatewayEvents
from tgadmin.telegram.gateway import Gateway


@dataclass
class WorkerContext:
    """Built once per worker process; closed at shutdown."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    clients: BotClients
    gateway: Gateway
    queues: Queues
    storage: Storage

    @classmethod
    def create(cls, settings: Settings, events: GatewayEvents) -> WorkerContext:
        """`events` receives what the gateway learns (the top floor wires it to the domains)."""
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        redis = redis_client(connection_url(settings))
        clients = BotClients(settings, sessions)
        return cls(
            settings,
            engine,
            sessions,
            redis,
            clients,
            Gateway.create(settings, redis, clients, events),
            Queues(settings),
            get_storage(settings),
        )

    async def close(self) -> None:
        """Close the bot clients, the queues, Redis and the engine, in that order, each even when
        an earlier one failed to close (the first failure is raised once all are done)."""
        async with AsyncExitStack() as closing:
            closing.push_async_callback(self.engine.dispose)
            closing.push_async_callback(self.redis.aclose)
            closing.push_async_callback(self.queues.close)
            closing.push_async_callback(self.clients.close)


@dataclass
class JobRun:
    """One execution of one job: its id, attempt and the session the wrapper owns."""

    ctx: WorkerContext
    session: AsyncSession
    job_id: str
    queue: str
    attempts_made: int
    # Publishes the job's progress where the dashboard reads it (the BullMQ job's `progress`).
    report: Callable[[dict[str, Any]], Awaitable[None]] | None = field(default=None, repr=False)

    @property
    def gateway(self) -> Gateway:
        return self.ctx.gateway

    async def checkpoint(self) -> None:
        """Commit the work so far (a long job's progress survives a later failure or reschedule)."""
        await self.session.commit()

    async def progress(self, done: int, total: int, **detail: Any) -> None:
        """Say how far the job is (`done` of `total`), for the page that started it."""
        if self.report is not None:
            await self.report({"done": done, "total": total, **detail})
