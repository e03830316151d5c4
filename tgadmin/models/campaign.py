from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, BigIntId, IdMixin, PortableJSON, TimestampMixin, str_enum
from tgadmin.models.enums import CampaignStatus


class Campaign(IdMixin, TimestampMixin, Base):
    """Scheduled posts to a set of groups."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status_scheduled", "status", "scheduled_at"),)

    name: Mapped[str]
    # {"text", "parse_mode", "media_asset_id", "buttons": [{"text", "url"}]}
    content: Mapped[dict[str, Any]]
    group_ids: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    scheduled_at: Mapped[datetime | None]
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus), default=CampaignStatus.DRAFT)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
