from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.models.base import Base, BigIntId, IdMixin, PortableJSON, TelegramId, TimestampMixin, str_enum
from tgadmin.models.enums import BotMemberStatus, ChatType


class Group(IdMixin, TimestampMixin, Base):
    """A Telegram group, supergroup or channel the bot is (or was) in."""

    __tablename__ = "groups"
    __table_args__ = (
        # The dashboard's title search ("contains", any case): a trigram index on PostgreSQL.
        Index(
            "ix_groups_title_trgm", "title", postgresql_using="gin", postgresql_ops={"title": "gin_trgm_ops"}
        ),
        UniqueConstraint("bot_id", "telegram_id"),
        Index("ix_groups_active", "bot_id", "is_active"),
        # The dashboard's list: newest first, filtered by state or by the bot's status.
        Index("ix_groups_list_active", "is_active", "id"),
        Index("ix_groups_list_status", "bot_status", "id"),
    )

    bot_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("bots.id", ondelete="CASCADE"))
    telegram_id: Mapped[int] = mapped_column(TelegramId)
    type: Mapped[ChatType] = mapped_column(str_enum(ChatType))
    title: Mapped[str]
    username: Mapped[str | None]
    member_count: Mapped[int | None] = mapped_column(Integer)
    bot_status: Mapped[BotMemberStatus] = mapped_column(str_enum(BotMemberStatus))
    bot_rights: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # settings.is_active / settings.cooldown_seconds in the product's words
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    cooldown_seconds: Mapped[int] = mapped_column(Integer, default=0)
    last_message_id: Mapped[int | None] = mapped_column(TelegramId)
    last_synced_at: Mapped[datetime | None]
    migrated_to_chat_id: Mapped[int | None] = mapped_column(TelegramId)
    # "not enough rights" answers since the last success: one is noise, repeated ones alert.
    rights_errors: Mapped[int] = mapped_column(Integer, default=0)
    deactivated_reason: Mapped[str | None]
    # The operator's labels ("vip", "br"): campaigns target groups by tag.
    tags: Mapped[list[str]] = mapped_column(PortableJSON, default=list, server_default="[]")

    @property
    def bot_is_admin(self) -> bool:
        return self.bot_status in (BotMemberStatus.ADMINISTRATOR, BotMemberStatus.CREATOR)
