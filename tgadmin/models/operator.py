from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.clock import DEFAULT_TIME_ZONE, utcnow
from tgadmin.models.base import Base, BigIntId, IdMixin, TimestampMixin, str_enum
from tgadmin.models.enums import OperatorRole


class Operator(IdMixin, TimestampMixin, Base):
    """A person who uses the dashboard."""

    __tablename__ = "operators"

    email: Mapped[str] = mapped_column(unique=True)
    role: Mapped[OperatorRole] = mapped_column(str_enum(OperatorRole))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None]
    # The IANA zone the dashboard shows this operator's times in and reads their typed times in
    # (a campaign "daily at 09:00" is 09:00 there).
    time_zone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TIME_ZONE, server_default=DEFAULT_TIME_ZONE
    )


class MagicLinkToken(IdMixin, Base):
    """A single-use, expiring login link; only its hash is stored."""

    __tablename__ = "magic_link_tokens"
    __table_args__ = (Index("ix_magic_link_tokens_operator", "operator_id"),)

    operator_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("operators.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(default=None)


class OperatorSession(IdMixin, Base):
    """A dashboard login; revocable. Only the hash of the cookie's token is stored."""

    __tablename__ = "operator_sessions"
    __table_args__ = (Index("ix_operator_sessions_operator", "operator_id"),)

    operator_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("operators.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(default=None)
    user_agent: Mapped[str | None] = mapped_column(default=None)
