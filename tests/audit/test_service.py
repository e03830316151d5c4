"""The audit trail on PostgreSQL and SQLite: an operator's action is kept with who, from where,
and what changed; the system's actions name the process; the caller's unit of work decides."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_operator
from tgadmin.audit.service import Actor, record
from tgadmin.clock import frozen_at, utcnow
from tgadmin.models import AuditLog
from tgadmin.models.enums import ActorType


async def stored(session: AsyncSession, entry_id: int) -> AuditLog:
    """The row as the database holds it, not the object the session still has in memory."""
    session.expunge_all()
    return (await session.execute(select(AuditLog).where(AuditLog.id == entry_id))).scalar_one()


async def test_an_operator_action_is_kept_with_actor_ip_and_what_changed(session: AsyncSession) -> None:
    operator = await make_operator(session, email="ana@example.com")
    before = {"status": "paid", "amount_cents": 1990, "note": None}
    after = {"status": "refunded", "amount_cents": 1990, "reason": "Cliente pediu — reembolso"}
    moment = utcnow().replace(microsecond=0)
    with frozen_at(moment):
        entry = await record(
            session,
            Actor.operator(operator.id, operator.email, ip="203.0.113.9"),
            "payment.refunded",
            "transaction",
            42,
            before=before,
            after=after,
        )
    row = await stored(session, entry.id)
    assert (row.actor_type, row.actor_id, row.actor_label) == (
        ActorType.OPERATOR,
        str(operator.id),
        "ana@example.com",
    )
    assert (row.action, row.entity_type, row.entity_id, row.ip) == (
        "payment.refunded",
        "transaction",
        "42",
        "203.0.113.9",
    )
    assert row.before == before and row.after == after
    assert row.created_at.replace(tzinfo=None) == moment.replace(tzinfo=None)


async def test_a_system_action_names_the_process_and_has_no_ip(session: AsyncSession) -> None:
    entry = await record(session, Actor.system("subscription-expiry"), "subscription.expired", "purchase")
    row = await stored(session, entry.id)
    assert (row.actor_type, row.actor_id, row.actor_label) == (ActorType.SYSTEM, None, "subscription-expiry")
    assert row.entity_id is None and row.ip is None and row.before is None and row.after is None


async def test_recording_flushes_but_leaves_the_commit_to_the_session_owner(session: AsyncSession) -> None:
    entry = await record(session, Actor.system("test"), "group.cooldown", "group", 7)
    assert entry.id is not None  # flushed: the id exists inside the unit of work
    await session.rollback()
    left = await session.scalars(select(AuditLog.id).where(AuditLog.action == "group.cooldown"))
    assert list(left) == []
