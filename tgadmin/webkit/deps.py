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
from tgadmin.db import AfterCommit, commit, create_engine, session_factory, session_scope
from tgadmin.queue.client import Queues, QueuesClosed
from tgadmin.ratelimit import FixedWindows
from tgadmin.redis import client as redis_client

# Connections kept open per dashboard process. Each request holds one while it runs, and a burst
# of pages (50 operators, bench/dashboard.py) needs more than SQLAlchemy's default 5: every
# connection past those was opened for the burst and closed after it (290 openings in one bench run
# of one process), each a new PostgreSQL backend whose statements were prepared all over again.
DB_POOL_SIZE = 20


class AppState:
    """Engine, sessions, Redis client and rate-limit windows; opened at start-up, closed at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        pooled = {} if settings.database_url.startswith("sqlite") else {"pool_size": DB_POOL_SIZE}
        self.engine: AsyncEngine = create_engine(settings.database_url, **pooled)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        url = settings.effective_redis_url
        self.redis: Redis | None = redis_client(url) if url else None
        self.windows = FixedWindows(self.redis, settings.redis_prefix)
        # SQLite has one writer, and a transaction that read before writing fails at once ("database
        # is locked") when another one wrote meanwhile: on the embedded default the dashboard runs
        # its units of work (requests, PSP notifications) in turn, as the bot and the worker do.
        self._one_at_a_time = asyncio.Lock() if self.engine.dialect.name == "sqlite" else None
        self._queues: Queues | None = None
        self._stopped = False

    @property
    def queues(self) -> Queues:
        """The product's queues, opened on first use (a missing REDIS_URL is refused then, clearly);
        after `stop()` they refuse every queue (QueuesClosed) rather than open one nobody closes."""
        if self._queues is None:
            if self._stopped:
                raise QueuesClosed("the queues were asked for after the dashboard stopped")
            self._queues = Queues(self.settings)
        return self._queues

    def in_turn(self) -> AbstractAsyncContextManager[object]:
        """Hold while a unit of work of this process is open (a no-op on PostgreSQL)."""
        return self._one_at_a_time if self._one_at_a_time is not None else nullcontext()

    @asynccontextmanager
    async def unit_of_work(self, after_commit: AfterCommit | None = None) -> AsyncIterator[AsyncSession]:
        """A session owned by the caller (committed on success, then `after_commit` runs), in turn
        with the others."""
        async with self.in_turn(), session_scope(self.sessions, after_commit) as session:
            yield session

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        """Close the queues, Redis and the engine (each even when an earlier one failed to close)."""
        self._stopped = True
        try:
            if self._queues is not None:
                await self._queues.close()
        finally:
            try:
                if self.redis is not None:
                    await self.redis.aclose()
            finally:
                await self.engine.dispose()


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.tgadmin
    return state


class UnitOfWork:
    """A request's unit of work, owned by its dependency: the session, and what waits for its commit
    (a route adds "then enqueue these deliveries" to `after_commit`; it runs only once the commit
    succeeded, never after a rollback)."""

    def __init__(self, session: AsyncSession, after_commit: AfterCommit) -> None:
        self.session = session
        self.after_commit = after_commit

    async def checkpoint(self) -> None:
        """Commit the work so far and run what waited for it; the request goes on in a new transaction.

        For a call that must find this request's work committed before it answers (the sandbox PSP
        notifies our webhook while it pays)."""
        await commit(self.session, self.after_commit)


async def get_unit_of_work(state: Annotated[AppState, Depends(get_state)]) -> AsyncIterator[UnitOfWork]:
    """The request owns the unit of work: commit when the handler returns, roll back on error.

    Scoped to the handler (`UnitOfWorkDep`), so the commit and its after-commit hooks happen before
    the response is sent: a client that follows a redirect, or sends its next request at once, sees
    what this one committed and enqueued (with FastAPI's default request scope the commit would run
    only after the response went out)."""
    after_commit = AfterCommit()
    async with state.unit_of_work(after_commit) as session:
        yield UnitOfWork(session, after_commit)


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work, scope="function")]


async def get_session(work: UnitOfWorkDep) -> AsyncSession:
    """The session of the request's unit of work (the same one for every dependency of a request)."""
    return work.session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
StateDep = Annotated[AppState, Depends(get_state)]


def get_queues(state: StateDep) -> Queues:
    return state.queues


QueuesDep = Annotated[Queues, Depends(get_queues)]
