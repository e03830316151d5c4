from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.clock import utcnow
from tgadmin.models.base import Base, BigIntId, IdMixin


class ApiToken(IdMixin, Base):
    """A personal API token for automation: acts with its owner's current role; only its hash is
    stored (the token is shown once, at creation)."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_operator", "operator_id"),)

    operator_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("operators.id", ondelete="CASCADE"))
    name: Mapped[str]
    # The first characters of the token (`tga_` and a few more), shown so the owner can tell them apart.
    prefix: Mapped[str]
    token_hash: Mapped[str] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
