"""Long polling (`tgadmin bot --polling`) that never confirms a payment update it did not handle.

getUpdates confirms every update below the `offset` it is called with, and Telegram never gives a
confirmed update again. aiogram's own polling moves the offset past an update before handling it
and swallows the handler's error, so a `successful_payment` that failed to be recorded would be
gone, with the buyer's Stars taken. Here, as on the webhook, other updates are handed to the
background at once, while a payment update is handled and committed first; when that fails the
offset stays on it, and after a pause getUpdates gives it (and everything after it) again.

An update that keeps failing would hold every later update of the bot back, so after
`GIVE_UP_AFTER` attempts (about a minute and a half of pauses) it is let go, loudly, as Telegram
lets go of a webhook update it could not deliver: the `stars-reconcile` job still records a
payment Telegram took (a pre-checkout query has long expired by then, and took nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.methods import GetUpdates
from aiogram.types import Update

from tgadmin.bot.dispatcher import ALLOWED_UPDATES
from tgadmin.bot.middlewares import is_payment_update
from tgadmin.bot.server import BotService, LiveBot
from tgadmin.logs import redact

log = logging.getLogger(__name__)

POLL_TIMEOUT = 30
# Pause after a failed getUpdates or an unhandled payment update: doubling up to the maximum.
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 30.0
GIVE_UP_AFTER = 8


async def poll_bot(
    service: BotService, live: LiveBot, stop: asyncio.Event, *, give_up_after: int = GIVE_UP_AFTER
) -> None:
    """getUpdates for one bot until `stop`; see the module docstring."""
    offset = 0
    delay = 0.0
    failures = _Failures(give_up_after)
    while not stop.is_set():
        if delay:
            await _sleep_unless_stopped(stop, delay)
            if stop.is_set():
                break
        try:
            updates = await _next_updates(live, offset, stop)
        except (TelegramAPIError, OSError, TimeoutError) as error:
            log.error("getUpdates for @%s failed: %s", live.username, redact(str(error)))
            delay = _longer(delay)
            continue
        if updates is None:
            break
        offset, handled = await _handle(service, live, updates, offset, failures)
        delay = 0.0 if handled else _longer(delay)
    await _confirm(live, offset)


class _Failures:
    """How many times in a row the update the offset is held on has failed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.update_id: int | None = None
        self.count = 0

    def failed(self, update_id: int) -> bool:
        """Count a failure; True while the update is still worth asking for again."""
        self.count = self.count + 1 if self.update_id == update_id else 1
        self.update_id = update_id
        return self.count < self.limit


async def _handle(
    service: BotService, live: LiveBot, updates: list[Update], offset: int, failures: _Failures
) -> tuple[int, bool]:
    """Hand the updates over in order; returns the next offset and whether all were handled."""
    for update in updates:
        if not is_payment_update(update):
            service.dispatch(live, update)
        elif not await service.handle_now(live, update):
            name, update_id = live.username, update.update_id
            if failures.failed(update_id):
                log.warning("payment update %s of @%s not handled: asking for it again", update_id, name)
                return offset, False
            log.error(
                "payment update %s of @%s failed %d times: let go; stars-reconcile records a payment "
                "Telegram took",
                update_id,
                name,
                failures.count,
            )
        offset = update.update_id + 1
    return offset, True


async def _next_updates(live: LiveBot, offset: int, stop: asyncio.Event) -> list[Update] | None:
    """The next updates from `offset` (waiting up to POLL_TIMEOUT); None once `stop` is set."""
    method = GetUpdates(offset=offset or None, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES)
    call = asyncio.create_task(live.client(method, request_timeout=POLL_TIMEOUT + 15))
    stopped = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({call, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not call.done():
        call.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await call
        return None
    return call.result()


async def _confirm(live: LiveBot, offset: int) -> None:
    """At shutdown, tell Telegram which updates were handled, so a restart does not get them again."""
    if not offset:
        return
    try:
        await live.client(GetUpdates(offset=offset, limit=1, timeout=0))
    except (TelegramAPIError, OSError, TimeoutError) as error:
        log.warning("could not confirm the updates of @%s: %s", live.username, redact(str(error)))


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _longer(delay: float) -> float:
    return min(MAX_RETRY_SECONDS, delay * 2 or FIRST_RETRY_SECONDS)
