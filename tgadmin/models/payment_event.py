from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.clock import utcnow
from tgadmin.models.base import Base, IdMixin


class PaymentEvent(IdMixin, Base):
    """Inbox of payment notifications (PSP webhooks, Telegram payments): each stored once."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    provider: Mapped[str]
    external_id: Mapped[str]
    payload: Mapped[dict[str, Any]]
    signature_valid: Mapped[bool] = mapped_column(Boolean, default=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    result: Mapped[str | None] = mapped_column(Text)
