"""The GCRA limiter in Redis: several OS processes share one rate, a 429 pause stops them all."""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tgadmin.config import load_settings
from tgadmin.telegram.errors import Reschedule
from tgadmin.telegram.limiter import Limiter, Target

ROOT = Path(__file__).resolve().parents[2]


async def run_probes(count: int, **args: object) -> list[dict[str, list[float]]]:
    """Start `count` probe processes together; each takes `n` slots; return what each saw."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.telegram.limiter_probe",
            json.dumps({**args, "processes": count}),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(count)
    ]
    results = []
    for proc in procs:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, err.decode()
        results.append(json.loads(out))
    return results


def max_in_window(times: list[float], window: float) -> int:
    """The largest number of times in any half-open window of `window` seconds."""
    ordered = sorted(times)
    best, left = 0, 0
    for right, moment in enumerate(ordered):
        while ordered[left] <= moment - window:
            left += 1
        best = max(best, right - left + 1)
    return best


async def test_processes_sharing_a_bot_never_exceed_its_rate(
    redis_url: str, redis_prefix: str, redis: Redis
) -> None:
    results = await run_probes(4, redis_url=redis_url, prefix=redis_prefix, bot_rate=20, n=12)
    slots = sorted(s for r in results for s in r["slots"])
    walls = [w for r in results for w in r["walls"]]
    assert len(slots) == 48
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    # Reserved slots are exactly 1/20 s apart (Redis time, microsecond precision).
    assert min(gaps) >= 0.05 - 1e-6
    assert max_in_window(slots, 1.0) <= 20
    # What the processes actually did: never more than the rate in any second.
    assert max_in_window(walls, 1.0) <= 20 + 1  # +1: a late waker may share a window with the next
    # Back to back: the slots follow each other at the rate, no gaps (Redis time).
    assert max(slots) - min(slots) < 47 / 20 + 0.5
    assert all(len(r["slots"]) == 12 for r in results)


async def test_processes_sharing_a_group_respect_the_per_minute_rate(
    redis_url: str, redis_prefix: str, redis: Redis
) -> None:
    # 600/min = one per 100 ms for the group; the bot limit (30/s) is looser and does not bind.
    results = await run_probes(3, redis_url=redis_url, prefix=redis_prefix, group_rate=600, n=5, chat_id=-100)
    slots = sorted(s for r in results for s in r["slots"])
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) >= 0.1 - 1e-6


async def test_group_cooldown_is_a_longer_interval_and_private_chats_get_one_per_second(
    redis: Redis, redis_prefix: str
) -> None:
    limiter = Limiter(redis, load_settings(redis_prefix=redis_prefix), margin=0)
    group = Target(1, -5, cooldown_seconds=120)
    first = await limiter.reserve(group, max_wait=1)
    second = await limiter.reserve(group, max_wait=1)
    assert first.granted and first.wait == 0
    assert not second.granted and second.wait == pytest.approx(120, abs=0.1)
    # The operator's cooldown is skipped with bypass, Telegram's 20/min is not.
    bypass = await limiter.reserve(group, max_wait=5, bypass_cooldown=True)
    assert bypass.granted and bypass.wait == pytest.approx(3, abs=0.1)

    private = Target(1, 42)
    a = await limiter.reserve(private, max_wait=5)
    b = await limiter.reserve(private, max_wait=5)
    assert b.at - a.at == pytest.approx(1.0, abs=0.001)


async def test_a_call_waiting_for_its_chat_does_not_hold_the_bots_other_chats(
    redis: Redis, redis_prefix: str
) -> None:
    limiter = Limiter(redis, load_settings(redis_prefix=redis_prefix), margin=0)
    buyer, other = Target(1, 42), Target(1, 43)
    first = await limiter.acquire(buyer)
    # The buyer's second message waits for its chat's second; meanwhile another buyer is answered
    # at the bot's next slot (1/30 s), not after that second.
    second = asyncio.create_task(limiter.acquire(buyer))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    answered = await limiter.acquire(other)
    assert time.monotonic() - started < 0.3
    assert answered.wait < 0.1
    late = await second
    # The chat's own limit still holds: its two messages are a second apart (Redis time).
    assert late.at - first.at == pytest.approx(1.0, abs=0.001)
    # And the bot's: the three slots are at least 1/30 s apart.
    assert late.at - answered.at >= 1 / 30 - 1e-6


async def test_slot_too_far_ahead_reschedules_without_reserving(redis: Redis, redis_prefix: str) -> None:
    limiter = Limiter(redis, load_settings(redis_prefix=redis_prefix, tg_group_per_minute=1), margin=0)
    target = Target(7, -9)
    await limiter.acquire(target)
    with pytest.raises(Reschedule, match="far ahead") as caught:
        await limiter.acquire(target, max_wait=2)
    assert caught.value.delay == pytest.approx(60, abs=0.5)
    # Nothing was reserved by the refused call: the next slot is still ~60 s away, not ~120 s.
    slot = await limiter.reserve(target, max_wait=0)
    assert slot.wait == pytest.approx(60, abs=0.5)


async def test_a_pause_stops_every_caller_of_the_bot_until_it_ends(redis: Redis, redis_prefix: str) -> None:
    settings = load_settings(redis_prefix=redis_prefix)
    one, other = Limiter(redis, settings), Limiter(redis, settings)
    await one.pause(Target(3, -1), 30, whole_bot=True)
    with pytest.raises(Reschedule, match="429") as caught:
        await other.acquire(Target(3, -2))
    assert 29 < caught.value.delay <= 30
    # Another bot is not affected.
    assert (await other.acquire(Target(4, -2))).wait == 0
    # A chat-only pause leaves the bot's other chats alone; a shorter pause never shortens a longer one.
    await one.pause(Target(5, -1), 20, whole_bot=False)
    await one.pause(Target(5, -1), 1, whole_bot=False)
    assert (await other.acquire(Target(5, -2))).wait == 0
    assert await other.paused_for(Target(5, -1)) > 19


async def test_a_short_pause_is_waited_out_in_process(redis: Redis, redis_prefix: str) -> None:
    limiter = Limiter(redis, load_settings(redis_prefix=redis_prefix))
    await limiter.pause(Target(3), 0.4, whole_bot=True)
    started = time.monotonic()
    await limiter.acquire(Target(3, -8))
    assert time.monotonic() - started >= 0.35


async def test_keys_live_under_the_configured_prefix(redis: Redis, redis_prefix: str) -> None:
    limiter = Limiter(redis, load_settings(redis_prefix=redis_prefix))
    await limiter.acquire(Target(1, -3))
    # A large COUNT: on a shared server with many keys, a scan 10 keys at a time outlasts the bot
    # key's one-second life and misses it.
    keys = sorted([k.decode() async for k in redis.scan_iter(match=f"{redis_prefix}:*", count=10_000)])
    assert keys == [f"{redis_prefix}:tg:gcra:bot:1", f"{redis_prefix}:tg:gcra:chat:1:-3"]
    assert 0 < await redis.pttl(keys[0]) <= 2000


async def test_late_callers_cannot_overfill_a_window_when_committing(
    redis_url: str, redis_prefix: str, redis: Redis
) -> None:
    """Callers that all wake late at once (a stalled event loop) still make at most `rate` calls in
    any window: the commit log, not the reservation, is the last word."""
    settings = load_settings(redis_url=redis_url, redis_prefix=redis_prefix, tg_bot_per_second=10)
    limiter = Limiter(redis, settings)
    target = Target(bot_id=42)
    committed: list[float] = []

    async def late_caller() -> None:
        await limiter.commit(target)  # as if each woke long after its slot, all together
        committed.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(late_caller() for _ in range(25)))
    assert max_in_window(committed, 1.0) <= 10
    # 25 calls at 10 per (guarded) second: the last ones wait two full windows.
    assert time.monotonic() - started >= 2.0
    assert len(committed) == 25
