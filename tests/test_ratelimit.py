"""Fixed windows: in Redis (shared by every process), or in the process when no Redis is configured."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from tgadmin.ratelimit import FixedWindows, Limit


@pytest.fixture(params=["redis", "in-process"])
def windows(request: pytest.FixtureRequest, redis_prefix: str) -> FixedWindows:
    if request.param == "redis":
        return FixedWindows(request.getfixturevalue("redis"), redis_prefix)
    return FixedWindows(None, redis_prefix)


async def test_a_limit_reached_refuses_and_counts_nothing_until_its_window_ends(
    windows: FixedWindows,
) -> None:
    tight, loose = Limit("tight", 2), Limit("loose", 10)
    assert await windows.hit([tight, loose], 0.5) is None
    assert await windows.hit([tight, loose], 0.5) is None
    assert await windows.hit([loose, tight], 0.5) == tight
    # The refused hit was not counted on the loose key: 8 more fit in its window.
    for _ in range(8):
        assert await windows.hit([loose], 0.5) is None
    assert await windows.hit([loose], 0.5) == loose
    await asyncio.sleep(0.8)
    assert await windows.hit([tight, loose], 0.5) is None


async def test_processes_sharing_redis_share_the_count(redis: Redis, redis_prefix: str) -> None:
    one, two = FixedWindows(redis, redis_prefix), FixedWindows(redis, redis_prefix)
    assert await one.hit([Limit("k", 1)], 60) is None
    assert await two.hit([Limit("k", 1)], 60) == Limit("k", 1)
    assert 0 < await redis.pttl(f"{redis_prefix}:rl:k") <= 60_000
