"""Bots and users: a bot's update queue, its webhook, the callback queries and payments it sees."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tgadmin.sandbox.state.payments import Charge, PreCheckout

MAX_KEPT_UPDATES = 100_000
# Updates a bot gets when it asks for none in particular (Telegram's default list).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Notifier:
    """Wakes coroutines (of any event loop) waiting for a bot's next update."""

    def __init__(self) -> None:
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def register(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.append((loop, future))
        return future

    def forget(self, future: asyncio.Future[None]) -> None:
        self._waiters = [(loop, fut) for loop, fut in self._waiters if fut is not future]

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_key: tuple[int, int]
    message_id: int
    data: str
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class Bot:
    user: User
    token: str
    webhook: Webhook | None = None
    allowed_updates: frozenset[str] | None = None
    updates: deque[dict[str, Any]] = field(default_factory=deque)
    next_update_id: int = 1
    poll_generation: int = 0
    notifier: Notifier = field(default_factory=Notifier)
    callback_queries: dict[str, CallbackQuery] = field(default_factory=dict)
    pre_checkouts: dict[str, PreCheckout] = field(default_factory=dict)
    charges: dict[str, Charge] = field(default_factory=dict)
    # The bot's Star transactions, oldest first, as getStarTransactions pages through them.
    star_transactions: list[dict[str, Any]] = field(default_factory=list)
    invoice_links: dict[str, dict[str, Any]] = field(default_factory=dict)
    commands: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.user.id

    def wants(self, kind: str) -> bool:
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in DEFAULT_EXCLUDED_UPDATES

    def push(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update for getUpdates or the webhook, if the bot asked for this kind."""
        if not self.wants(kind):
            return
        self.updates.append({"update_id": self.next_update_id, kind: payload})
        self.next_update_id += 1
        while len(self.updates) > MAX_KEPT_UPDATES:
            self.updates.popleft()
        self.notifier.notify()


def new_token_secret() -> str:
    return secrets.token_urlsafe(26)[:35]
