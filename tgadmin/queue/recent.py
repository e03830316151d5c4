"""What this process read of the queues' state in the last second, shared by its callers.

The queue monitor page is open on many operators' screens and each asks for the same counts and
failed jobs every few seconds: one read of Redis a second serves them all, and callers arriving
while it runs wait for it rather than start their own. What this process changes itself (an
enqueue, a retry, a removal) forgets what was kept, so its own next page shows the change; what
workers and other processes change shows within the second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

T = TypeVar("T")

FRESH_SECONDS = 1.0


class RecentReads:
    def __init__(self, seconds: float = FRESH_SECONDS) -> None:
        self.seconds = seconds
        self._kept: dict[Hashable, tuple[float, asyncio.Future[Any]]] = {}

    async def get(self, key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
        """`read()`'s answer, from a read started less than `seconds` ago under `key` if any."""
        now = time.monotonic()
        kept = self._kept.get(key)
        if (
            kept is None
            or now - kept[0] >= self.seconds
            or kept[1].cancelled()
            # A read made in another event loop (a test's, a thread's) cannot be awaited in this one.
            or kept[1].get_loop() is not asyncio.get_running_loop()
        ):
            kept = (now, asyncio.ensure_future(read()))
            self._kept[key] = kept
        try:
            # Shielded: a caller that goes away (a closed connection) does not cancel the others' read.
            return cast(T, await asyncio.shield(kept[1]))
        except Exception:
            if self._kept.get(key) is kept:
                del self._kept[key]  # a failed read is not kept: the next caller tries again
            raise

    def forget(self) -> None:
        self._kept.clear()

    async def close(self) -> None:
        """Stop the reads still running (shielded from their callers, they outlive them) and wait
        for them to end, so that none runs on after what it reads from is closed."""
        loop = asyncio.get_running_loop()
        # A read of another event loop (a test's, a thread's) is that loop's to finish.
        running = [f for _, f in self._kept.values() if not f.done() and f.get_loop() is loop]
        self._kept.clear()
        for future in running:
            future.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
