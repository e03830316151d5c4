from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlalchemy.orm import Mapped, mapped_column

from tgadmin.clock import utcnow
from tgadmin.models.base import Base, IdMixin, str_enum
from tgadmin.models.enums import ActorType


class AuditLog(IdMixin, Base):
    """Every mutation by an operator or by the system."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_created", "created_at"),
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
        # The audit page filters by action or actor and pages newest first by id (keyset).
        Index("ix_audit_log_action", "action", "id"),
        Index("ix_audit_log_actor", "actor_label", "id"),
    )

    actor_type: Mapped[ActorType] = mapped_column(str_enum(ActorType))
    actor_id: Mapped[str | None]
    actor_label: Mapped[str | None]
    action: Mapped[str]
    entity_type: Mapped[str]
    entity_id: Mapped[str | None]
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    ip: Mapped[str | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
