"""How a job an operator started is doing: an HTML fragment the page polls (htmx) and the same as
JSON, from the queue itself (state, progress, outcome, error), so every action that runs as a job
shows its progress and its outcome where it was started."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from tgadmin.errors import ErrorRead, NotFound
from tgadmin.operator.auth import ViewerDep
from tgadmin.queue.monitor import JobInfo, QueueMonitor
from tgadmin.queue.names import QueueName
from tgadmin.webkit.deps import QueuesDep
from tgadmin.webkit.templating import templates

FINISHED = ("completed", "failed")
# BullMQ job ids: ours are numbers or `name-<ids>`; never ':' (it separates Redis keys).
JobId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")]

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["jobs"])


class JobRead(BaseModel):
    """One job: what it is, where it is, how far it got and how it ended."""

    id: str
    queue: str
    name: str
    state: str
    attempts_made: int
    max_attempts: int
    progress: dict[str, Any]
    result: dict[str, Any] | None
    failed_reason: str | None
    created_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, info: JobInfo, state: str) -> JobRead:
        return cls(
            id=info.id,
            queue=info.queue.value,
            name=info.name,
            state=state,
            attempts_made=info.attempts_made,
            max_attempts=info.max_attempts,
            progress=info.progress,
            result=info.result,
            failed_reason=info.failed_reason,
            created_at=info.created_at,
            finished_at=info.finished_at,
        )


def _queue(name: str) -> QueueName:
    try:
        return QueueName(name)
    except ValueError:
        raise NotFound(f"no queue {name!r}; queues: {', '.join(QueueName)}") from None


async def job_read(queues: QueuesDep, queue: str, job_id: str) -> JobRead:
    monitor = QueueMonitor(queues)
    chosen = _queue(queue)
    info = await monitor.get(chosen, job_id)
    return JobRead.of(info, await monitor.state(chosen, job_id))


@api.get(
    "/jobs/{queue}/{job_id}",
    responses={
        401: {"model": ErrorRead, "description": "not logged in"},
        404: {"model": ErrorRead, "description": "no such job (finished jobs are kept a while)"},
    },
)
async def get_job(queue: QueueName, job_id: JobId, queues: QueuesDep, operator: ViewerDep) -> JobRead:
    return await job_read(queues, queue.value, job_id)


@pages.get("/jobs/{queue}/{job_id}")
async def job_fragment(
    request: Request, queue: str, job_id: str, queues: QueuesDep, operator: ViewerDep
) -> HTMLResponse:
    """The `_job.html` fragment; it asks again every second until the job has finished."""
    job = await job_read(queues, queue, job_id)
    return templates.TemplateResponse(
        request, "_job.html", {"job": job, "finished": job.state in FINISHED, "polling": True}
    )
