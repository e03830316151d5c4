"""The Posts page: post history across groups, filtered and paged on the server, and "Delete
selected" (one bulk delete job per group, whose progress the page then shows). Thin: the action runs
through actions.py, as the JSON API's does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tgadmin.clock import utcnow
from tgadmin.errors import TgadminError
from tgadmin.models import Operator
from tgadmin.models.enums import OperatorRole, PostKind, PostStatus
from tgadmin.operator.auth import ROLE_RANK, OperatorDep, ViewerDep, check_csrf
from tgadmin.post import actions, forms, service
from tgadmin.post.repository import HistoryFilter
from tgadmin.post.schemas import PostRead
from tgadmin.webkit.deps import QueuesDep, SessionDep, StateDep, UnitOfWorkDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.params import PageNumber
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
# The list's own query parameters: the only part of `back` a redirect keeps.
FILTERS = ("group_id", "status", "kind", "sent_from", "sent_to")
LIST_PARAMS = (*FILTERS, "page")


def can_act(operator: Operator) -> bool:
    return ROLE_RANK[operator.role] >= ROLE_RANK[OperatorRole.OPERATOR]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def history_filter(asked: Mapping[str, str], time_zone: str) -> HistoryFilter:
    group_id = forms.whole(asked["group_id"], "group")
    return service.history_filter(
        group_id=group_id if group_id and group_id > 0 else None,
        status=forms.choice(PostStatus, asked["status"], "status"),
        kind=forms.choice(PostKind, asked["kind"], "kind"),
        sent_from=forms.moment(asked["sent_from"], "from", time_zone),
        sent_to=forms.moment(asked["sent_to"], "to", time_zone, end_of_day=True),
    )


def list_params(back: str) -> dict[str, str]:
    return {key: value for key, value in parse_qsl(back) if key in LIST_PARAMS and value}


@router.get("/posts")
async def posts(
    request: Request,
    session: SessionDep,
    operator: ViewerDep,
    group_id: str = "",
    status: str = "",
    kind: str = "",
    sent_from: str = "",
    sent_to: str = "",
    page: PageNumber = 1,
    job: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    asked = {"group_id": group_id, "status": status, "kind": kind, "sent_from": sent_from, "sent_to": sent_to}
    items: list[PostRead] = []
    total, problem = 0, None
    try:
        rows, total = await service.history(
            session, history_filter(asked, operator.time_zone), limit=PER_PAGE, offset=(page - 1) * PER_PAGE
        )
        items = [PostRead.of(row) for row in rows]
    except TgadminError as error:
        problem = error.message
    query = {key: value for key, value in asked.items() if value}
    response = templates.TemplateResponse(
        request,
        "posts.html",
        {
            "operator": operator,
            "csrf": request.state.csrf,
            "can_act": can_act(operator),
            "asked": asked,
            "groups": await service.group_choices(session),
            "statuses": list(PostStatus),
            "kinds": list(PostKind),
            "items": items,
            "total": total,
            "problem": problem,
            "page": page,
            "pages": max((total + PER_PAGE - 1) // PER_PAGE, 1),
            "query": query,
            "back": forms.with_query("", {**query, **({"page": str(page)} if page > 1 else {})}).lstrip("?"),
            "jobs": forms.job_ids(job or []),
            "window_start": utcnow() - service.DELETE_WINDOW,
            "flash": read_flash(request),
        },
    )
    drop_flash(request, response, path="/posts")
    return response


@router.post("/posts/delete")
async def delete_selected(
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    queues: QueuesDep,
    csrf: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
    post: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Delete the checked posts: one `delete-messages-bulk` job per group, then back to the list,
    which follows the jobs."""
    check_csrf(state.settings, request.state.session_token, csrf)
    kept = list_params(back)
    try:
        ids = [forms.whole(value, "post") or 0 for value in post or []]
        actor = actions.actor_of(operator, client_ip(request))
        queued = await actions.delete_posts(work.session, work.after_commit, queues, actor, ids)
    except TgadminError as error:
        return _back(kept, Flash("Nothing deleted: %(why)s", why=error.message), ok=False)
    messages = sum(item.messages for item in queued)
    text = Flash(
        "Deleting %(messages)s messages in %(groups)s groups: progress below.",
        messages=messages,
        groups=len(queued),
    )
    return _back(kept, text, ok=True, jobs=[item.job_id for item in queued])


def _back(
    kept: dict[str, str], message: Flash | str, *, ok: bool, jobs: list[str] | None = None
) -> RedirectResponse:
    return redirect_with(forms.with_query("/posts", kept, jobs or []), message, ok=ok, path="/posts")
