"""What a process runs with: the environment, with what an admin saved on the Settings page on top
(Telegram rates, the PIX provider with its credentials, the charge lifetime).

Read once, when a process starts (dashboard, bot, worker): a change on the page applies to the
processes started after it — the page says so. A database that cannot be read (not migrated yet,
down) leaves the environment's values, with a warning in the log.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.config import Settings
from tgadmin.db import create_engine, session_factory
from tgadmin.settings import repository
from tgadmin.settings.payments import PIX, effective_settings, provider_name
from tgadmin.settings.service import LIMITS

log = logging.getLogger(__name__)

# Settings page name -> the environment setting it replaces.
RATES = {"bot_per_second": "tg_bot_per_second", "group_per_minute": "tg_group_per_minute"}


async def overlay(session: AsyncSession, env: Settings) -> Settings:
    """`env` with the saved values on top (unchanged when nothing is saved)."""
    changes: dict[str, Any] = {}
    limits = await repository.value(session, LIMITS) or {}
    changes.update({RATES[k]: int(v) for k, v in limits.items() if k in RATES})
    pix = await repository.value(session, PIX) or {}
    if "expires_minutes" in pix:
        changes["pix_expires_minutes"] = int(pix["expires_minutes"])
    settings = env.model_copy(update=changes) if changes else env
    if "provider" in pix:
        provider = provider_name(str(pix["provider"]))
        row = await repository.provider_config(session, provider.value)
        credentials = json.loads(row.credentials) if row is not None else {}
        settings = effective_settings(settings, provider, {str(k): str(v) for k, v in credentials.items()})
    return settings


async def at_start(env: Settings) -> Settings:
    """The settings a process starts with (its own short connection to the database)."""
    engine = create_engine(env.database_url)
    try:
        async with session_factory(engine)() as session:
            return await overlay(session, env)
    except Exception as error:
        log.warning("settings saved on the dashboard not read (%s); using the environment's", error)
        return env
    finally:
        await engine.dispose()
