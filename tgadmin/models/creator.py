from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, BigIntId, IdMixin, TimestampMixin, str_enum
from tgadmin.models.enums import CreatorTier


class Creator(IdMixin, TimestampMixin, Base):
    """A model whose content is sold ("model" in the buyer's words)."""

    __tablename__ = "creators"
    __table_args__ = (
        # The dashboard's list: by name, id breaking ties, one page at a time.
        Index("ix_creators_name_id", "name", "id"),
        # Its search (name or username containing the text, any case): trigram indexes on
        # PostgreSQL. SQLite gets plain ones of the same name (one schema for both); it scans for a
        # substring anyway, which is quick enough at the embedded default's sizes.
        Index(
            "ix_creators_name_trgm", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}
        ),
        Index(
            "ix_creators_username_trgm",
            "username",
            postgresql_using="gin",
            postgresql_ops={"username": "gin_trgm_ops"},
        ),
    )

    name: Mapped[str]
    username: Mapped[str] = mapped_column(unique=True)
    bio: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[CreatorTier] = mapped_column(str_enum(CreatorTier), default=CreatorTier.BRONZE)
    country: Mapped[str | None]
    is_adult: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    cover_asset_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("media_assets.id", ondelete="SET NULL")
    )


class CreatorPreview(Base):
    """Ordered preview photos of a creator."""

    __tablename__ = "creator_previews"

    creator_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True
    )
    asset_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("media_assets.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
