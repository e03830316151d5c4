"""Per-process state of the web app and the request dependencies that hand it out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tgadmin.config import Settings
from tgadmin.db import create_engine, session_factory
from tgadmin.redis import client as redis_client


class AppState:
    """Engine, session factory and Redis client, opened at start-up and closed at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine = create_engine(settings.database_url)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        url = settings.effective_redis_url
        self.redis: Redis | None = redis_client(url) if url else None

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
    """The request owns the unit of work: commit when the handler returns, roll back on error."""
    async with state.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session)]
StateDep = Annotated[AppState, Depends(get_state)]
