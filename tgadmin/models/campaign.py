from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, BigIntId, IdMixin, PortableJSON, TelegramId, TimestampMixin, str_enum
from tgadmin.models.enums import CampaignStatus, CampaignTargetStatus


class Campaign(IdMixin, TimestampMixin, Base):
    """Scheduled posts to a set of groups."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status_scheduled", "status", "scheduled_at"),)

    name: Mapped[str]
    # CampaignContent: {"text", "parse_mode", "media_asset_id", "album_asset_ids",
    # "buttons": [{"text", "url"} | {"text", "creator_id"}]}
    content: Mapped[dict[str, Any]]
    group_ids: Mapped[list[int]] = mapped_column(PortableJSON, default=list)
    # How the groups were chosen when a filter chose them (CampaignFilter), for the page to show.
    target_filter: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON, default=None)
    # Repeats: every N hours, or daily at "HH:MM" in `repeat_timezone`, until `repeat_until`. Each
    # occurrence is a campaign of its own (`parent_id` names the first), scheduled when one starts.
    repeat_every_hours: Mapped[int | None] = mapped_column(Integer, default=None)
    repeat_daily_at: Mapped[str | None] = mapped_column(String(5), default=None)
    repeat_timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    repeat_until: Mapped[datetime | None] = mapped_column(default=None)
    parent_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("campaigns.id", ondelete="SET NULL"), default=None
    )
    # Delete each post this many hours after it was sent (Telegram allows bots 48).
    auto_delete_hours: Mapped[int | None] = mapped_column(Integer, default=None)
    # Bumped by each resume: the send jobs of a round get fresh ids (those of the paused round
    # finished without sending, and BullMQ keeps a finished job's id).
    round: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    scheduled_at: Mapped[datetime | None]
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus), default=CampaignStatus.DRAFT)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("operators.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class CampaignTarget(IdMixin, Base):
    """One group of a running campaign and what became of its post: the campaign's counters move
    only when a target leaves `pending` (a conditional update), so a job retried or redelivered
    never counts twice."""

    __tablename__ = "campaign_targets"
    __table_args__ = (UniqueConstraint("campaign_id", "group_id"),)

    campaign_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("campaigns.id", ondelete="CASCADE"))
    # No foreign key: a campaign may name a group that no longer exists (it counts as failed).
    group_id: Mapped[int] = mapped_column(BigIntId)
    status: Mapped[CampaignTargetStatus] = mapped_column(
        str_enum(CampaignTargetStatus), default=CampaignTargetStatus.PENDING
    )
    message_id: Mapped[int | None] = mapped_column(TelegramId, default=None)
    # Every message of the post (an album is several), for the auto-delete.
    message_ids: Mapped[list[int] | None] = mapped_column(PortableJSON, default=None)
    reason: Mapped[str | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
