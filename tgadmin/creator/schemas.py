"""What the creator API answers and accepts (`/api/v1/creators...`); the pages' forms are read into
the same models, so both transports check input alike."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tgadmin.models.enums import CreatorTier, Currency, ProductType

# Telegram's own rule for usernames, without the "@": 5-32 of letters, digits and "_".
USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
MAX_PIXELS = 2**31 - 1

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=USERNAME.pattern),
    Field(description="without the @: 5-32 letters, digits or _ (starting with a letter); unique"),
]
Bio = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Country = Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)]


def _no_at(value: object) -> object:
    return value.strip().removeprefix("@") if isinstance(value, str) else value


class CreatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    username: Username
    bio: Bio | None = None
    tier: CreatorTier = CreatorTier.BRONZE
    country: Country | None = None
    is_adult: bool = False

    _strip_at = field_validator("username", mode="before")(_no_at)


class CreatorUpdate(BaseModel):
    """Only the fields given change; `is_active: false` deactivates (hidden from buyers)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    username: Username | None = None
    bio: Bio | None = None
    tier: CreatorTier | None = None
    country: Country | None = None
    is_adult: bool | None = None
    is_active: bool | None = None

    _strip_at = field_validator("username", mode="before")(_no_at)


class CropBox(BaseModel):
    """A rectangle in pixels of the original image; it must lie inside the image."""

    model_config = ConfigDict(extra="forbid")

    x: int = Field(ge=0, le=MAX_PIXELS)
    y: int = Field(ge=0, le=MAX_PIXELS)
    width: int = Field(ge=1, le=MAX_PIXELS)
    height: int = Field(ge=1, le=MAX_PIXELS)


class PreviewRead(BaseModel):
    asset_id: int
    position: int
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None
    sha256: str
    crop: CropBox | None
    url: str = Field(description="the preview as buyers receive it (cropped), for the dashboard")


class PreviewOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        max_length=100, description="every preview of the creator, once each, in the new order"
    )


class ProductRow(BaseModel):
    id: int
    title: str
    type: ProductType
    price_cents: int
    currency: Currency
    is_active: bool


class CreatorRead(BaseModel):
    id: int
    name: str
    username: str
    bio: str | None
    tier: CreatorTier
    country: str | None
    is_adult: bool
    is_active: bool


class CreatorDetail(CreatorRead):
    previews: list[PreviewRead]
    products: list[ProductRow]
    deep_link: str | None = Field(description="t.me link that opens the creator in the bot (no bot: null)")


class CreatorPage(BaseModel):
    items: list[CreatorRead]
    total: int = Field(description="how many creators match the search")
    limit: int
    offset: int


class PromoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_id: int = Field(ge=1, le=2**63 - 1, description="an active group where the bot is admin")


class PromoRead(BaseModel):
    job_id: str
    creator_id: int
    group_id: int
    message: str
