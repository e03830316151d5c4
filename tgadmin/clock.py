"""The one clock: timezone-aware UTC, overridable for operations (`--now`) and tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

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
