"""JSON twins of the analytics page (thin): a range's totals, series and tables; one table as JSON or
CSV; a backfill of a range as a job (operators)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel, Field

from tgadmin.analytics import report, service
from tgadmin.analytics.report import Span, Table
from tgadmin.audit.service import Actor
from tgadmin.clock import zone
from tgadmin.db import AfterCommit
from tgadmin.errors import ErrorRead, NotFound
from tgadmin.models import Operator
from tgadmin.operator.auth import OperatorDep, ViewerDep
from tgadmin.queue.client import Queues
from tgadmin.queue.names import JobName
from tgadmin.webkit.deps import QueuesDep, SessionDep, UnitOfWorkDep

router = APIRouter(prefix="/api/v1", tags=["analytics"])

_READ_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorRead, "description": "not logged in"},
}
_TABLE_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_READ_REFUSALS,
    404: {"model": ErrorRead, "description": "no such table"},
}
_ACT_REFUSALS: dict[int | str, dict[str, Any]] = {
    **_READ_REFUSALS,
    400: {"model": ErrorRead, "description": "a reversed or too long range, or no hour of it is over"},
    403: {"model": ErrorRead, "description": "the role does not allow it, or the CSRF token is wrong"},
    503: {"model": ErrorRead, "description": "the queue (Redis) is unreachable"},
}

SpanQuery = Annotated[Span, Query(alias="range", description="day (24 hours), week or month (days)")]


class TableRead(BaseModel):
    name: str
    title: str
    columns: list[dict[str, str]]
    rows: list[dict[str, Any]]

    @classmethod
    def of(cls, table: Table) -> TableRead:
        columns = [{"key": c.key, "label": c.label, "kind": c.kind.value} for c in table.columns]
        return cls(name=table.name, title=table.title, columns=columns, rows=table.records())


class AnalyticsRead(BaseModel):
    range: Span
    start: datetime
    end: datetime = Field(description="exclusive: the end of the last full hour")
    totals: dict[str, int]
    charts: dict[str, list[Any]]
    tables: dict[str, TableRead]


class BackfillCreate(BaseModel):
    start: AwareDatetime = Field(alias="from")
    end: AwareDatetime = Field(alias="to")


class BackfillQueued(BaseModel):
    job_id: str
    queue: str
    hours: int


def csv_response(table: Table, span: Span) -> Response:
    name = f"analytics-{table.name}-{span.value}.csv"
    return Response(
        table.csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def one_table(session: SessionDep, span: Span, name: str, time_zone: str) -> Table:
    if name not in report.TABLES:
        raise NotFound(f"no analytics table {name!r}; tables: {', '.join(report.TABLES)}")
    return await report.table(session, span, name, zone(time_zone))


@router.get("/analytics", responses=_READ_REFUSALS)
async def analytics(session: SessionDep, operator: ViewerDep, span: SpanQuery = Span.WEEK) -> AnalyticsRead:
    """Totals, chart series and breakdown tables of the last day, week or month."""
    built = await report.build(session, span, zone(operator.time_zone))
    return AnalyticsRead(
        range=span,
        start=built.window.start,
        end=built.window.end,
        totals=built.totals,
        charts=built.charts,
        tables={name: TableRead.of(t) for name, t in built.tables.items()},
    )


@router.get(
    "/analytics/tables/{name}",
    response_model=TableRead,
    responses={
        **_TABLE_REFUSALS,
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "the table"},
    },
)
async def analytics_table(
    session: SessionDep,
    operator: ViewerDep,
    name: str,
    span: SpanQuery = Span.WEEK,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> TableRead | Response:
    """One breakdown table (funnel, revenue, creators, groups, sources), every row; `format=csv`."""
    table = await one_table(session, span, name, operator.time_zone)
    return csv_response(table, span) if format == "csv" else TableRead.of(table)


def enqueue_after_commit(after_commit: AfterCommit, queues: Queues, data: dict[str, str]) -> str:
    job_id = f"backfill-{uuid.uuid4().hex}"

    async def enqueue() -> None:
        await queues.enqueue(JobName.ANALYTICS_BACKFILL, data, job_id=job_id)

    after_commit.add(enqueue)
    return job_id


async def start_backfill(
    work: UnitOfWorkDep, queues: Queues, operator: Operator, ip: str | None, start: datetime, end: datetime
) -> BackfillQueued:
    actor = Actor.operator(operator.id, operator.email, ip)
    asked = await service.ask_backfill(work.session, actor, start, end)
    job_id = enqueue_after_commit(work.after_commit, queues, asked.data)
    return BackfillQueued(job_id=job_id, queue=JobName.ANALYTICS_BACKFILL.queue.value, hours=asked.hours)


@router.post("/analytics/backfill", status_code=202, responses=_ACT_REFUSALS)
async def backfill(
    request: Request, work: UnitOfWorkDep, queues: QueuesDep, operator: OperatorDep, body: BackfillCreate
) -> BackfillQueued:
    """Recompute every hour of `[from, to)` in the background; follow it at /api/v1/jobs/{queue}/{id}."""
    ip = request.client.host if request.client else None
    return await start_backfill(work, queues, operator, ip, body.start, body.end)
