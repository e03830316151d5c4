"""The sandbox's world, in memory: bots, users, chats, messages, files, updates and the clock.

One `World` per app; every read and write happens under `world.lock` without awaiting inside it,
so a Bot API call and a control call never see each other half-done.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tgadmin.sandbox.limits import SlidingWindowLimiter

HOURS_48 = 48 * 3600
MAX_KEPT_UPDATES = 100_000
MAX_KEPT_CALLS = 200_000
# Updates a bot gets when it asks for none in particular (Telegram's default list).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class MemberStatus(StrEnum):
    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    RESTRICTED = "restricted"
    LEFT = "left"
    KICKED = "kicked"


PRESENT = frozenset({MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR, MemberStatus.MEMBER})

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_pin_messages",
    "can_manage_topics",
)
CHANNEL_ADMIN_RIGHTS = ("can_post_messages", "can_edit_messages")
MEMBER_PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)


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
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes | None
    mime_type: str | None = None
    file_name: str | None = None
    width: int = 0
    height: int = 0
    url: str | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else 0


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
class PreCheckout:
    id: str
    user_id: int
    invoice: dict[str, Any]
    future: asyncio.Future[tuple[bool, str | None]] | None = None
    answered: bool = False


@dataclass
class Charge:
    charge_id: str
    user_id: int
    amount: int
    payload: str
    chat_key: tuple[int, int]
    refunded: bool = False


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


@dataclass
class Member:
    user_id: int
    status: MemberStatus
    rights: dict[str, bool] = field(default_factory=dict)
    until_date: int = 0

    def right(self, name: str) -> bool:
        if self.status == MemberStatus.CREATOR:
            return True
        if self.status == MemberStatus.ADMINISTRATOR:
            return self.rights.get(name, False)
        if self.status == MemberStatus.RESTRICTED:
            return self.rights.get(name, True)
        return self.status == MemberStatus.MEMBER


@dataclass
class InviteLink:
    link: str
    creator_id: int
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    creates_join_request: bool = False
    is_revoked: bool = False
    joined: int = 0


@dataclass
class Message:
    message_id: int
    chat: Chat
    date: int
    sender_id: int | None
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    media: StoredFile | None = None
    media_group_id: str | None = None
    reply_markup: dict[str, Any] | None = None
    protect_content: bool = False
    invoice: dict[str, Any] | None = None
    service: dict[str, Any] = field(default_factory=dict)
    edit_date: int | None = None
    deleted_at: int | None = None
    paid_by: list[int] = field(default_factory=list)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    owner_id: int | None = None
    bot_id: int | None = None  # private chats only: the bot at the other end
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1
    migrated_to: int | None = None
    migrated_from: int | None = None
    invite_links: dict[str, InviteLink] = field(default_factory=dict)
    blocked: bool = False  # private chats only: the user blocked the bot

    @property
    def key(self) -> tuple[int, int]:
        """Private chats are per bot (same id, the user's, for every bot); other chats are global."""
        return (self.bot_id or 0, self.id)

    @property
    def kind_word(self) -> str:
        return "group" if self.type == ChatType.GROUP else str(self.type)

    def member(self, user_id: int) -> Member:
        return self.members.get(user_id) or Member(user_id, MemberStatus.LEFT)

    def add_message(self, sender_id: int | None, date: int, **fields: Any) -> Message:
        message = Message(self.next_message_id, self, date, sender_id, **fields)
        self.messages[message.message_id] = message
        self.next_message_id += 1
        return message


def new_token_secret() -> str:
    return secrets.token_urlsafe(26)[:35]


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
