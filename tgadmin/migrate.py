"""Bring a database to the current schema with Alembic (the scripts live in /migrations)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from tgadmin.db import create_engine, ping

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate to `revision`, after checking the database answers (a clear line, not a traceback)."""

    async def reachable() -> None:
        engine = create_engine(url)
        try:
            await ping(engine)
        finally:
            await engine.dispose()

    asyncio.run(reachable())
    command.upgrade(alembic_config(url), revision)
