from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.clock import utcnow
from tgadmin.models.base import Base, BigIntId, IdMixin


class StorefrontStart(IdMixin, Base):
    """One `/start` through a creator's deep link: the top of the conversion funnel (the buyer's own
    row keeps only the first source, and no creator)."""

    __tablename__ = "storefront_starts"
    # Hourly analytics: the starts of one hour, whatever the table's size.
    __table_args__ = (Index("ix_storefront_starts_started", "started_at"),)

    user_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("telegram_users.id", ondelete="SET NULL"), default=None
    )
    creator_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("creators.id", ondelete="CASCADE"))
    source: Mapped[str | None] = mapped_column(String(64), default=None)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
