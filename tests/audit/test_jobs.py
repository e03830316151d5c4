"""`audit-log` run by a real worker (in this process) from the real queue, on PostgreSQL and SQLite:
a process without a database session of its own gets its row written, and bad data is refused once."""

from __future__ import annotations

from sqlalchemy import select

from tests.worker.harness import World
from tgadmin.models import AuditLog
from tgadmin.models.enums import ActorType
from tgadmin.queue.names import JobName


async def test_the_audit_log_job_writes_its_row_with_actor_ip_and_changes(world: World) -> None:
    out = await world.run(
        JobName.AUDIT_LOG,
        {
            "actorType": "operator",
            "actorId": "3",
            "actorLabel": "ana@example.com",
            "action": "group.cooldown_changed",
            "entityType": "group",
            "entityId": "7",
            "before": {"cooldown_s": 0},
            "after": {"cooldown_s": 30},
            "ip": "198.51.100.4",
        },
    )
    assert out.state == "completed"
    async with world.sessions() as session:
        row = await session.get_one(AuditLog, out.value["auditLogId"])
    assert (row.actor_type, row.actor_id, row.actor_label, row.ip) == (
        ActorType.OPERATOR,
        "3",
        "ana@example.com",
        "198.51.100.4",
    )
    assert (row.action, row.entity_type, row.entity_id) == ("group.cooldown_changed", "group", "7")
    assert row.before == {"cooldown_s": 0} and row.after == {"cooldown_s": 30}


async def test_an_audit_log_job_without_an_action_fails_once_and_writes_nothing(world: World) -> None:
    out = await world.run(JobName.AUDIT_LOG, {"action": "", "entityType": "group"})
    assert out.state == "failed" and out.attempts_made == 1
    assert "action" in (out.reason or "")
    async with world.sessions() as session:
        # The world registering its bot is audited too; nothing about the group is.
        assert (await session.scalars(select(AuditLog.id).where(AuditLog.entity_type == "group"))).all() == []
