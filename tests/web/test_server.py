"""`tgadmin dashboard --workers N`: more than one worker only where the workers share everything."""

from __future__ import annotations

import pytest

from tgadmin.config import Settings
from tgadmin.errors import ConfigError
from tgadmin.web.server import check_workers

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
