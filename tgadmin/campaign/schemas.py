"""What an operator gives to create a campaign; the same shape `Campaign.content` stores."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_TEXT = 4096  # Telegram's limit for a message's text
MAX_BUTTONS = 20
URL_SCHEMES = ("https://", "http://", "tg://")


class CampaignButton(BaseModel):
    """A url button under the post (one per row)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=2048)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(URL_SCHEMES):
            raise ValueError("a button url must start with https://, http:// or tg://")
        return value


class CampaignContent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str | None = Field(default=None, max_length=MAX_TEXT)
    parse_mode: Literal["HTML", "Markdown", "MarkdownV2"] | None = None
    media_asset_id: int | None = None
    buttons: list[CampaignButton] = Field(default_factory=list, max_length=MAX_BUTTONS)

    @model_validator(mode="after")
    def _something_to_post(self) -> CampaignContent:
        if not (self.text and self.text.strip()) and self.media_asset_id is None:
            raise ValueError("a campaign needs a text or a media")
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=255)
    content: CampaignContent
    group_ids: list[int] = Field(min_length=1, max_length=10_000)
    scheduled_at: datetime | None = None

    @field_validator("group_ids")
    @classmethod
    def _unique(cls, value: list[int]) -> list[int]:
        return list(dict.fromkeys(value))
