"""The one clock: timezone-aware UTC, overridable for operations (`--now`) and tests; and the
IANA time zones people read and type times in (stored times stay UTC)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tgadmin.errors import BadRequest

# The operators' zone until one chooses another (their account page), and the buyers' texts' zone.
DEFAULT_TIME_ZONE = "America/Sao_Paulo"

_override: ContextVar[datetime | None] = ContextVar("tgadmin_now_override", default=None)


def utcnow() -> datetime:
    fixed = _override.get()
    return fixed if fixed is not None else datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (SQLite returns them naive); aware ones are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    token = _override.set(ensure_utc(moment))
    try:
        yield
    finally:
        _override.reset(token)


@lru_cache(maxsize=128)
def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name, or a clear refusal."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"unknown time zone {name!r} (for example {DEFAULT_TIME_ZONE})") from None


@cache
def time_zones() -> tuple[str, ...]:
    """The zones a person may choose: Region/City names and UTC (not the database's aliases)."""
    names = {
        name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "SystemV/"))
    }
    return ("UTC", *sorted(names))
