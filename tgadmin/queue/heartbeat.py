"""Workers say they are alive through Redis: each refreshes its own key every few seconds with a
short expiry, so a worker that died (or lost Redis) drops off the list by itself within the TTL.
The dashboard's queue monitor lists the keys it finds."""

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


def _key(prefix: str, worker_id: str = "*") -> str:
    return f"{prefix}:workers:{worker_id}"


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
    fresh = WorkerBeat(**{**asdict(info), "seen_at": datetime.now(UTC).isoformat(timespec="seconds")})
    await redis.set(_key(prefix, info.worker_id), json.dumps(asdict(fresh)), ex=TTL_SECONDS)


async def stopped(redis: Redis, prefix: str, worker_id: str) -> None:
    """A worker stopping on purpose leaves the list at once."""
    await redis.delete(_key(prefix, worker_id))


async def alive(redis: Redis, prefix: str) -> list[WorkerBeat]:
    """The workers whose last beat is within the TTL, by host and pid."""
    keys = [key async for key in redis.scan_iter(match=_key(prefix), count=500)]
    found: list[WorkerBeat] = []
    for raw in await redis.mget(keys) if keys else []:
        if raw is None:
            continue  # expired between the scan and the read
        try:
            found.append(WorkerBeat(**json.loads(raw)))
        except (ValueError, TypeError):
            continue  # a key of another version; it expires on its own
    return sorted(found, key=lambda beat: (beat.host, beat.pid))
