from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.clock import utcnow
from tgadmin.models.base import Base, BigIntId, IdMixin, TelegramId, str_enum
from tgadmin.models.enums import PostKind, PostStatus


class PostHistory(IdMixin, Base):
    """One row per message the platform sent to a group."""

    __tablename__ = "post_history"
    __table_args__ = (
        UniqueConstraint("group_id", "message_id"),
        Index("ix_post_history_group_sent", "group_id", "sent_at"),
        # The post history list (newest first) filtered by group and status, by status, or by kind;
        # id breaks ties in sent_at so that pages are stable.
        Index("ix_post_history_group_status_sent", "group_id", "status", "sent_at", "id"),
        Index("ix_post_history_status_sent", "status", "sent_at", "id"),
        Index("ix_post_history_kind_sent", "kind", "sent_at", "id"),
        Index("ix_post_history_job", "job_id"),
        # Hourly analytics counts one hour across all groups: (group_id, sent_at) cannot serve that.
        Index("ix_post_history_sent", "sent_at"),
        # Hourly analytics: the messages deleted in one hour.
        Index("ix_post_history_deleted", "deleted_at"),
    )

    group_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("groups.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(TelegramId)
    message_id: Mapped[int] = mapped_column(TelegramId)
    kind: Mapped[PostKind] = mapped_column(str_enum(PostKind))
    excerpt: Mapped[str | None]
    status: Mapped[PostStatus] = mapped_column(str_enum(PostStatus), default=PostStatus.SENT)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    campaign_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("campaigns.id", ondelete="SET NULL"))
    job_id: Mapped[str | None]
    error: Mapped[str | None]
