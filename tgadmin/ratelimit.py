"""Fixed-window counters for requests that must not be repeated too often (asking for a login link).

In Redis when one is configured, so every process behind the load balancer shares the count; one
Lua script checks and counts all the keys of a request at once, on Redis's clock. Without Redis
(a lone dashboard on the embedded defaults) the count is kept in the process.

Keys live under `settings.redis_prefix`: `{prefix}:rl:{key}`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from tgadmin.errors import ServiceUnavailable

# Returns the 1-based index of the first key already at its limit (nothing counted), or 0 (all counted).
_HIT = """
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i + 1]) then return i end
end
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
return 0
"""

# The in-process fallback forgets windows that ended once it holds this many keys.
_MAX_LOCAL_KEYS = 10_000


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits on `key` per window."""

    key: str
    limit: int


class FixedWindows:
    def __init__(self, redis: Redis | None, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._script = redis.register_script(_HIT) if redis is not None else None
        self._local: dict[str, tuple[float, int]] = {}  # key -> (window end, hits)

    async def hit(self, limits: Sequence[Limit], window_seconds: float) -> Limit | None:
        """Count one hit on every key, unless one of them is at its limit: then count nothing and
        return that limit. A window starts at a key's first hit and lasts `window_seconds`."""
        if self._script is None:
            return self._hit_local(limits, window_seconds)
        keys = [f"{self.prefix}:rl:{limit.key}" for limit in limits]
        try:
            refused = int(
                await self._script(
                    keys=keys, args=[int(window_seconds * 1000), *(limit.limit for limit in limits)]
                )
            )
        except RedisError as error:
            raise ServiceUnavailable(f"redis: {error or type(error).__name__}") from None
        return limits[refused - 1] if refused else None

    def _hit_local(self, limits: Sequence[Limit], window_seconds: float) -> Limit | None:
        now = time.monotonic()
        if len(self._local) > _MAX_LOCAL_KEYS:
            self._local = {key: entry for key, entry in self._local.items() if entry[0] > now}
        counts = {limit.key: self._local.get(limit.key, (now, 0)) for limit in limits}
        for limit in limits:
            ends, hits = counts[limit.key]
            if ends > now and hits >= limit.limit:
                return limit
        for key, (ends, hits) in counts.items():
            self._local[key] = (ends, hits + 1) if ends > now else (now + window_seconds, 1)
        return None
