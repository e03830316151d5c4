"""Engine and sessions. Only the owner of a session commits (request dependency, job wrapper,
bot middleware, CLI command): services flush, never commit."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from tgadmin.errors import ServiceUnavailable


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN; take control so SAVEPOINTs work,
    # and make SQLite honour foreign keys and wait (not fail) on a concurrent writer.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"timeout": 5})
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class AfterCommit:
    """What must wait until a unit of work's data is visible (enqueueing a job, caching): its owner
    runs it, in order, once the commit succeeded, and never after a rollback."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], object]] = []

    def add(self, callback: Callable[[], object]) -> None:
        """`callback()` (awaited when it returns an awaitable) runs after the commit."""
        self._callbacks.append(callback)

    async def run(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            outcome = callback()
            if inspect.isawaitable(outcome):
                await outcome


async def commit(session: AsyncSession, after_commit: AfterCommit) -> None:
    """For the session's owner: commit, then run what waited for it (a failed commit runs nothing)."""
    await session.commit()
    await after_commit.run()


@asynccontextmanager
async def session_scope(
    factory: async_sessionmaker[AsyncSession], after_commit: AfterCommit | None = None
) -> AsyncIterator[AsyncSession]:
    """A unit of work owned by the caller: commit on success, roll back on error; `after_commit`
    runs once the commit succeeded (what was added to it before a rollback is dropped)."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
    if after_commit is not None:
        await after_commit.run()


def insert(session: AsyncSession, model: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
    """INSERT into `model` in the session's dialect: unlike the generic one it has ON CONFLICT, which
    both backends spell alike (`on_conflict_do_nothing` / `on_conflict_do_update`)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


async def ping(engine: AsyncEngine) -> str:
    """One round trip; returns the server version, or raises ServiceUnavailable with the reason."""
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                version = (await conn.execute(text("select sqlite_version()"))).scalar_one()
                return f"SQLite {version}"
            version = (await conn.execute(text("show server_version"))).scalar_one()
            return f"PostgreSQL {version}"
    except (SQLAlchemyError, OSError) as error:
        raise ServiceUnavailable(f"database: {_reason(error)}") from None


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text_ = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    return text_
