"""What the work on each purchase of a sweep (or of one `revoke-access` job) shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.errors import NotFound
from tgadmin.subscription import repository
from tgadmin.subscription.repository import Subscription
from tgadmin.subscription.service import SweepSummary
from tgadmin.telegram.gateway import Gateway

Commit = Callable[[], Awaitable[None]]


@dataclass
class SweepContext:
    """The session and the gateway; `commit` ends a unit of work; the sweep's clock and tally."""

    session: AsyncSession
    gateway: Gateway
    commit: Commit
    now: datetime
    batch_size: int
    summary: SweepSummary
    _default_bot: int | None = field(default=None, init=False)

    async def bot_for(self, sub: Subscription) -> int:
        """The bot that delivered the purchase, else the first active one (looked up once)."""
        if sub.purchase.bot_id is not None:
            return sub.purchase.bot_id
        if self._default_bot is None:
            self._default_bot = await repository.default_bot_id(self.session)
        if self._default_bot is None:
            raise NotFound("no active bot account: register one (TELEGRAM_BOT_TOKEN or the Settings page)")
        return self._default_bot
