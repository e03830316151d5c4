"""What the product API accepts and answers (`/api/v1/products...`, `/api/v1/creators/{id}/products`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from tgadmin.models.enums import Currency, ProductType
from tgadmin.models.transaction import MAX_AMOUNT_CENTS
from tgadmin.webkit.params import INT64_MAX


def _printable(text: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the driver.
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_printable)
]
Description = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_printable)]
PriceCents = Annotated[
    int, Field(ge=1, le=MAX_AMOUNT_CENTS, description="in centavos (BRL): 2990 is R$ 29,90")
]
StarsPrice = Annotated[int, Field(ge=1, le=1_000_000, description="Telegram Stars; absent: no Stars sale")]
Days = Annotated[int, Field(ge=1, le=3650, description="access length; required for subscriptions")]
ChatId = Annotated[
    int,
    Field(
        ge=-INT64_MAX,
        le=INT64_MAX,
        description="Telegram id of a group or channel of ours where the bot is an administrator",
    ),
]


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description | None = None
    type: ProductType
    price_cents: PriceCents
    stars_price: StarsPrice | None = None
    subscription_days: Days | None = None
    access_chat_id: ChatId | None = None
    is_active: bool = True


class ProductUpdate(BaseModel):
    """Only the fields sent change; `null` clears an optional field."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    type: ProductType | None = None
    price_cents: PriceCents | None = None
    stars_price: StarsPrice | None = None
    subscription_days: Days | None = None
    access_chat_id: ChatId | None = None
    is_active: bool | None = None


class MediaRead(BaseModel):
    asset_id: int
    position: int = Field(description="0 is delivered first")
    is_preview: bool
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None
    sha256: str


class ProductRead(BaseModel):
    id: int
    creator_id: int
    creator_name: str
    title: str
    description: str | None
    type: ProductType
    price_cents: int
    currency: Currency
    stars_price: int | None
    subscription_days: int | None
    access_chat_id: int | None
    is_active: bool
    photo_count: int
    video_count: int
    created_at: datetime
    updated_at: datetime


class ProductDetail(ProductRead):
    media: list[MediaRead] = Field(description="in delivery order")


class ProductPage(BaseModel):
    items: list[ProductRead]
    total: int
    limit: int
    offset: int


class UploadRead(BaseModel):
    added: list[int] = Field(description="asset ids appended to the pack, in upload order")
    reused: list[int] = Field(description="of those, files already stored (same SHA-256): not stored again")
    already_in_pack: list[int] = Field(description="files this pack already had: left where they were")
    product: ProductDetail


AssetIds = Annotated[list[Annotated[int, Field(ge=1, le=INT64_MAX)]], Field(max_length=1000)]


class MediaOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_ids: AssetIds = Field(description="every file of the pack, once each, in the new order")


class PreviewSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_ids: AssetIds = Field(description="the files shown as previews; the others stop being previews")
