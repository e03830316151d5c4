"""Queue handler of the audit domain: `audit-log` writes one AuditLog row (for processes that
record a mutation without a database session of their own)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictStr

from tgadmin.audit.service import Actor, record
from tgadmin.models.enums import ActorType
from tgadmin.queue.context import JobRun
from tgadmin.queue.jobs import Handler, JobData
from tgadmin.queue.names import JobName


class AuditLogData(JobData):
    actorType: ActorType = ActorType.SYSTEM  # noqa: N815 - the original system's job fields
    actorId: StrictStr | None = None  # noqa: N815
    actorLabel: StrictStr | None = None  # noqa: N815
    action: StrictStr = Field(min_length=1, max_length=255)
    entityType: StrictStr = Field(min_length=1, max_length=255)  # noqa: N815
    entityId: StrictStr | None = None  # noqa: N815
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    ip: StrictStr | None = None


async def audit_log(run: JobRun, data: AuditLogData) -> dict[str, Any]:
    actor = Actor(data.actorType, data.actorId, data.actorLabel, data.ip)
    entry = await record(
        run.session, actor, data.action, data.entityType, data.entityId, before=data.before, after=data.after
    )
    return {"auditLogId": entry.id}


HANDLERS: dict[JobName, Handler[Any]] = {JobName.AUDIT_LOG: Handler(AuditLogData, audit_log)}
