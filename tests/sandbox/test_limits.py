"""Rate limits exact enough to referee benchmarks, on the sandbox clock."""

from __future__ import annotations

import random

import pytest
from aiogram.exceptions import TelegramRetryAfter

from tests.fixtures.sandbox import Sandbox
from tgadmin.sandbox.limits import Rule, SlidingWindowLimiter


def max_in_any_window(times: list[float], window: float) -> int:
    """Most accepted calls in any half-open window (t - window, t]."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_limiter_never_exceeds_the_rate_and_always_accepts_up_to_it() -> None:
    limiter = SlidingWindowLimiter()
    rule = Rule("k", 20, 60.0)
    rng = random.Random(7)
    now, accepted = 1_000.0, list[float]()
    for _ in range(3_000):
        now += rng.choice([0.0, 0.001, 0.5, 1.7, 3.0, 11.0])
        wait = limiter.wait_for(rule, now)
        # The limiter keeps whole microseconds; count the window ending now the same way.
        window_count = sum(1 for t in accepted if round(t * 1e6) > round(now * 1e6) - 60_000_000)
        # Accepted exactly when fewer than 20 lie in the window ending now.
        assert (wait == 0) == (window_count < 20)
        if limiter.acquire([rule], now) == 0:
            accepted.append(now)
        else:
            # Waiting retry_after is always enough: by then fewer than 20 remain in the window.
            later = round((now + wait) * 1e6) - 60_000_000
            assert sum(1 for t in accepted if round(t * 1e6) > later) < 20
    assert max_in_any_window(accepted, 60.0) == 20


def test_limiter_refusal_is_not_recorded_and_all_rules_must_agree() -> None:
    limiter = SlidingWindowLimiter()
    bot, chat = Rule("bot", 2, 1.0), Rule("chat", 1, 1.0)
    assert limiter.acquire([bot, chat], 10.0) == 0
    assert limiter.acquire([bot, chat], 10.1) == 1  # the chat refuses; the bot's slot is not spent
    assert limiter.acquire([bot], 10.2) == 0
    assert limiter.acquire([bot], 10.3) == 1


async def test_group_limit_is_exact_over_sixty_seconds_of_sandbox_clock(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    group = await sandbox.create_chat("supergroup", "Promo")
    await sandbox.add_member(group, bot_id=shop.id, status="administrator")
    await sandbox.freeze()  # to the second, however slow the machine
    for n in range(20):
        await shop.bot.send_message(group, f"post {n}")
    with pytest.raises(TelegramRetryAfter) as refused:
        await shop.bot.send_message(group, "one too many")
    assert refused.value.retry_after == 60
    assert "Original description: Too Many Requests: retry after 60" in refused.value.message
    await sandbox.advance(59)
    with pytest.raises(TelegramRetryAfter) as refused:
        await shop.bot.send_message(group, "still too early")
    assert refused.value.retry_after == 1
    await sandbox.advance(1)
    await shop.bot.send_message(group, "now it passes")


async def test_group_sends_over_three_minutes_never_exceed_twenty_in_any_minute(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    group = await sandbox.create_chat("supergroup", "Promo")
    await sandbox.add_member(group, bot_id=shop.id, status="administrator")
    start = (await sandbox.control.get("/sandbox/clock")).json()["now"]
    rng = random.Random(3)
    while (await sandbox.control.get("/sandbox/clock")).json()["now"] < start + 180:
        try:
            await shop.bot.send_message(group, "tick")
        except TelegramRetryAfter as error:
            await sandbox.advance(rng.choice([1, 4, 7, error.retry_after]))
    calls = await sandbox.calls(method="sendMessage")
    accepted = [c["time"] for c in calls if c["ok"]]
    refused = [c for c in calls if not c["ok"]]
    assert refused and all(c["error_code"] == 429 for c in refused)
    assert max_in_any_window(accepted, 60.0) == 20
    # Every refusal happened with 20 accepted in the minute before it: nothing acceptable was refused.
    for call in refused:
        assert sum(1 for t in accepted if call["time"] - 60 < t <= call["time"]) == 20


async def test_private_chat_limit_is_one_per_second_and_a_refusal_does_not_count(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    ana = await sandbox.create_user("Ana")
    await sandbox.user_says(ana, "/start")
    await shop.bot.send_message(ana, "first")
    with pytest.raises(TelegramRetryAfter) as refused:
        await shop.bot.send_message(ana, "second")
    assert refused.value.retry_after == 1
    await sandbox.advance(1)
    await shop.bot.send_message(ana, "after a second")
    texts = [m["text"] for m in await sandbox.messages(ana)]
    assert texts == ["/start", "first", "after a second"]


async def test_bot_limit_spans_chats_and_limits_can_be_changed_or_switched_off(sandbox: Sandbox) -> None:
    await sandbox.configure(per_bot_per_sec=3)
    shop = await sandbox.create_bot()
    users = [await sandbox.create_user(f"U{n}") for n in range(4)]
    for user in users:
        await sandbox.user_says(user, "/start")
    for user in users[:3]:
        await shop.bot.send_message(user, "hello")
    with pytest.raises(TelegramRetryAfter):
        await shop.bot.send_message(users[3], "hello")
    assert (await sandbox.configure(enforce_limits=False))["enforce_limits"] is False
    for _ in range(5):
        await shop.bot.send_message(users[3], "no limit now")


async def test_non_sending_methods_are_not_limited(sandbox: Sandbox) -> None:
    await sandbox.configure(per_bot_per_sec=1)
    shop = await sandbox.create_bot()
    for _ in range(5):
        await shop.bot.get_me()


async def test_a_forced_flood_answers_429_to_any_method_the_asked_number_of_times(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    group = await sandbox.create_chat("supergroup", "Ofertas")
    other = await sandbox.create_chat("supergroup", "Outra")
    for chat in (group, other):
        await sandbox.add_member(chat, bot_id=shop.id, status="administrator")
    posted = await shop.bot.send_message(group, "apagar")
    owed = await sandbox.flood("deleteMessages", retry_after=7, count=2, chat_id=group)
    assert owed == [
        {"method": "deletemessages", "retry_after": 7, "count": 2, "bot_id": None, "chat_id": group}
    ]
    await sandbox.flood("getMe", retry_after=3)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as refused:
            await shop.bot.delete_messages(group, [posted.message_id])
        assert refused.value.retry_after == 7
    # Another chat is not flooded, and the owed answers are spent: the third call goes through.
    assert await shop.bot.delete_messages(other, [posted.message_id]) is True
    with pytest.raises(TelegramRetryAfter):
        await shop.bot.get_me()
    assert (await shop.bot.get_me()).id == shop.id
    assert await shop.bot.delete_messages(group, [posted.message_id]) is True
    assert [m["deleted"] for m in await sandbox.messages(group) if m.get("text") == "apagar"] == [True]
    assert (await sandbox.control.get("/sandbox/floods")).json() == []
    refused_calls = [c for c in await sandbox.calls() if not c["ok"]]
    assert [(c["method"], c["error_code"], c["parameters"]) for c in refused_calls] == [
        ("deleteMessages", 429, {"retry_after": 7}),
        ("deleteMessages", 429, {"retry_after": 7}),
        ("getMe", 429, {"retry_after": 3}),
    ]
    unknown = await sandbox.control.post("/sandbox/floods", json={"method": "sendPigeon", "retry_after": 1})
    assert unknown.status_code == 400
