from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, BigIntId, IdMixin, TelegramId, TimestampMixin, str_enum
from tgadmin.models.enums import Currency, ProductType


class Product(IdMixin, TimestampMixin, Base):
    """Something a buyer can pay for: a content pack, a pay-per-view, or a subscription."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("stars_price IS NULL OR stars_price > 0", name="stars_price_positive"),
        CheckConstraint("type != 'subscription' OR subscription_days > 0", name="subscription_has_days"),
        Index("ix_products_creator_active", "creator_id", "is_active"),
    )

    creator_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("creators.id", ondelete="CASCADE"))
    title: Mapped[str]
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[ProductType] = mapped_column(str_enum(ProductType))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[Currency] = mapped_column(str_enum(Currency, 3), default=Currency.BRL)
    stars_price: Mapped[int | None] = mapped_column(Integer)
    photo_count: Mapped[int] = mapped_column(Integer, default=0)
    video_count: Mapped[int] = mapped_column(Integer, default=0)
    subscription_days: Mapped[int | None] = mapped_column(Integer)
    # Private channel or group the buyer is let into (single-use invite) while access lasts.
    access_chat_id: Mapped[int | None] = mapped_column(TelegramId)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class ProductMedia(Base):
    """The ordered media of a product, delivered in albums of at most 10."""

    __tablename__ = "product_media"

    product_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("media_assets.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Shown before purchase (the creator's page, promos); delivery sends every file regardless.
    is_preview: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
