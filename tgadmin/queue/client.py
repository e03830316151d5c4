"""Our thin interface over BullMQ (Python port): enqueue jobs by `JobName`, nothing else leaks out.

Queue keys live under `settings.redis_prefix` (`{prefix}:{queue}:...`), so tests and several
deployments can share one Redis. Defaults: 3 attempts, exponential backoff from 1 s capped at
30 s (the cap is the worker's `capped-exponential` strategy), overridable per job. Enqueue only
after the commit that makes the job's data visible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bullmq import Job, Queue

from tgadmin.config import Settings
from tgadmin.errors import ConfigError
from tgadmin.queue.names import JobName, QueueName
from tgadmin.queue.recent import RecentReads

DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF_MS = 1_000
MAX_BACKOFF_MS = 30_000
BACKOFF_STRATEGY = "capped-exponential"
# Finished jobs are kept for the queue monitor, but not forever.
KEEP_COMPLETED = {"age": 24 * 3600, "count": 10_000}
KEEP_FAILED = {"age": 14 * 24 * 3600, "count": 50_000}
# BullMQ's connection retries a refused connection 20 times with backoff (minutes): an enqueue while
# Redis is down would hang the webhook, bot update or page that waits for it. Past this it fails
# with TimeoutError (an OSError, which every enqueue's caller already handles as "Redis refused").
ENQUEUE_TIMEOUT_S = 5.0


def backoff_delay(attempts_made: int, base_ms: int = DEFAULT_BACKOFF_MS) -> int:
    """Milliseconds before retry number `attempts_made`: base · 2^(n-1), capped at 30 s."""
    return int(min(MAX_BACKOFF_MS, base_ms * 2 ** max(0, attempts_made - 1)))


@dataclass(frozen=True)
class JobOptions:
    """Per-job overrides; `job_id` makes enqueueing idempotent (the same id is added only once)."""

    job_id: str | None = None
    attempts: int = DEFAULT_ATTEMPTS
    backoff_ms: int = DEFAULT_BACKOFF_MS
    delay_ms: int = 0
    priority: int | None = None

    def to_bullmq(self) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "attempts": self.attempts,
            "backoff": {"type": BACKOFF_STRATEGY, "delay": self.backoff_ms},
            "removeOnComplete": KEEP_COMPLETED,
            "removeOnFail": KEEP_FAILED,
        }
        if self.job_id is not None:
            if ":" in self.job_id:
                raise ValueError("job ids may not contain ':' (BullMQ uses it in keys)")
            opts["jobId"] = self.job_id
        if self.delay_ms:
            opts["delay"] = self.delay_ms
        if self.priority is not None:
            opts["priority"] = self.priority
        return opts


def connection_url(settings: Settings) -> str:
    url = settings.effective_redis_url
    if url is None:
        raise ConfigError("REDIS_URL: is required for queues but not set")
    return url


class QueuesClosed(ConnectionError):
    """A queue asked for after `Queues.close()`: refused like Redis being away (an OSError, which
    every enqueue's caller handles), rather than opening a connection nobody would close."""


class Queues:
    """The three queues of the product, opened lazily; `close()` at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = connection_url(settings)
        self.prefix = settings.redis_prefix
        self._queues: dict[QueueName, Queue] = {}
        self._closed = False
        # The monitor's reads shared by this process's pages (queue/recent.py); forgotten on enqueue.
        self.recent = RecentReads()

    def queue(self, name: QueueName) -> Queue:
        if self._closed:
            raise QueuesClosed(f"the {name} queue was asked for after the queues were closed")
        if name not in self._queues:
            self._queues[name] = Queue(str(name), {"connection": self.url, "prefix": self.prefix})
        return self._queues[name]

    async def enqueue(
        self, job: JobName, data: Mapping[str, Any], options: JobOptions | None = None, **overrides: Any
    ) -> str:
        """Add one job; returns its id. `overrides` are JobOptions fields (job_id=..., attempts=...)."""
        opts = _options(options, overrides)
        adding = self.queue(job.queue).add(str(job), dict(data), opts.to_bullmq())
        added: Job = await asyncio.wait_for(adding, ENQUEUE_TIMEOUT_S)
        self.recent.forget()
        return str(added.id)

    async def enqueue_many(
        self,
        job: JobName,
        items: Iterable[Mapping[str, Any]],
        options: JobOptions | None = None,
        **overrides: Any,
    ) -> list[str]:
        """Add many jobs of one type in one round trip (addBulk); ids in the same order.

        With `job_id_key="field"` each job's id is taken from that field of its data (idempotent)."""
        key = overrides.pop("job_id_key", None)
        base = _options(options, overrides)
        bulk = []
        for data in items:
            opts = base if key is None else _options(base, {"job_id": str(data[key])})
            bulk.append({"name": str(job), "data": dict(data), "opts": opts.to_bullmq()})
        if not bulk:
            return []
        added = await asyncio.wait_for(self.queue(job.queue).addBulk(bulk), ENQUEUE_TIMEOUT_S * 6)
        self.recent.forget()
        return [str(item.id) for item in added]

    async def close(self) -> None:
        """Close every queue opened (all of them, even when one fails); later use is refused.

        A shared read still running for a caller that went away (queue/recent.py) is stopped first:
        left running it would open the queues it had not reached yet, after this close."""
        self._closed = True
        await self.recent.close()
        queues, self._queues = list(self._queues.values()), {}
        closing = await asyncio.gather(*(queue.close() for queue in queues), return_exceptions=True)
        errors = [outcome for outcome in closing if isinstance(outcome, BaseException)]
        if errors:
            raise errors[0]


def _options(options: JobOptions | None, overrides: Mapping[str, Any]) -> JobOptions:
    base = options or JobOptions()
    return replace(base, **overrides) if overrides else base
