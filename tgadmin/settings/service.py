"""The Settings area's door: Telegram limits and the default group cooldown (`AppSetting`
"telegram_limits"), and what the environment says when nothing is saved.

Who reads them: every process at start (settings/effective.py puts the saved rates over
`TG_BOT_PER_SECOND` / `TG_GROUP_PER_MINUTE` for the gateway's limiter), and the group domain when it
records a newly discovered group (`default_group_cooldown`).
Bots: settings/bots.py; payments: settings/payments.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.config import Settings
from tgadmin.errors import BadRequest
from tgadmin.settings import repository

LIMITS = "telegram_limits"
# Telegram's documented ceilings: more is answered with 429s, not with more messages. The private
# chat rate (1/s) is shown from the environment, not edited: Telegram allows no more.
RANGES: dict[str, tuple[int, int]] = {
    "bot_per_second": (1, 30),
    "group_per_minute": (1, 20),
    "group_cooldown_seconds": (0, 86_400),
}


@dataclass(frozen=True)
class Limits:
    values: dict[str, int]
    source: str  # "database" or "environment"


def environment_limits(settings: Settings) -> dict[str, int]:
    return {
        "bot_per_second": settings.tg_bot_per_second,
        "group_per_minute": settings.tg_group_per_minute,
        "group_cooldown_seconds": 0,
    }


async def limits(session: AsyncSession, settings: Settings) -> Limits:
    saved = await repository.value(session, LIMITS)
    if saved is None:
        return Limits(environment_limits(settings), "environment")
    return Limits({**environment_limits(settings), **saved}, "database")


def checked(values: dict[str, int]) -> dict[str, int]:
    for name, value in values.items():
        low, high = RANGES[name]
        if not low <= value <= high:
            raise BadRequest(f"{name.replace('_', ' ')} must be between {low} and {high} (got {value})")
    return values


async def save_limits(session: AsyncSession, values: dict[str, int], actor: Actor) -> dict[str, int]:
    clean = checked(values)
    before = await repository.value(session, LIMITS)
    await repository.store(session, LIMITS, clean)
    await record(
        session, actor, "settings.telegram_limits", "app_setting", LIMITS, before=before, after=clean
    )
    return clean


async def default_group_cooldown(session: AsyncSession) -> int:
    """The cooldown a newly discovered group starts with (0 when never saved)."""
    saved = await repository.value(session, LIMITS) or {}
    return int(saved.get("group_cooldown_seconds", 0))
