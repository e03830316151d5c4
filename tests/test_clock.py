"""The one clock: real UTC time unless frozen; frozen time holds to the microsecond, naive moments
read as UTC, and a freeze ends with its block and stays inside the task that set it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

from tgadmin.clock import ensure_utc, frozen_at, utcnow

MOMENT = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def test_the_clock_is_timezone_aware_utc_and_moves() -> None:
    first = utcnow()
    assert first.tzinfo is UTC
    assert abs(first - datetime.now(UTC)) < timedelta(seconds=5)
    assert utcnow() >= first


def test_a_frozen_clock_holds_still_and_thaws_after_the_block() -> None:
    with frozen_at(MOMENT):
        assert utcnow() == MOMENT
        assert utcnow() == MOMENT
        with frozen_at(MOMENT + timedelta(days=1)):
            assert utcnow() == MOMENT + timedelta(days=1)
        assert utcnow() == MOMENT
    assert utcnow().year != MOMENT.year


def test_a_naive_moment_reads_as_utc_and_an_aware_one_is_converted() -> None:
    with frozen_at(MOMENT.replace(tzinfo=None)):
        assert utcnow() == MOMENT and utcnow().tzinfo is UTC
    brasilia = MOMENT.astimezone(timezone(timedelta(hours=-3)))
    assert ensure_utc(brasilia) == MOMENT and ensure_utc(brasilia).tzinfo is UTC


async def test_a_freeze_in_one_task_does_not_reach_another() -> None:
    frozen = asyncio.Event()
    seen: list[datetime] = []

    async def freezer() -> None:
        with frozen_at(MOMENT):
            frozen.set()
            await asyncio.sleep(0.05)

    async def reader() -> None:
        await frozen.wait()
        seen.append(utcnow())

    await asyncio.gather(freezer(), reader())
    assert seen[0] != MOMENT
