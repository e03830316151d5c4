from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, BigIntId, IdMixin, TimestampMixin


class MediaAsset(IdMixin, TimestampMixin, Base):
    """A file in storage (local folder or S3)."""

    __tablename__ = "media_assets"

    storage_key: Mapped[str] = mapped_column(unique=True)
    content_type: Mapped[str]
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(index=True)
    # {x, y, width, height} in pixels of the original, set by the dashboard's cropper.
    crop: Mapped[dict[str, Any] | None]


class MediaFileId(Base):
    """Telegram's file_id for an asset, per bot: upload once, reuse afterwards."""

    __tablename__ = "media_file_ids"

    asset_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("media_assets.id", ondelete="CASCADE"), primary_key=True
    )
    bot_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("bots.id", ondelete="CASCADE"), primary_key=True)
    file_id: Mapped[str]
    file_unique_id: Mapped[str | None]
