"""The audit trail: every mutation by an operator or by the system is recorded here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit import repository
from tgadmin.models import AuditLog
from tgadmin.models.enums import ActorType


@dataclass(frozen=True)
class Actor:
    """Who did it: an operator (id + email), the system (a process/job name), or a buyer."""

    type: ActorType
    id: str | None = None
    label: str | None = None
    ip: str | None = None

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(ActorType.SYSTEM, None, label)

    @classmethod
    def operator(cls, operator_id: int, email: str, ip: str | None = None) -> Actor:
        return cls(ActorType.OPERATOR, str(operator_id), email, ip)


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    """Add one audit row to the caller's unit of work (flushed, committed by the session owner)."""
    entry = AuditLog(
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=before,
        after=after,
        ip=actor.ip,
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries_about(
    session: AsyncSession, entity_type: str, entity_ids: Sequence[object], actions: Sequence[str]
) -> list[AuditLog]:
    """What was recorded of these actions about these entities, oldest first (other domains read the
    trail through here: the subscription page shows what expiry could not undo)."""
    return await repository.of_entities(session, entity_type, [str(i) for i in entity_ids], actions)
