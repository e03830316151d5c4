"""The `World`: everything the sandbox knows, its lock, its clock, its rate config and forced 429s."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from tgadmin.sandbox.limits import SlidingWindowLimiter
from tgadmin.sandbox.state.bots import Bot, User
from tgadmin.sandbox.state.chats import Chat, ChatType, StoredFile
from tgadmin.sandbox.state.members import PRESENT, Member, MemberStatus

MAX_KEPT_CALLS = 200_000


class Clock:
    """Wall time plus an offset that only grows: `advance` moves every rule that reads the clock.
    Frozen, it stands still until advanced or thawed (tests that check a limit to the second)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.frozen_at: float | None = None

    def now(self) -> float:
        return self.frozen_at if self.frozen_at is not None else time.time() + self.offset

    def advance(self, seconds: float) -> None:
        if self.frozen_at is not None:
            self.frozen_at += seconds
        self.offset += seconds

    def freeze(self, frozen: bool) -> None:
        if frozen and self.frozen_at is None:
            self.frozen_at = self.now()
        elif not frozen and self.frozen_at is not None:
            # Thawed, it goes on from where it stood: time never runs backwards.
            self.offset = max(self.offset, self.frozen_at - time.time())
            self.frozen_at = None


@dataclass
class RateConfig:
    per_chat_per_sec: int = 1
    per_group_per_min: int = 20
    per_bot_per_sec: int = 30
    enforce_limits: bool = True
    # How long webhook delivery waits for the bot's answer before it counts the update as failed.
    webhook_timeout_seconds: float = 30.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "per_chat_per_sec": self.per_chat_per_sec,
            "per_group_per_min": self.per_group_per_min,
            "per_bot_per_sec": self.per_bot_per_sec,
            "enforce_limits": self.enforce_limits,
            "webhook_timeout_seconds": self.webhook_timeout_seconds,
        }


@dataclass
class ForcedFlood:
    """The next `count` calls of `method` (made by `bot_id`, naming `chat_id`, when given) answer 429
    with `retry_after`, as Telegram does for any method when it sees a flood of its own reckoning."""

    method: str  # lower-cased, as methods are looked up
    retry_after: int
    count: int
    bot_id: int | None = None
    chat_id: int | None = None

    def matches(self, method: str, bot_id: int, chat_id: int | None) -> bool:
        return (
            self.count > 0
            and self.method == method
            and self.bot_id in (None, bot_id)
            and (self.chat_id is None or self.chat_id == chat_id)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "retry_after": self.retry_after,
            "count": self.count,
            "bot_id": self.bot_id,
            "chat_id": self.chat_id,
        }


class World:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._fill()

    def reset(self) -> None:
        """Forget everything (bots, users, chats, calls, clock offset, limits, forced 429s); long polls
        end empty."""
        with self.lock:
            for bot in self.bots.values():
                bot.notifier.notify()
            self._fill()

    def _fill(self) -> None:
        self.clock = Clock()
        self.config = RateConfig()
        self.limiter = SlidingWindowLimiter()
        self.floods: list[ForcedFlood] = []
        self.bots: dict[int, Bot] = {}
        self.tokens: dict[str, Bot] = {}
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.private: dict[tuple[int, int], Chat] = {}
        self.files: dict[str, StoredFile] = {}
        self.calls: deque[dict[str, Any]] = deque(maxlen=MAX_KEPT_CALLS)
        self.call_seq = 0
        self.next_user_id = 1_000_000_001
        self.next_bot_id = 7_000_000_001
        self.next_group_id = 4_000_000_001
        self.next_supergroup_id = 1_002_000_000_001

    def now(self) -> int:
        return int(self.clock.now())

    def user(self, user_id: int) -> User | None:
        bot = self.bots.get(user_id)
        return bot.user if bot else self.users.get(user_id)

    def chat_for(self, bot: Bot, chat_id: int) -> Chat | None:
        """The chat `chat_id` names for this bot: its private chat with a user, or a group."""
        if chat_id > 0:
            return self.private.get((bot.id, chat_id))
        return self.chats.get(chat_id)

    def chat_by_key(self, key: tuple[int, int]) -> Chat | None:
        return self.private.get(key) if key[0] else self.chats.get(key[1])

    def private_chat(self, bot: Bot, user: User) -> Chat:
        chat = self.private.get((bot.id, user.id))
        if chat is None:
            chat = Chat(user.id, ChatType.PRIVATE, bot_id=bot.id)
            chat.members = {
                user.id: Member(user.id, MemberStatus.MEMBER),
                bot.id: Member(bot.id, MemberStatus.MEMBER),
            }
            self.private[(bot.id, user.id)] = chat
        return chat

    def new_file(self, kind: str, data: bytes | None, **fields: Any) -> StoredFile:
        prefix = {"photo": "AgACAgIAAxkBAA", "video": "BAACAgIAAxkBAA", "document": "BQACAgIAAxkBAA"}[kind]
        stored = StoredFile(
            prefix + secrets.token_urlsafe(24), "AQAD" + secrets.token_urlsafe(9), kind, data, **fields
        )
        self.files[stored.file_id] = stored
        return stored

    def record_call(self, entry: dict[str, Any]) -> None:
        self.call_seq += 1
        self.calls.append({"seq": self.call_seq, **entry})

    def bots_in(self, chat: Chat) -> list[Bot]:
        """The bots present in a chat, who see what is posted there."""
        if chat.type == ChatType.PRIVATE:
            bot = self.bots.get(chat.bot_id or 0)
            return [bot] if bot else []
        return [self.bots[uid] for uid, m in chat.members.items() if uid in self.bots and m.status in PRESENT]
