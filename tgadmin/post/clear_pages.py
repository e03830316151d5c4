"""Clear a group with filters (date range, older than N days, message-id range): the page counts
what will be deleted, and what is past Telegram's 48 hours and will be marked undeletable instead,
before the operator confirms (the count refreshes as the filters change); confirming starts one
`clear-all-messages` job and the page follows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tgadmin.errors import TgadminError
from tgadmin.operator.auth import OperatorDep, ViewerDep, check_csrf
from tgadmin.post import actions, forms, service
from tgadmin.post.pages import can_act, client_ip
from tgadmin.post.service import ClearAsk, ClearCount
from tgadmin.webkit.deps import QueuesDep, SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.params import RowId
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

FIELDS = ("from_date", "to_date", "older_than_days", "from_message_id", "to_message_id")
Field = Annotated[str, Query()]


def clear_ask(fields: Mapping[str, str], time_zone: str) -> ClearAsk:
    return ClearAsk(
        from_date=forms.moment(fields["from_date"], "from", time_zone),
        to_date=forms.moment(fields["to_date"], "to", time_zone, end_of_day=True),
        older_than_days=forms.whole(fields["older_than_days"], "older than (days)"),
        from_message_id=forms.whole(fields["from_message_id"], "from message id"),
        to_message_id=forms.whole(fields["to_message_id"], "to message id"),
    )


async def _count(
    session: AsyncSession, group_id: int, fields: Mapping[str, str], time_zone: str
) -> tuple[ClearCount | None, str | None]:
    try:
        return await actions.count_clear(session, group_id, clear_ask(fields, time_zone)), None
    except TgadminError as error:
        return None, error.message


def _fields(
    from_date: str, to_date: str, older_than_days: str, from_message_id: str, to_message_id: str
) -> dict[str, str]:
    return dict(
        zip(FIELDS, (from_date, to_date, older_than_days, from_message_id, to_message_id), strict=True)
    )


@router.get("/groups/{group_id}/clear")
async def clear_page(
    group_id: RowId,
    request: Request,
    session: SessionDep,
    operator: ViewerDep,
    from_date: str = "",
    to_date: str = "",
    older_than_days: str = "",
    from_message_id: str = "",
    to_message_id: str = "",
    job: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    group = await service.clearable_group(session, group_id)
    fields = _fields(from_date, to_date, older_than_days, from_message_id, to_message_id)
    count, problem = await _count(session, group_id, fields, operator.time_zone)
    path = f"/groups/{group_id}/clear"
    response = templates.TemplateResponse(
        request,
        "posts_clear.html",
        {
            "operator": operator,
            "csrf": request.state.csrf,
            "can_act": can_act(operator),
            "group": group,
            "fields": fields,
            "count": count,
            "problem": problem,
            "jobs": forms.job_ids(job or []),
            "flash": read_flash(request),
        },
    )
    drop_flash(request, response, path=path)
    return response


@router.get("/groups/{group_id}/clear/count")
async def clear_count(
    group_id: RowId,
    request: Request,
    session: SessionDep,
    operator: ViewerDep,
    from_date: str = "",
    to_date: str = "",
    older_than_days: str = "",
    from_message_id: str = "",
    to_message_id: str = "",
) -> HTMLResponse:
    """The count alone (the page's htmx asks for it whenever a filter changes)."""
    fields = _fields(from_date, to_date, older_than_days, from_message_id, to_message_id)
    count, problem = await _count(session, group_id, fields, operator.time_zone)
    return templates.TemplateResponse(request, "posts_clear_count.html", {"count": count, "problem": problem})


@router.post("/groups/{group_id}/clear")
async def clear(
    group_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    queues: QueuesDep,
    csrf: Annotated[str, Form()] = "",
    from_date: Annotated[str, Form()] = "",
    to_date: Annotated[str, Form()] = "",
    older_than_days: Annotated[str, Form()] = "",
    from_message_id: Annotated[str, Form()] = "",
    to_message_id: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    fields = _fields(from_date, to_date, older_than_days, from_message_id, to_message_id)
    path = f"/groups/{group_id}/clear"
    try:
        actor = actions.actor_of(operator, client_ip(request))
        queued, counted = await actions.clear_group(
            work.session, work.after_commit, queues, actor, group_id, clear_ask(fields, operator.time_zone)
        )
    except TgadminError as error:
        message = Flash("Nothing cleared: %(why)s", why=error.message)
        return redirect_with(forms.with_query(path, fields), message, ok=False, path=path)
    message = Flash(
        "Clearing %(matched)s messages (%(old)s past 48 hours will be marked undeletable): progress below.",
        matched=counted.matched,
        old=counted.past_window,
    )
    return redirect_with(forms.with_query(path, fields, [queued.job_id]), message, ok=True, path=path)
