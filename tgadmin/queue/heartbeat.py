"""Workers say they are alive through Redis: each refreshes its own key every few seconds with a
short expiry, so a worker that died (or lost Redis) drops off the list by itself within the TTL.

The dashboard's queue monitor finds those keys through one sorted set of worker ids scored by their
last beat, not by scanning the keyspace: with 100,000 jobs in Redis a SCAN MATCH took hundreds of
round trips a page view (bench/dashboard.py, queue monitor p50 21 -> 513 ms). The set is only an
index: whether a worker is alive is said by its key, which Redis expires on its own clock, so the
workers' clocks need not agree. Each beat trims ids not seen for STALE_SECONDS (workers that died
without saying so), which keeps the set as small as the workers of the last hour."""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from redis.asyncio import Redis

BEAT_SECONDS = 10.0
# Three missed beats and the worker is gone from the list.
TTL_SECONDS = 30
# Far beyond the TTL, so that a machine whose clock is behind the others' keeps its entry.
STALE_SECONDS = 3600


def _key(prefix: str, worker_id: str) -> str:
    return f"{prefix}:workers:{worker_id}"


def _index(prefix: str) -> str:
    return f"{prefix}:workers"


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class WorkerBeat:
    worker_id: str
    host: str
    pid: int
    queues: list[str]
    concurrency: int
    started_at: str
    seen_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    metrics_port: int | None = None

    @property
    def seen(self) -> datetime:
        return datetime.fromisoformat(self.seen_at)

    @property
    def started(self) -> datetime | None:
        return datetime.fromisoformat(self.started_at) if self.started_at else None


async def beat(redis: Redis, prefix: str, info: WorkerBeat) -> None:
    """Say the worker is alive for the next TTL_SECONDS."""
    now = datetime.now(UTC)
    fresh = WorkerBeat(**{**asdict(info), "seen_at": now.isoformat(timespec="seconds")})
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(_key(prefix, info.worker_id), json.dumps(asdict(fresh)), ex=TTL_SECONDS)
        pipe.zadd(_index(prefix), {info.worker_id: now.timestamp()})
        pipe.zremrangebyscore(_index(prefix), "-inf", now.timestamp() - STALE_SECONDS)
        await pipe.execute()


async def stopped(redis: Redis, prefix: str, worker_id: str) -> None:
    """A worker stopping on purpose leaves the list at once."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(_key(prefix, worker_id))
        pipe.zrem(_index(prefix), worker_id)
        await pipe.execute()


async def alive(redis: Redis, prefix: str) -> list[WorkerBeat]:
    """The workers whose last beat is within the TTL, by host and pid: two round trips, whatever
    else Redis holds."""
    ids = await redis.zrange(_index(prefix), 0, -1)
    found: list[WorkerBeat] = []
    for raw in await redis.mget([_key(prefix, _text(id_)) for id_ in ids]) if ids else []:
        if raw is None:
            continue  # no beat within the TTL: died, or lost Redis
        try:
            found.append(WorkerBeat(**json.loads(raw)))
        except (ValueError, TypeError):
            continue  # a key of another version; it expires on its own
    return sorted(found, key=lambda beat: (beat.host, beat.pid))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
