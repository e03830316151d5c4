"""All SQL of the audit trail: the filtered, newest-first pages of the audit page.

Pages are keyset on the id (`before`: the smallest id of the page shown), so the 1,000th page costs
what the first does; filters by action or actor walk `(action, id)` / `(actor_label, id)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.models import AuditLog


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # an operator's e-mail, a system job's name, or an actor id
    action: str | None = None  # exact, or a prefix ending in "*" ("subscription.*")
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def _filtered(query: Select[AuditLog], wanted: AuditFilter) -> Select[AuditLog]:
    if wanted.actor:
        query = query.where(or_(AuditLog.actor_label == wanted.actor, AuditLog.actor_id == wanted.actor))
    if wanted.action and wanted.action.endswith("*"):
        query = query.where(AuditLog.action.startswith(wanted.action[:-1], autoescape=True))
    elif wanted.action:
        query = query.where(AuditLog.action == wanted.action)
    if wanted.entity_type:
        query = query.where(AuditLog.entity_type == wanted.entity_type)
    if wanted.entity_id:
        query = query.where(AuditLog.entity_id == wanted.entity_id)
    if wanted.since is not None:
        query = query.where(AuditLog.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditLog.created_at < wanted.until)
    return query


async def page(
    session: AsyncSession, wanted: AuditFilter, *, before: int | None, limit: int
) -> list[AuditLog]:
    """Up to `limit` + 1 entries, newest first, older than id `before` (the extra one says "more")."""
    query = _filtered(select(AuditLog), wanted).order_by(AuditLog.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(AuditLog.id < before)
    return list((await session.scalars(query)).all())


async def of_entities(
    session: AsyncSession, entity_type: str, entity_ids: Sequence[str], actions: Sequence[str]
) -> list[AuditLog]:
    """The entries of these actions about these entities, oldest first (through the entity index)."""
    if not entity_ids:
        return []
    rows = await session.scalars(
        select(AuditLog)
        .where(
            AuditLog.entity_type == entity_type,
            AuditLog.entity_id.in_(entity_ids),
            AuditLog.action.in_(actions),
        )
        .order_by(AuditLog.id)
    )
    return list(rows.all())
