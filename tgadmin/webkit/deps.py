"""Per-process state of the web app and the request dependencies that hand it out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tgadmin.config import Settings
from tgadmin.db import create_engine, session_factory, session_scope
from tgadmin.ratelimit import FixedWindows
from tgadmin.redis import client as redis_client


class AppState:
    """Engine, sessions, Redis client and rate-limit windows; opened at start-up, closed at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine = create_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        url = settings.effective_redis_url
        self.redis: Redis | None = redis_client(url) if url else None
        self.windows = FixedWindows(self.redis, settings.redis_prefix)
        # SQLite has one writer, and a transaction that read before writing fails at once ("database
        # is locked") when another one wrote meanwhile: on the embedded default the dashboard runs
        # its units of work (requests, PSP notifications) in turn, as the bot and the worker do.
        self._one_at_a_time = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None

    def in_turn(self) -> AbstractAsyncContextManager[object]:
        """Hold while a unit of work of this process is open (a no-op on PostgreSQL)."""
        return self._one_at_a_time if self._one_at_a_time is not None else nullcontext()

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session owned by the caller (committed on success), in turn with the others."""
        async with self.in_turn(), session_scope(self.sessions) as session:
            yield session

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.tgadmin
    return state


async def get_session(state: Annotated[AppState, Depends(get_state)]) -> AsyncIterator[AsyncSession]:
    """The request owns the unit of work: commit when the handler returns, roll back on error.

    Scoped to the handler (`SessionDep`), so the commit happens before the response is sent: a client
    that follows a redirect, or sends its next request at once, sees what this one committed (with
    FastAPI's default request scope the commit would run only after the response went out)."""
    async with state.unit_of_work() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
StateDep = Annotated[AppState, Depends(get_state)]
