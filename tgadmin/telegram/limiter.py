"""Telegram's sending limits as GCRA in Redis, shared by every worker process on every machine.

One Lua script takes the pause keys and the limit keys of a call and, on Redis's own clock
(`TIME`, so the machines' clocks do not matter), finds the earliest moment every key allows the
call. If that moment is close enough it *reserves* it (advances each key's theoretical arrival
time) and tells the caller how long to sleep; otherwise it reserves nothing and the caller
reschedules the job. Reserving instead of polling keeps callers in arrival order and means two
processes can never both take the same slot.

A call that must wait for its own chat (a private chat's second message within the second, a
group's 20/min or cooldown) reserves the chat's slot alone, sleeps until it, and only then takes
the bot's next slot (`acquire`). Reserving the bot's key at the chat's far slot would advance the
bot's theoretical arrival time to it: every other chat of the bot would wait behind one chat's
second (measured: a buyer's /start answered 1.06 s late behind another buyer's checkout message).

Keys (all under `settings.redis_prefix`):
  {prefix}:tg:gcra:bot:{bot_id}             the bot's 30/s
  {prefix}:tg:gcra:chat:{bot_id}:{chat_id}  a group's 20/min, or a private chat's 1/s
  {prefix}:tg:gcra:cooldown:{bot_id}:{chat_id}  the group's own cooldown, when longer than 20/min
  {prefix}:tg:pause:bot:{bot_id}            set on a 429, for retry_after; every caller honours it
  {prefix}:tg:pause:chat:{bot_id}:{chat_id}   honoured by every call naming the chat (sends,
                                            deletes, reads), though only sends take its slots

Burst is 1 by default: Telegram counts calls in sliding windows, and only an evenly spaced
stream never puts more than `rate` calls in any window. A small safety margin widens the spacing
so that jitter between our clock and the moment Telegram sees the call does not add a call.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass

from redis.asyncio import Redis

from tgadmin.config import Settings
from tgadmin.telegram.errors import Reschedule

# Spacing widened by 3 %: absorbs network/scheduling jitter per bot window of 30 calls.
LIMIT_MARGIN = 0.03
# The commit window is Telegram's window widened by this much: calls may reach Telegram up to
# ~30 ms apart from the moment they were committed without one window holding a call too many.
WINDOW_GUARD = 0.03
# Waiting longer than this in-process would hold a worker slot idle; the job is rescheduled instead.
MAX_INLINE_WAIT = 5.0

# ARGV: the number of pause keys, max_wait (ms), not_before (ms of Redis time, or -1), split (0|1),
# then (interval, tolerance) of each rule; the first rule is the bot's, the others the chat's own.
# not_before: the chat's slot, already reserved alone, is the earliest this call goes (it may be
# past: a caller that woke late keeps its slot, as one reserved in full would).
# split = 1: when the chat's own keys are what the call waits for, only they are reserved (answer
# 2) and the caller comes back for the bot's key when the chat's slot comes.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local np = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local not_before = tonumber(ARGV[3])
local split = tonumber(ARGV[4])
local slot = now
if not_before >= 0 then slot = not_before end
local paused = 0
for i = 1, np do
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl > 0 then
    paused = 1
    if now + ttl > slot then slot = now + ttl end
  end
end
local nr = #KEYS - np
local tats = {}
local own = slot
local all = slot
for k = 1, nr do
  local tat = tonumber(redis.call('GET', KEYS[np + k]) or '0')
  tats[k] = tat
  local allowed = tat - tonumber(ARGV[4 + 2 * k])
  if k > 1 and allowed > own then own = allowed end
  if allowed > all then all = allowed end
end
local function reserve(first, at)
  for k = first, nr do
    local tat = math.max(tats[k], at) + tonumber(ARGV[3 + 2 * k])
    local ttl = math.max(1000, math.ceil(tat - now) + 1000)
    redis.call('SET', KEYS[np + k], string.format('%.3f', tat), 'PX', ttl)
  end
end
if paused == 1 or all - now > max_wait then
  return {0, string.format('%.3f', all - now), paused, string.format('%.3f', all)}
end
if split == 1 and nr > 1 and own > now then
  reserve(2, own)
  return {2, string.format('%.3f', own - now), 0, string.format('%.3f', own)}
end
reserve(1, all)
return {1, string.format('%.3f', all - now), 0, string.format('%.3f', all)}
"""


