"""`tgadmin dashboard --workers N`: more than one worker only where the workers share everything;
what a served process's first requests built is frozen out of the collector's full collections."""

from __future__ import annotations

import gc

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from tgadmin.config import Settings
from tgadmin.errors import ConfigError
from tgadmin.web.server import FreezeWhenWarm, check_workers

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _settings(database_url: str, redis_url: str | None) -> Settings:
    return Settings(_env_file=None, database_url=database_url, redis_url=redis_url, redis_host=None)


def test_several_workers_need_postgresql_and_redis() -> None:
    check_workers(_settings(POSTGRES, "redis://127.0.0.1:6379/0"), 4)
    with pytest.raises(ConfigError, match="PostgreSQL"):
        check_workers(_settings("sqlite+aiosqlite:///./var/x.db", "redis://127.0.0.1:6379/0"), 2)
    with pytest.raises(ConfigError, match="REDIS_URL"):
        check_workers(_settings(POSTGRES, None), 2)


def test_one_worker_runs_anywhere() -> None:
    check_workers(_settings("sqlite+aiosqlite:///./var/x.db", None), 1)
    with pytest.raises(ConfigError, match="1 or more"):
        check_workers(_settings(POSTGRES, None), 0)


async def test_what_the_first_requests_built_is_frozen_once_the_process_is_warm() -> None:
    built: list[dict[str, list[int]]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        built.append({"plan": [len(built)]})  # what a first request builds and keeps
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def walked() -> list[bool]:
        collected = {id(o) for o in gc.get_objects()}
        return [id(plan) in collected for plan in built]

    transport = httpx.ASGITransport(app=FreezeWhenWarm(app, after=(3,)))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as http:
            for _ in range(2):
                await http.get("/")
            assert walked() == [True, True]
            await http.get("/")  # the third request freezes before it runs
            await http.get("/")
            assert walked() == [False, False, True, True]
    finally:
        gc.unfreeze()
