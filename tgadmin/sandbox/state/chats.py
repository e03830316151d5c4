"""Chats (private, group, supergroup, channel), their messages and the files messages carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tgadmin.sandbox.state.members import InviteLink, Member, MemberStatus

# Telegram lets a bot delete a message only while it is younger than this.
HOURS_48 = 48 * 3600


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


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
