"""The bot service running for real: a uvicorn server on a free loopback port that the sandbox
delivers webhooks to, over a database of the test's own (PostgreSQL and SQLite)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import pytest
import uvicorn
from aiogram import Router
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.fixtures.sandbox import Sandbox, SandboxBot
from tgadmin.bot.server import BotService, create_app
from tgadmin.config import Settings, load_settings
from tgadmin.db import create_engine, session_factory
from tgadmin.models import Base
from tgadmin.models import Bot as BotRecord
from tgadmin.redis import free_port

T = TypeVar("T")
M = TypeVar("M", bound=Base)


async def eventually(probe: Callable[[], Awaitable[T | None]], within: float = 10.0) -> T:
    """The first truthy answer of `probe`; updates are handled after the webhook's 200, so we wait."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met within the timeout")
        await asyncio.sleep(0.05)


@dataclass
class BotWorld:
    """The sandbox, our database and one registered bot."""

    sandbox: Sandbox
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tg: SandboxBot
    record_id: int
    webhook_secret: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def row(self, model: type[M], *where: ColumnElement[bool]) -> M | None:
        async with self.sessions() as session:
            return (await session.scalars(select(model).where(*where))).one_or_none()

    async def rows(self, model: type[M], *where: ColumnElement[bool]) -> list[M]:
        async with self.sessions() as session:
            return list((await session.scalars(select(model).where(*where))).all())

    async def count(self, model: type[Base]) -> int:
        async with self.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def register_bot(sessions: async_sessionmaker[AsyncSession], tg: SandboxBot) -> tuple[int, str]:
    """A Bot row as the dashboard or the seeding leaves it: token and webhook secret stored encrypted."""
    secret = secrets.token_urlsafe(32)
    async with sessions() as session:
        record = BotRecord(telegram_id=tg.id, username=tg.username, token=tg.token, webhook_secret=secret)
        session.add(record)
        await session.commit()
        return record.id, secret


@pytest.fixture
async def world(sandbox: Sandbox, fresh_db_url: str) -> AsyncIterator[BotWorld]:
    port = free_port()
    settings = load_settings(
        database_url=fresh_db_url,
        telegram_api_base_url=sandbox.url,
        public_url=f"http://127.0.0.1:{port}",
        telegram_bot_token=None,
    )
    engine = create_engine(fresh_db_url)
    sessions = session_factory(engine)
    tg = await sandbox.create_bot("shop_bot")
    record_id, secret = await register_bot(sessions, tg)
    yield BotWorld(sandbox, settings, engine, sessions, tg, record_id, secret, port)
    await engine.dispose()


@dataclass
class Running:
    service: BotService
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """What SIGTERM does to uvicorn: stop accepting, run the app's shutdown, return."""
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 30)


async def start_service(world: BotWorld, routers: list[Router] | None = None) -> Running:
    service = BotService(world.settings, routers=routers)
    config = uvicorn.Config(
        create_app(service), host="127.0.0.1", port=world.port, log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # start-up failed: show why
        return bool(server.started)

    await eventually(started)
    return Running(service, server, task)


@pytest.fixture
async def service(world: BotWorld) -> AsyncIterator[Running]:
    running = await start_service(world)
    yield running
    await running.stop()
