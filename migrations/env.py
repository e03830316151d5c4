"""Alembic environment: async engines, SQLite batch mode, custom types rendered as their storage type."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from tgadmin.config import get_settings
from tgadmin.crypto import EncryptedString
from tgadmin.db import create_engine
from tgadmin.models import Base
from tgadmin.models.base import UTCDateTime

target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EncryptedString):
        return "sa.Text()"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.config.attributes.get("url") or get_settings().database_url
    asyncio.run(_run_async(url))


if context.is_offline_mode():
    context.configure(
        url=get_settings().database_url, target_metadata=target_metadata, render_item=render_item
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
