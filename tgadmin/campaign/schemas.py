"""What an operator gives to create a campaign; `CampaignContent` is the shape `Campaign.content`
stores, `CampaignFilter` the shape of `Campaign.target_filter`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_TEXT = 4096  # Telegram's limit for a message's text
MAX_CAPTION = 1024  # ... and for a photo's or an album's caption
MAX_BUTTONS = 20
ALBUM_MIN, ALBUM_MAX = 2, 10  # sendMediaGroup takes 2-10 items
MAX_AUTO_DELETE_HOURS = 48  # a bot cannot delete a message older than 48 hours
URL_SCHEMES = ("https://", "http://", "tg://")
DAILY_AT = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
TAG = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


class CampaignButton(BaseModel):
    """A url button under the post (one per row): a url, or a creator's deep link carrying the
    campaign as its source (built when the campaign starts: `model_<creator>_c<campaign>`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=64)
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    creator_id: int | None = Field(default=None, ge=1, le=2**63 - 1)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(URL_SCHEMES):
            raise ValueError("a button url must start with https://, http:// or tg://")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> CampaignButton:
        if (self.url is None) == (self.creator_id is None):
            raise ValueError("a button takes either a url or a creator (for the creator's deep link)")
        return self


class CampaignContent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str | None = Field(default=None, max_length=MAX_TEXT)
    parse_mode: Literal["HTML", "Markdown", "MarkdownV2"] | None = None
    media_asset_id: int | None = Field(default=None, ge=1)
    album_asset_ids: list[int] = Field(default_factory=list, max_length=ALBUM_MAX)
    buttons: list[CampaignButton] = Field(default_factory=list, max_length=MAX_BUTTONS)

    @model_validator(mode="after")
    def _something_to_post(self) -> CampaignContent:
        has_text = bool(self.text and self.text.strip())
        if not has_text and self.media_asset_id is None and not self.album_asset_ids:
            raise ValueError("a campaign needs a text or a media")
        if self.album_asset_ids:
            if self.media_asset_id is not None:
                raise ValueError("choose one photo or an album, not both")
            if len(self.album_asset_ids) < ALBUM_MIN:
                raise ValueError("an album takes 2 to 10 items (one photo goes as a photo)")
            if self.buttons:
                raise ValueError("Telegram shows no buttons under an album: remove them or send one photo")
        if self.has_media and len(self.text or "") > MAX_CAPTION:
            raise ValueError(f"a caption under a photo or album takes at most {MAX_CAPTION} characters")
        return self

    @property
    def has_media(self) -> bool:
        return self.media_asset_id is not None or bool(self.album_asset_ids)

    def asset_ids(self) -> list[int]:
        return [self.media_asset_id] if self.media_asset_id is not None else list(self.album_asset_ids)

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class CampaignFilter(BaseModel):
    """Groups chosen by what they are rather than one by one (resolved when the campaign is made)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    active_only: bool = True
    tags: list[str] = Field(default_factory=list, max_length=20)
    # The bot can post there (an administrator that may post in a channel) and, with auto-delete,
    # delete its posts.
    with_rights: bool = False

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return clean_tags(value)


def clean_tags(values: list[str]) -> list[str]:
    """Tags lower-cased, de-duplicated, each 1-32 of a-z 0-9 _ - (refused otherwise)."""
    tags = list(dict.fromkeys(v.strip().lower() for v in values if v.strip()))
    for tag in tags:
        if not TAG.fullmatch(tag):
            raise ValueError(f"tag {tag!r} is not 1-32 letters, digits, '_' or '-'")
    return tags


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=255)
    content: CampaignContent
    group_ids: list[int] = Field(default_factory=list, max_length=10_000)
    target_filter: CampaignFilter | None = None
    scheduled_at: datetime | None = None
    repeat_every_hours: int | None = Field(default=None, ge=1, le=24 * 30)
    repeat_daily_at: str | None = None
    # The IANA zone of repeat_daily_at; the operator's own zone (their account) when not given.
    repeat_timezone: str | None = Field(default=None, max_length=64)
    repeat_until: datetime | None = None
    auto_delete_hours: int | None = Field(default=None, ge=1)

    @field_validator("group_ids")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        return list(dict.fromkeys(value))

    @field_validator("repeat_daily_at")
    @classmethod
    def _daily(cls, value: str | None) -> str | None:
        if value is not None and not DAILY_AT.fullmatch(value):
            raise ValueError("a daily time is HH:MM, 00:00 to 23:59")
        return value

    @field_validator("auto_delete_hours")
    @classmethod
    def _within_telegram(cls, value: int | None) -> int | None:
        if value is not None and value > MAX_AUTO_DELETE_HOURS:
            raise ValueError("Telegram lets a bot delete its messages only within 48 hours: choose 1 to 48")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> CampaignCreate:
        if not self.group_ids and self.target_filter is None:
            raise ValueError("choose the groups, or a filter that picks them")
        if self.repeat_every_hours is not None and self.repeat_daily_at is not None:
            raise ValueError("repeat every N hours or daily at a time, not both")
        if self.repeats and self.repeat_until is None:
            raise ValueError("a repeating campaign needs an end date")
        if self.repeat_until is not None and not self.repeats:
            raise ValueError("an end date is for repeating campaigns")
        return self

    @property
    def repeats(self) -> bool:
        return self.repeat_every_hours is not None or self.repeat_daily_at is not None


class CampaignAction(BaseModel):
    """What the JSON API's action endpoint is asked to do."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["pause", "resume", "cancel"]


class TargetRead(BaseModel):
    """One group of a started campaign and what became of its post."""

    group_id: int
    group_title: str | None
    status: str = Field(description="pending, sent, failed (see reason) or deleted (auto-delete)")
    message_id: int | None
    reason: str | None


class CampaignRead(BaseModel):
    id: int
    name: str
    status: str
    content: dict[str, Any]
    group_ids: list[int]
    target_filter: dict[str, Any] | None
    scheduled_at: datetime | None
    repeat_every_hours: int | None
    repeat_daily_at: str | None
    repeat_timezone: str | None
    repeat_until: datetime | None
    parent_id: int | None
    auto_delete_hours: int | None
    total: int
    sent: int
    failed: int
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, campaign: Any) -> CampaignRead:
        return cls.model_validate(
            {name: getattr(campaign, name) for name in cls.model_fields}
            | {"status": campaign.status.value, "group_ids": list(campaign.group_ids)}
        )


class CampaignDetail(CampaignRead):
    targets: list[TargetRead] = Field(description="each group's outcome (empty until the campaign starts)")


class CampaignPage(BaseModel):
    items: list[CampaignRead]
    total: int
    limit: int
    offset: int


class TargetCount(BaseModel):
    groups: int = Field(description="how many groups these targets reach now")