# The last check, right before the HTTP request: a sliding-window log of calls actually made
# (Redis server time). GCRA reservations keep callers evenly spaced and in order; but a caller
# that wakes late from its slot (a busy event loop, a loaded machine) would send close to the
# next one. The log refuses a call that would put more than `limit` calls in any window, and
# says how long until it fits.
_COMMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local wait = 0
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i - 1])
  local limit = tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - window)
  if redis.call('ZCARD', KEYS[i]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return string.format('%.3f', wait) end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[#ARGV] .. ':' .. now)
  redis.call('PEXPIRE', KEYS[i], math.ceil(tonumber(ARGV[2 * i - 1])) + 1000)
end
return '0'
"""


@dataclass(frozen=True)
class Window:
    """At most `limit` calls in any `window_ms` (Telegram's own window, widened by the guard)."""

    key: str
    window_ms: float
    limit: int


@dataclass(frozen=True)
class Rule:
    """One GCRA key: at most one call per `interval_ms`, `burst` at once."""

    key: str
    interval_ms: float
    burst: int = 1

    @property
    def tolerance_ms(self) -> float:
        return (self.burst - 1) * self.interval_ms


@dataclass(frozen=True)
class Slot:
    granted: bool  # reserved: sleep `wait` seconds, then call
    wait: float  # seconds until the slot (or until the pause ends)
    paused: bool  # a 429 pause is in force on the bot or the chat
    at: float  # the slot as Redis server time (epoch seconds)
    # Only the chat's own keys were reserved (at `at`): the bot's slot is taken when it comes.
    chat_only: bool = False


@dataclass(frozen=True)
class Target:
    """Where a call goes, as far as limits are concerned."""

    bot_id: int
    chat_id: int | None = None
    cooldown_seconds: int = 0
    # Telegram counts only the messages posted against a chat's own limits; any call naming the
    # chat (a delete, a read) still honours the chat's 429 pause.
    counted: bool = True

    @property
    def limited_chat(self) -> int | None:
        """The chat whose own limits this call takes a slot of (None: only the bot's)."""
        return self.chat_id if self.counted else None

    @property
    def is_private(self) -> bool:
        # Telegram's convention: users (private chats) are positive ids, groups and channels negative.
        return self.chat_id is not None and self.chat_id > 0


class Limiter:
    def __init__(self, redis: Redis, settings: Settings, *, margin: float = LIMIT_MARGIN) -> None:
        self.redis = redis
        self.prefix = settings.redis_prefix
        self.bot_ms = 1000.0 / settings.tg_bot_per_second * (1 + margin)
        self.group_ms = 60_000.0 / settings.tg_group_per_minute * (1 + margin)
        self.private_ms = 1000.0 / settings.tg_private_per_second * (1 + margin)
        self._script = redis.register_script(_SCRIPT)
        self._commit = redis.register_script(_COMMIT)
        self.bot_limit = settings.tg_bot_per_second
        self.group_limit = settings.tg_group_per_minute
        self.private_limit = settings.tg_private_per_second

    def pause_keys(self, target: Target) -> list[str]:
        keys = [f"{self.prefix}:tg:pause:bot:{target.bot_id}"]
        if target.chat_id is not None:
            keys.append(f"{self.prefix}:tg:pause:chat:{target.bot_id}:{target.chat_id}")
        return keys

    def rules(self, target: Target, *, bypass_cooldown: bool = False) -> list[Rule]:
        rules = [Rule(f"{self.prefix}:tg:gcra:bot:{target.bot_id}", self.bot_ms)]
        if target.limited_chat is None:
            return rules
        key = f"{self.prefix}:tg:gcra:chat:{target.bot_id}:{target.chat_id}"
        if target.is_private:
            rules.append(Rule(key, self.private_ms))
            return rules
        rules.append(Rule(key, self.group_ms))
        # The operator's cooldown is a key of its own so that a bypassing call can skip it
        # without skipping Telegram's 20/min (and without being counted against the cooldown).
        if target.cooldown_seconds * 1000.0 > self.group_ms and not bypass_cooldown:
            cooldown = f"{self.prefix}:tg:gcra:cooldown:{target.bot_id}:{target.chat_id}"
            rules.append(Rule(cooldown, target.cooldown_seconds * 1000.0))
        return rules

    async def reserve(self, target: Target, *, max_wait: float, bypass_cooldown: bool = False) -> Slot:
        """One atomic look at every key of the call; reserves the slot if it is within `max_wait`."""
        return await self._reserve(target, self.rules(target, bypass_cooldown=bypass_cooldown), max_wait)

    async def _reserve(
        self,
        target: Target,
        rules: list[Rule],
        max_wait: float,
        *,
        split: bool = False,
        not_before: float | None = None,
    ) -> Slot:
        pauses = self.pause_keys(target)
        after = -1.0 if not_before is None else not_before * 1000.0
        args: list[str | float | int] = [len(pauses), max_wait * 1000.0, after, int(split)]
        for rule in rules:
            args += [rule.interval_ms, rule.tolerance_ms]
        answer, wait_ms, paused, at_ms = await self._script(
            keys=[*pauses, *(r.key for r in rules)], args=args
        )
        code = int(answer)
        return Slot(
            code != 0,
            max(0.0, float(wait_ms)) / 1000.0,
            bool(int(paused)),
            float(at_ms) / 1000,
            chat_only=code == 2,
        )

    async def acquire(
        self, target: Target, *, max_wait: float = MAX_INLINE_WAIT, bypass_cooldown: bool = False
    ) -> Slot:
        """Wait for the call's slot and return it (call right away). Raises Reschedule when the slot
        (or a pause) is further than `max_wait` away, so the worker slot is not held idle.

        A call waiting for its own chat waits with the chat's slot alone, then for the bot's (each
        wait at most `max_wait`): meanwhile the bot's other chats are not held behind it. A bot's
        slot refused after the chat's came leaves that chat slot spent."""
        rules = self.rules(target, bypass_cooldown=bypass_cooldown)
        chat_turn: float | None = None  # the chat's slot, reserved alone (Redis time)
        while True:
            if chat_turn is None:
                slot = await self._reserve(target, rules, max_wait, split=True)
            else:
                slot = await self._reserve(target, rules[:1], max_wait, not_before=chat_turn)
            if not slot.granted and slot.wait > max_wait:
                why = "paused after a 429" if slot.paused else "next slot is far ahead"
                raise Reschedule(slot.wait, why)
            if slot.wait > 0:
                await asyncio.sleep(slot.wait)
            if slot.chat_only:
                chat_turn = slot.at
                continue
            if slot.granted and (slot.wait == 0 or await self.paused_for(target) == 0):
                return slot
            # Paused while we slept for our slot (a 429 elsewhere): that slot is given up, look again.

    def windows(self, target: Target) -> list[Window]:
        guard = 1 + WINDOW_GUARD
        base = f"{self.prefix}:tg:log"
        windows = [Window(f"{base}:bot:{target.bot_id}", 1000.0 * guard, self.bot_limit)]
        if target.limited_chat is not None:
            key = f"{base}:chat:{target.bot_id}:{target.chat_id}"
            if target.is_private:
                windows.append(Window(key, 1000.0 * guard, self.private_limit))
            else:
                windows.append(Window(key, 60_000.0 * guard, self.group_limit))
        return windows

    async def commit(self, target: Target) -> None:
        """Record the call about to be made; first wait while it would overfill a window."""
        windows = self.windows(target)
        args: list[str | float | int] = []
        for window in windows:
            args += [window.window_ms, window.limit]
        args.append(uuid.uuid4().hex)
        keys = [w.key for w in windows]
        while True:
            wait_ms = float(await self._commit(keys=keys, args=args))
            if wait_ms <= 0:
                return
            await asyncio.sleep(wait_ms / 1000.0)

    async def pause(self, target: Target, seconds: float, *, whole_bot: bool) -> None:
        """Stop every worker calling for this chat (and the whole bot if `whole_bot`) for `seconds`."""
        ms = max(1, math.ceil(seconds * 1000))
        keys = self.pause_keys(target)
        chosen = keys if whole_bot or len(keys) == 1 else keys[1:]
        async with self.redis.pipeline(transaction=True) as pipe:
            for key in chosen:
                # Never shorten a longer pause another worker already stored.
                pipe.set(key, "1", px=ms, nx=True)
                pipe.pexpire(key, ms, gt=True)
            await pipe.execute()

    async def paused_for(self, target: Target) -> float:
        """Seconds left of the longest pause on the bot or the chat (0: none)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in self.pause_keys(target):
                pipe.pttl(key)
            ttls = await pipe.execute()
        return max([0, *(int(t) for t in ttls)]) / 1000.0
