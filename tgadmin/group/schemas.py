"""What the group API answers and accepts (`/api/v1/groups...`), and the words for the bot's rights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from tgadmin.models import Group
from tgadmin.models.enums import BotMemberStatus, ChatType
from tgadmin.webkit.flash import Flash

# A day: longer than that is a typo, not a cooldown (the limiter keeps one slot per group).
MAX_COOLDOWN_SECONDS = 86_400
TAG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
GONE = (BotMemberStatus.LEFT, BotMemberStatus.KICKED)
ADMINS = (BotMemberStatus.ADMINISTRATOR, BotMemberStatus.CREATOR)


@dataclass(frozen=True)
class Ability:
    """One thing the platform does in a group, whether the bot can, and if not what is missing."""

    name: str
    ok: bool
    missing: str | None = None


def _right(group: Group, right: str) -> bool:
    return group.bot_status is BotMemberStatus.CREATOR or (
        group.bot_status is BotMemberStatus.ADMINISTRATOR and bool(group.bot_rights.get(right))
    )


def _posting(group: Group) -> Ability:
    if group.bot_status in GONE:
        return Ability("post", False, f"the bot is no longer in the group ({group.bot_status})")
    if group.bot_status is BotMemberStatus.RESTRICTED and not group.bot_rights.get("can_send_messages"):
        return Ability("post", False, "the bot is restricted: an admin must allow it to send messages")
    if group.type is ChatType.CHANNEL and not _right(group, "can_post_messages"):
        return Ability("post", False, "in a channel the bot must be an admin with the right 'Post messages'")
    return Ability("post", True)


def abilities(group: Group) -> list[Ability]:
    """Posting, deleting and inviting, each with what the bot lacks for it, in words."""
    delete = _right(group, "can_delete_messages")
    invite = _right(group, "can_invite_users")
    return [
        _posting(group),
        Ability(
            "delete",
            delete,
            None if delete else "make the bot an admin with the right 'Delete messages'",
        ),
        Ability(
            "invite",
            invite,
            None if invite else "make the bot an admin with the right 'Invite users via link'",
        ),
    ]


class AbilityRead(BaseModel):
    name: str = Field(examples=["post", "delete", "invite"])
    ok: bool
    missing: str | None = Field(description="what the bot lacks for it, when it cannot")


class GroupRead(BaseModel):
    """A group the bot is (or was) in, as last synced, and what the bot can do there."""

    id: int
    bot_id: int
    telegram_id: int
    type: ChatType
    title: str
    username: str | None
    member_count: int | None
    bot_status: BotMemberStatus
    bot_is_admin: bool
    bot_rights: dict[str, Any]
    abilities: list[AbilityRead]
    is_active: bool
    deactivated_reason: str | None
    cooldown_seconds: int
    tags: list[str]
    last_message_id: int | None
    last_synced_at: datetime | None
    migrated_to_chat_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, group: Group) -> GroupRead:
        # Built without validating again what the mapped row already typed (a page of 50 groups
        # spent ~1 ms re-checking them); tests/group/test_schemas.py keeps it equal to the validated one.
        return cls.model_construct(
            id=group.id,
            bot_id=group.bot_id,
            telegram_id=group.telegram_id,
            type=group.type,
            title=group.title,
            username=group.username,
            member_count=group.member_count,
            bot_status=group.bot_status,
            bot_is_admin=group.bot_is_admin,
            bot_rights=dict(group.bot_rights or {}),
            abilities=[
                AbilityRead.model_construct(name=a.name, ok=a.ok, missing=a.missing) for a in abilities(group)
            ],
            is_active=group.is_active,
            deactivated_reason=group.deactivated_reason,
            cooldown_seconds=group.cooldown_seconds,
            tags=list(group.tags or []),
            last_message_id=group.last_message_id,
            last_synced_at=group.last_synced_at,
            migrated_to_chat_id=group.migrated_to_chat_id,
            created_at=group.created_at,
        )


class GroupPage(BaseModel):
    items: list[GroupRead]
    total: int = Field(description="how many groups match the filters")
    limit: int
    offset: int


class GroupUpdate(BaseModel):
    """The group's settings an operator changes; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = Field(default=None, description="false: no job posts to or syncs the group")
    cooldown_seconds: int | None = Field(
        default=None,
        ge=0,
        le=MAX_COOLDOWN_SECONDS,
        description=f"seconds between two posts of ours in the group (0 to {MAX_COOLDOWN_SECONDS})",
    )
    tags: list[Annotated[str, Field(pattern=TAG_PATTERN)]] | None = Field(
        default=None, max_length=20, description="labels campaigns target groups by (a-z, 0-9, _ and -)"
    )


class ButtonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=2048, description="an https:// address")


class MessageCreate(BaseModel):
    """A message to post to the group: Telegram HTML, URL buttons, and optionally a photo (an
    uploaded media asset) with the text as its caption (then at most 1024 visible characters)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1, max_length=4096, description="Telegram HTML (<b>, <i>, <a href>...), tags included"
    )
    buttons: list[ButtonCreate] = Field(default_factory=list, max_length=8)
    photo_asset_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    disable_notification: bool = False


class PreviewRead(BaseModel):
    html: str = Field(description="the message body as Telegram will show it (safe HTML)")
    visible_length: int
    buttons: list[ButtonCreate]
    caption: bool = Field(description="sent as a photo's caption")


class JobStarted(BaseModel):
    """An action handed to a worker: follow it at GET /api/v1/jobs/{queue}/{job_id}."""

    queue: str
    job_id: str
    name: str
    message: str
    # What `message` says in English, for a page to say it in its own language (not in the JSON).
    _said: Flash | None = PrivateAttr(default=None)

    @classmethod
    def saying(cls, said: Flash, *, queue: str, job_id: str, name: str) -> JobStarted:
        started = cls(queue=queue, job_id=job_id, name=name, message=said.render("en"))
        started._said = said
        return started

    def said(self) -> Flash | str:
        return self._said or self.message


class PhotoRead(BaseModel):
    asset_id: int
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None
