"""The Analytics page (thin): a range picker (day, week, month), Chart.js time series of the hourly
analytics, breakdown tables (revenue per currency and method, top creators and groups by revenue,
the funnel per source) each with a CSV export, and a backfill of a range whose progress the page
follows (operators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tgadmin.analytics import report
from tgadmin.analytics.api import SpanQuery, csv_response, one_table, start_backfill
from tgadmin.analytics.report import Span
from tgadmin.clock import ensure_utc, zone
from tgadmin.errors import BadRequest, TgadminError
from tgadmin.models.enums import OperatorRole
from tgadmin.operator.auth import ROLE_RANK, OperatorDep, ViewerDep, check_csrf
from tgadmin.queue.names import JobName
from tgadmin.webkit.deps import QueuesDep, SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.flash import drop_flash, read_flash, redirect_with
from tgadmin.webkit.i18n import page_language, translate
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)
JOB_PREFIX = "backfill-"


def _job(values: list[str]) -> list[str]:
    return [v for v in values if v.startswith(JOB_PREFIX) and v[len(JOB_PREFIX) :].isalnum()][:3]


@router.get("/analytics")
async def analytics(
    request: Request,
    session: SessionDep,
    operator: ViewerDep,
    span: SpanQuery = Span.WEEK,
    job: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    built = await report.build(session, span, zone(operator.time_zone))
    last = built.window.end.astimezone(zone(operator.time_zone))
    context = {
        "operator": operator,
        "csrf": request.state.csrf,
        "report": built,
        "span": span,
        "spans": list(Span),
        "top": report.TOP,
        "can_act": ROLE_RANK[operator.role] >= ROLE_RANK[OperatorRole.OPERATOR],
        "jobs": _job(job or []),
        "job_queue": JobName.ANALYTICS_BACKFILL.queue.value,
        "backfill_to": f"{last:%Y-%m-%dT%H:%M}",
        "flash": read_flash(request),
    }
    response = templates.TemplateResponse(request, "analytics.html", context)
    drop_flash(request, response, path="/analytics")
    return response


@router.get("/analytics/tables/{name}.csv")
async def analytics_csv(
    session: SessionDep, operator: ViewerDep, name: str, span: SpanQuery = Span.WEEK
) -> Response:
    """Every row of one table of the page, as CSV."""
    return csv_response(await one_table(session, span, name, operator.time_zone), span)


def _moment(value: str, field: str, time_zone: str) -> datetime:
    """A `datetime-local` field (in the operator's zone) or an ISO timestamp with its offset."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(f"{field}: {value!r} is not a date and time") from None
    return ensure_utc(moment if moment.tzinfo else moment.replace(tzinfo=zone(time_zone)))


@router.post("/analytics/backfill")
async def backfill(
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Annotated[str, Form()] = "",
    start: Annotated[str, Form(alias="from")] = "",
    end: Annotated[str, Form(alias="to")] = "",
    span: Annotated[str, Form(alias="range")] = Span.WEEK.value,
) -> RedirectResponse:
    """Queue `analytics-backfill` for the range, then back to the page, which follows the job."""
    check_csrf(state.settings, request.state.session_token, csrf)
    lang = page_language(request)
    back = f"/analytics?range={span if span in set(Span) else Span.WEEK.value}"
    try:
        ip = request.client.host if request.client else None
        first, last = _moment(start, "from", operator.time_zone), _moment(end, "to", operator.time_zone)
        queued = await start_backfill(work, queues, operator, ip, first, last)
    except TgadminError as error:
        text = translate("Nothing recomputed: %(why)s", lang) % {"why": error.message}
        return redirect_with(back, text, ok=False, path="/analytics")
    text = translate("Recomputing %(n)s hours: progress below.", lang) % {"n": queued.hours}
    return redirect_with(f"{back}&job={queued.job_id}", text, ok=True, path="/analytics")
