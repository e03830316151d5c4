from __future__ import annotations

from sqlalchemy import Boolean, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.crypto import EncryptedString
from tgadmin.models.base import Base, IdMixin, TelegramId, TimestampMixin


class Bot(IdMixin, TimestampMixin, Base):
    """A Telegram bot the platform drives; everything Telegram-side is keyed by bot."""

    __tablename__ = "bots"

    telegram_id: Mapped[int] = mapped_column(TelegramId, unique=True)
    username: Mapped[str] = mapped_column(unique=True)
    token: Mapped[str] = mapped_column(EncryptedString())
    webhook_secret: Mapped[str] = mapped_column(EncryptedString())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How many of the bot's Star transactions (getStarTransactions, oldest first) the
    # `stars-reconcile` job has compared with our records: its next read starts there.
    stars_reconciled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
