"""The queue monitor in the JSON API, and the operator's actions on jobs that the monitor page shares:
retry one failed job, retry every failed job of a queue, remove a job. Each action is audited in the
request's unit of work (entity `job`, id `queue/job id`).

Reads need the viewer role; actions the operator role and the session's CSRF token in the
`X-CSRF-Token` header. A job rescheduled after Telegram's 429 ("too many requests") is `delayed`,
never `failed`: the gateway moves it back without spending an attempt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.audit.service import Actor, record
from tgadmin.errors import BadRequest, ErrorRead, NotFound
from tgadmin.models import Operator
from tgadmin.operator.auth import CsrfHeader, OperatorDep, ViewerDep
from tgadmin.queue.monitor import STATES, JobInfo, QueueMonitor
from tgadmin.queue.names import QueueName
from tgadmin.webkit.deps import QueuesDep, UnitOfWorkDep
from tgadmin.webkit.flash import Flash

router = APIRouter(prefix="/api/v1", tags=["queues"])

_READ_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in"},
    404: {"model": ErrorRead, "description": "no such queue or job"},
}
_ACTION_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_READ_REFUSALS,
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
    409: {"model": ErrorRead, "description": "not possible in the job's current state"},
}


class QueueCountsRead(BaseModel):
    """Jobs per state of one queue (every state present, zero included)."""

    queue: str
    counts: dict[str, int]


class QueueJobRead(BaseModel):
    id: str
    queue: str
    name: str
    data: dict[str, Any]
    attempts_made: int
    max_attempts: int
    failed_reason: str | None
    created_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, info: JobInfo) -> QueueJobRead:
        return cls(
            id=info.id,
            queue=info.queue.value,
            name=info.name,
            data=info.data,
            attempts_made=info.attempts_made,
            max_attempts=info.max_attempts,
            failed_reason=info.failed_reason,
            created_at=info.created_at,
            finished_at=info.finished_at,
        )


class QueueJobPage(BaseModel):
    queue: str
    state: str
    total: int
    items: list[QueueJobRead]


class QueueActionRead(BaseModel):
    queue: str
    job_id: str | None
    count: int
    message: str


def queue_named(name: str) -> QueueName:
    try:
        return QueueName(name)
    except ValueError:
        raise NotFound(f"no queue {name!r}; queues: {', '.join(QueueName)}") from None


def state_named(state: str) -> str:
    if state not in STATES:
        raise BadRequest(f"no job state {state!r}; states: {', '.join(STATES)}")
    return state


async def retry_job(
    session: AsyncSession, monitor: QueueMonitor, operator: Operator, queue: str, job_id: str
) -> Flash:
    """Retry one failed job (audited); the message says so."""
    chosen = queue_named(queue)
    info = await monitor.get(chosen, job_id)
    await monitor.retry(chosen, job_id)
    await _audit(
        session, operator, "job.retried", chosen, job_id, before=_failure(info), after={"state": "waiting"}
    )
    return Flash(
        "job %(job)s (%(name)s) of %(queue)s is queued again with fresh attempts",
        job=job_id,
        name=info.name,
        queue=f"{chosen}",
    )


async def retry_all(session: AsyncSession, monitor: QueueMonitor, operator: Operator, queue: str) -> int:
    """Retry every failed job of a queue (audited once, with the count)."""
    chosen = queue_named(queue)
    count = await monitor.retry_all_failed(chosen)
    await _audit(session, operator, "queue.failed_retried", chosen, None, after={"retried": count})
    return count


async def remove_job(
    session: AsyncSession, monitor: QueueMonitor, operator: Operator, queue: str, job_id: str
) -> Flash:
    """Remove a job that is not running (audited with what it was)."""
    chosen = queue_named(queue)
    info = await monitor.get(chosen, job_id)
    state = await monitor.state(chosen, job_id)
    await monitor.remove(chosen, job_id)
    before = {"state": state, "name": info.name, "data": info.data, **_failure(info)}
    await _audit(session, operator, "job.removed", chosen, job_id, before=before)
    said = "job %(job)s (%(name)s) removed from %(queue)s"
    return Flash(said, job=job_id, name=info.name, queue=f"{chosen}")


def _failure(info: JobInfo) -> dict[str, Any]:
    return {"state": "failed", "failed_reason": info.failed_reason, "attempts_made": info.attempts_made}


async def _audit(
    session: AsyncSession,
    operator: Operator,
    action: str,
    queue: QueueName,
    job_id: str | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    entity_id = queue.value if job_id is None else f"{queue.value}/{job_id}"
    entity = "queue" if job_id is None else "job"
    actor = Actor.operator(operator.id, operator.email)
    await record(session, actor, action, entity, entity_id, before=before, after=after)


@router.get("/queues", responses=_READ_REFUSALS)
async def queue_counts(
    queues: QueuesDep,
    operator: ViewerDep,
    queue: Annotated[QueueName | None, Query(description="only this queue")] = None,
) -> list[QueueCountsRead]:
    """Jobs per state, per queue."""
    counts = await QueueMonitor(queues).counts()
    return [
        QueueCountsRead(queue=name.value, counts=by_state)
        for name, by_state in counts.items()
        if queue is None or name is queue
    ]


@router.get(
    "/queues/{queue}/jobs",
    responses={**_READ_REFUSALS, 400: {"model": ErrorRead, "description": "no such job state"}},
)
async def queue_jobs(
    queue: str,
    queues: QueuesDep,
    operator: ViewerDep,
    state: Annotated[str, Query(description=f"one of {', '.join(STATES)}")] = "failed",
    start: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> QueueJobPage:
    """Jobs of a queue in one state (failed by default, newest first), with name, data, error and
    attempts."""
    chosen, wanted = queue_named(queue), state_named(state)
    monitor = QueueMonitor(queues)
    found = await monitor.jobs(chosen, wanted, start, limit)
    total = (await monitor.counts())[chosen][wanted]
    return QueueJobPage(
        queue=chosen.value, state=wanted, total=total, items=[QueueJobRead.of(j) for j in found]
    )


@router.post("/queues/{queue}/jobs/{job_id}/retry", responses=_ACTION_REFUSALS)
async def retry_queue_job(
    queue: str, job_id: str, work: UnitOfWorkDep, queues: QueuesDep, operator: OperatorDep, _csrf: CsrfHeader
) -> QueueActionRead:
    """Run a failed job again with a fresh set of attempts (409 when it has not failed)."""
    message = await retry_job(work.session, QueueMonitor(queues), operator, queue, job_id)
    return QueueActionRead(queue=queue, job_id=job_id, count=1, message=message.render("en"))


@router.post("/queues/{queue}/retry-all", responses=_ACTION_REFUSALS)
async def retry_all_failed(
    queue: str, work: UnitOfWorkDep, queues: QueuesDep, operator: OperatorDep, _csrf: CsrfHeader
) -> QueueActionRead:
    """Run every failed job of the queue again."""
    count = await retry_all(work.session, QueueMonitor(queues), operator, queue)
    return QueueActionRead(
        queue=queue, job_id=None, count=count, message=f"{count} failed job(s) of {queue} retried"
    )


@router.post("/queues/{queue}/jobs/{job_id}/remove", responses=_ACTION_REFUSALS)
async def remove_queue_job(
    queue: str, job_id: str, work: UnitOfWorkDep, queues: QueuesDep, operator: OperatorDep, _csrf: CsrfHeader
) -> QueueActionRead:
    """Remove a job that is not running (409 while a worker runs it)."""
    message = await remove_job(work.session, QueueMonitor(queues), operator, queue, job_id)
    return QueueActionRead(queue=queue, job_id=job_id, count=1, message=message.render("en"))
