"""Telegram's sending limits as a sliding-window log, exact enough to referee benchmarks.

Each key (the bot; the bot in one chat) keeps the times of the calls it accepted. A call at time
`t` is accepted when fewer than `rate` accepted calls lie in `(t - window, t]`; so no half-open
window of that length ever holds more than `rate` accepted calls, and up to `rate` are always
accepted. A refused call is not recorded, and its `retry_after` is the whole number of seconds
after which the oldest call in the way leaves the window (at least 1): waiting exactly that long
is always enough. Time is the sandbox clock, so tests move it instead of sleeping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    key: Hashable
    rate: int
    window: float


MICROS = 1_000_000


class SlidingWindowLimiter:
    """Times are kept in whole microseconds so that "wait retry_after, then it passes" holds exactly."""

    def __init__(self) -> None:
        self._log: dict[Hashable, deque[int]] = {}

    def _entries(self, rule: Rule, now: int) -> deque[int]:
        entries = self._log.setdefault(rule.key, deque())
        window = round(rule.window * MICROS)
        while entries and entries[0] <= now - window:
            entries.popleft()
        return entries

    def _wait(self, rule: Rule, now: int) -> int:
        entries = self._entries(rule, now)
        if len(entries) < rule.rate:
            return 0
        # The call is accepted once all but rate-1 of the logged calls have left the window.
        blocking = entries[len(entries) - rule.rate]
        remaining = blocking + round(rule.window * MICROS) - now
        return max(1, -(-remaining // MICROS))

    def wait_for(self, rule: Rule, now: float) -> int:
        """Seconds to wait before `rule` accepts a call at `now` (0: accepted now)."""
        return self._wait(rule, round(now * MICROS))

    def acquire(self, rules: Sequence[Rule], now: float) -> int:
        """Record the call under every rule and return 0, or return the retry_after of the refusal."""
        micros = round(now * MICROS)
        retry_after = max((self._wait(rule, micros) for rule in rules), default=0)
        if retry_after:
            return retry_after
        for rule in rules:
            self._entries(rule, micros).append(micros)
        return 0

    def clear(self) -> None:
        self._log.clear()
