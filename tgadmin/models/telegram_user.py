from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.clock import utcnow
from tgadmin.models.base import Base, IdMixin, TelegramId


class TelegramUser(IdMixin, Base):
    """A buyer as Telegram knows them."""

    __tablename__ = "telegram_users"
    # Hourly analytics: new buyers of one hour.
    __table_args__ = (Index("ix_telegram_users_first_seen", "first_seen_at"),)

    telegram_id: Mapped[int] = mapped_column(TelegramId, unique=True)
    first_name: Mapped[str]
    last_name: Mapped[str | None]
    username: Mapped[str | None]
    language_code: Mapped[str | None] = mapped_column(default=None)
    blocked_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    age_confirmed_at: Mapped[datetime | None]
    # The group or campaign whose link brought the buyer in (deep link `model_<id>_<source>`), set on
    # the first start only.
    source: Mapped[str | None] = mapped_column(String(64), default=None)
    # `pt` or `en` once known (Telegram's language on first contact, then /language); profile updates
    # never overwrite it.
    preferred_language: Mapped[str | None] = mapped_column(String(8), default=None)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
