"""The one path for every Bot API call made by workers.

`Gateway.call` (a) waits for a slot from the shared limiter (per bot, per chat, the group's
cooldown, any 429 pause), (b) makes the call, (c) classifies a failure and acts on it:

  429             on any method: pause the chat the call named (and the bot, for short waits in a
                  group; the bot alone when no chat was named) for `retry_after` in Redis, so every worker on
                  every machine honours it, on every call naming that chat or bot; raise
                  `Reschedule` (no attempt spent)
  migrated        report it (`events.chat_migrated`, which moves the group to its supergroup id) and
                  call again
  deactivation    report it: group: `events.chat_gone`; private chat: `events.user_blocked`
  not enough      report it (`events.rights_missing`: counted on the group, never deactivates;
  rights          repeated ones alert)
  anything else   raise `TelegramCallError` with the class (permanent / done / recoverable) for the
                  job to decide; the worker turns recoverable into a retry with backoff.

Each report goes through `GatewayEvents` (telegram/events.py) with the caller's session: the
domains flush what they change, the job wrapper commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramUnauthorizedError
from aiogram.methods import TelegramMethod
from aiohttp import ClientConnectorError
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin import metrics
from tgadmin.config import Settings
from tgadmin.logs import log_context
from tgadmin.models import Group
from tgadmin.telegram.client import BotClients
from tgadmin.telegram.errors import Classified, ErrorClass, Reason, Reschedule, TelegramCallError, classify
from tgadmin.telegram.events import GatewayEvents
from tgadmin.telegram.limiter import MAX_INLINE_WAIT, Limiter, Target

log = logging.getLogger(__name__)
T = TypeVar("T")

# Which pause a 429 stores. Telegram does not say which window refused the call, so we judge:
# - no chat named: only the bot's limits apply -> pause the bot.
# - a private chat (positive id): most likely that chat's 1 msg/s. Our limiter spaces the bot's
#   sends 3 % under 30/s with a sliding-window check right before each call, so the bot's own
#   window is rarely the one; a chat's window is (bench/RESULTS.md 2026-11-30: a delivery's text
#   then album into one chat, and a checkout's two messages, earned every 429 seen, with the bot far
#   under 30/s). Pausing the bot for it stalled every other buyer's chat for a second -> pause that
#   chat only. Should the bot's window refuse, the next call into another chat gets its own 429 and
#   pauses its chat: a few extra 429s, not a stalled bot.
# - a group, short wait (<= BOT_PAUSE_MAX_SECONDS): a per-second window, possibly the bot's, and a
#   group's 20/min would ask for longer -> pause the bot too, briefly, to stop the herd.
# - a group, longer wait: the group's minute window -> only that chat; other groups go on.
BOT_PAUSE_MAX_SECONDS = 2
MAX_MIGRATIONS = 2


class CallGuard(Protocol):
    """Written around the HTTP call itself (after the slot is granted), e.g. a send's idempotency
    record: `before` right before the request, then exactly one of `succeeded` / `not_done`.
    Neither follows when the outcome is unknown (timeout, crash): the guard keeps saying so."""

    async def before(self) -> None: ...

    async def succeeded(self, result: Any) -> None: ...

    async def not_done(self) -> None: ...


def _surely_not_sent(error: BaseException) -> bool:
    """Telegram answered (any error answer), or we never connected: the call had no effect."""
    if isinstance(error, TelegramNetworkError | TimeoutError | OSError):
        return isinstance(error.__cause__, ClientConnectorError) or isinstance(error, ClientConnectorError)
    return True


@dataclass
class Gateway:
    settings: Settings
    redis: Redis
    clients: BotClients
    events: GatewayEvents
    limiter: Limiter
    max_inline_wait: float = MAX_INLINE_WAIT

    @classmethod
    def create(cls, settings: Settings, redis: Redis, clients: BotClients, events: GatewayEvents) -> Gateway:
        return cls(settings, redis, clients, events, Limiter(redis, settings))

    async def call(
        self,
        session: AsyncSession,
        method: TelegramMethod[T],
        *,
        bot_id: int,
        group: Group | None = None,
        bypass_rate_limit: bool = False,
        guard: CallGuard | None = None,
    ) -> T:
        """Call `method` as bot `bot_id`, within every limit, acting on Telegram's answer.

        `group` is the chat's Group row when the chat is a known group (its cooldown is applied and
        it is updated on migration, deactivation and rights errors). `bypass_rate_limit` skips the
        operator's cooldown only: Telegram's own limits are never bypassed (that only earns 429s).
        """
        with log_context(bot_id=bot_id, chat_id=chat_of(method)):
            return await self._call(session, method, bot_id, group, bypass_rate_limit, guard)

    async def _call(
        self,
        session: AsyncSession,
        method: TelegramMethod[T],
        bot_id: int,
        group: Group | None,
        bypass_rate_limit: bool,
        guard: CallGuard | None,
    ) -> T:
        for _ in range(MAX_MIGRATIONS + 1):
            target = self._target(method, bot_id, group)
            with metrics.timed(metrics.LIMITER_WAIT):
                await self.limiter.acquire(
                    target, max_wait=self.max_inline_wait, bypass_cooldown=bypass_rate_limit
                )
            client = await self.clients.get(bot_id)
            await self.limiter.commit(target)
            # Only now, with nothing left between it and the request: a limiter that sleeps, a job
            # cancelled meanwhile, or Redis or the database restarting must not leave the guard
            # saying "maybe sent".
            if guard is not None:
                await guard.before()
            try:
                result = await client(method)
            except (TelegramAPIError, TimeoutError, OSError) as error:
                if guard is not None and _surely_not_sent(error):
                    await guard.not_done()
                classified = classify(error)
                metrics.TELEGRAM_CALLS.labels(_name(method), classified.kind.value).inc()
                if isinstance(error, TelegramUnauthorizedError):
                    await self.clients.forget(bot_id)
                group = await self._act(session, classified, method, chat_of(method), bot_id, group)
                method = method.model_copy(update={"chat_id": classified.migrate_to_chat_id})
                continue
            metrics.TELEGRAM_CALLS.labels(_name(method), "ok").inc()
            if guard is not None:
                await guard.succeeded(result)
            if group is not None:
                await self.events.call_succeeded(session, group)
            return result
        raise TelegramCallError(
            Classified(ErrorClass.PERMANENT, Reason.MIGRATED, "chat migrated more than once"), _name(method)
        )

    def _target(self, method: TelegramMethod[Any], bot_id: int, group: Group | None) -> Target:
        # Telegram's per-chat limits count messages posted; deletes and reads only share the bot's.
        # Every call naming a chat still waits out that chat's 429 pause: a delete sent into it
        # would earn another 429 (Telegram answers 429 to any method).
        chat, sending = chat_of(method), is_sending(method)
        cooldown = (
            group.cooldown_seconds if sending and group is not None and group.telegram_id == chat else 0
        )
        return Target(bot_id, chat, cooldown, counted=sending)

    async def _act(
        self,
        session: AsyncSession,
        classified: Classified,
        method: TelegramMethod[Any],
        chat_id: int | None,
        bot_id: int,
        group: Group | None,
    ) -> Group | None:
        """Act on a failure; returns (only for a migration, to call again) the group to continue with."""
        name = _name(method)
        target = Target(bot_id, chat_id)
        if classified.kind is ErrorClass.RETRY_AFTER:
            seconds = float(classified.retry_after or 1)
            await self.limiter.pause(target, seconds, whole_bot=pauses_whole_bot(target, seconds))
            metrics.TELEGRAM_429.labels(name).inc()
            metrics.TELEGRAM_PAUSE_SECONDS.inc(seconds)
            log.warning("429 on %s for bot %s chat %s: paused %.0fs", name, bot_id, chat_id, seconds)
            raise Reschedule(seconds, f"Telegram asked to retry after {seconds:.0f}s")
        if classified.kind is ErrorClass.MIGRATED and classified.migrate_to_chat_id is not None:
            if chat_id is None:
                raise TelegramCallError(classified, name)
            moved = await self.events.chat_migrated(session, bot_id, chat_id, classified.migrate_to_chat_id)
            log.info("chat %s migrated to %s; following", chat_id, classified.migrate_to_chat_id)
            return moved if moved is not None else group
        if classified.kind is ErrorClass.DEACTIVATION:
            await self._deactivate(session, classified, target)
        elif classified.reason is Reason.NOT_ENOUGH_RIGHTS and group is not None:
            await self.events.rights_missing(session, group, classified.description)
        raise TelegramCallError(classified, name)

    async def _deactivate(self, session: AsyncSession, classified: Classified, target: Target) -> None:
        if target.chat_id is None:
            return
        if target.is_private:
            await self.events.user_blocked(session, target.chat_id)
            log.info("user %s: %s; marked as having blocked the bot", target.chat_id, classified.reason)
            return
        await self.events.chat_gone(session, target.bot_id, target.chat_id, classified.description)


def pauses_whole_bot(target: Target, seconds: float) -> bool:
    """Which pause a 429 of `seconds` on a call to `target` stores (the reasoning above
    BOT_PAUSE_MAX_SECONDS): the whole bot's, or only the chat's."""
    return target.chat_id is None or (not target.is_private and seconds <= BOT_PAUSE_MAX_SECONDS)


def chat_of(method: TelegramMethod[Any]) -> int | None:
    """The chat a Bot API call names (None: no chat, or a channel's @username)."""
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int) else None


def is_sending(method: TelegramMethod[Any]) -> bool:
    name = _name(method)
    return name.startswith("send") or name in {
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }


def _name(method: TelegramMethod[Any]) -> str:
    return str(method.__api_method__)
