"""Idempotent sends: a per-job record in Redis written around the Telegram call.

    absent                  never attempted (or Telegram answered with an error): send
    "pending"               the request may be on its way: do NOT send again
    "sent:{chat}:{ids}"     Telegram accepted it (one message, or an album's ids comma-separated):
                            record what was posted from here, do not send

A job redelivered after a worker crash (kill -9, lost lock) or retried after a later failure
(the database commit, say) finds "sent:..." and only records what was already posted.

"pending" is written by the gateway right before the HTTP request, after the limiter granted the
slot (a limiter wait or a cancel there leaves no mark). The window that remains, honestly: the
worker dies, or the request times out, while it is in flight. Then nobody can know whether Telegram
posted it: bots cannot read chat history. We choose at-most-once: the job fails with "outcome
unknown", and an operator looks at the chat and decides. Records expire after 7 days and vanish
with a Redis that restarts without persistence, so a caller whose sends must never repeat keeps
what arrived in its database too (deliver-purchase does: `Purchase.delivered_steps`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

TTL_SECONDS = 7 * 24 * 3600
PENDING = "pending"


@dataclass(frozen=True)
class SendRecord:
    pending: bool = False
    chat_id: int | None = None
    message_ids: tuple[int, ...] = ()

    @property
    def sent(self) -> bool:
        return bool(self.message_ids)

    @property
    def message_id(self) -> int | None:
        """The message posted (the first of an album)."""
        return self.message_ids[0] if self.message_ids else None


def _parse(raw: bytes | str | None) -> SendRecord | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    if text == PENDING:
        return SendRecord(pending=True)
    _, chat, messages = text.split(":")
    return SendRecord(chat_id=int(chat), message_ids=tuple(int(m) for m in messages.split(",")))


class SendLedger:
    """The records of one job; also the gateway's CallGuard for that job's send."""

    def __init__(self, redis: Redis, prefix: str, job_key: str) -> None:
        self.redis = redis
        self.key = f"{prefix}:send:{job_key}"

    async def read(self) -> SendRecord | None:
        return _parse(await self.redis.get(self.key))

    async def before(self) -> None:
        if not await self.redis.set(self.key, PENDING, ex=TTL_SECONDS, nx=True):
            raise SendInFlight(self.key)

    async def succeeded(self, result: Any) -> None:
        # One message, or an album's messages (sendMediaGroup answers with a list).
        messages = result if isinstance(result, list) else [result]
        ids = ",".join(str(m.message_id) for m in messages)
        await self.redis.set(self.key, f"sent:{messages[0].chat.id}:{ids}", ex=TTL_SECONDS)

    async def not_done(self) -> None:
        await self.redis.delete(self.key)

    async def forget(self) -> None:
        """Drop the record (an operator decided what became of a send in doubt)."""
        await self.redis.delete(self.key)


class SendInFlight(Exception):
    """Another delivery of the same job is sending right now (a redelivered job whose first
    worker is still alive): this one must not send."""
