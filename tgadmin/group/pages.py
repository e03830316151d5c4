"""The Groups pages: the list (filters, pages, "Sync all") and a group's page (facts, the bot's rights
and what is missing, sync, activate, cooldown, last posts, send a message with a preview).

Thin: the rules are in actions.py, shared with the JSON API. Each button is a POST form with the
session's CSRF token; actions that run as jobs come back with `?job=<queue>:<id>` and the page
follows the job (`_job.html`). A message refused for its content comes back in the form, as typed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tgadmin.errors import InvalidInput, TgadminError
from tgadmin.group import actions
from tgadmin.group.repository import GroupFilter
from tgadmin.group.schemas import (
    MAX_COOLDOWN_SECONDS,
    ButtonCreate,
    GroupRead,
    GroupUpdate,
    JobStarted,
    MessageCreate,
)
from tgadmin.models import Operator
from tgadmin.models.enums import OperatorRole
from tgadmin.operator.auth import OperatorDep, ViewerDep, check_csrf
from tgadmin.queue.names import QueueName
from tgadmin.storage import get_storage
from tgadmin.webkit.deps import QueuesDep, SessionDep, StateDep, UnitOfWork, UnitOfWorkDep
from tgadmin.webkit.flash import Flash, drop_flash, read_flash, redirect_with
from tgadmin.webkit.params import PageNumber, RowId
from tgadmin.webkit.templating import templates

router = APIRouter(include_in_schema=False)

PER_PAGE = 50
# The list counts this many groups past the page's start and no further ("10000+ groups"): an exact
# count of 100,000 groups costs more than the rest of the page.
COUNTED = 10_000
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
Field = Annotated[str, Form()]
Fields = Annotated[list[str], Form()]


def _tristate(text: str) -> bool | None:
    return {"yes": True, "no": False}.get(text)


def _job(text: str) -> dict[str, str] | None:
    """`bot-tasks:<id>` from the query, or None when it is not one of ours."""
    queue, _, job_id = text.partition(":")
    if queue not in {q.value for q in QueueName} or not JOB_ID.match(job_id):
        return None
    return {"queue": queue, "id": job_id}


def _to_job(url: str, started: JobStarted, path: str) -> RedirectResponse:
    joiner = "&" if "?" in url else "?"
    where = f"{url}{joiner}{urlencode({'job': f'{started.queue}:{started.job_id}'})}"
    return redirect_with(where, started.said(), ok=True, path=path)


@router.get("/groups")
async def groups(
    request: Request,
    session: SessionDep,
    operator: ViewerDep,
    active: str = "",
    admin: str = "",
    missing: str = "",
    q: str = "",
    page: PageNumber = 1,
    job: str = "",
) -> HTMLResponse:
    title = q.strip()[:255]
    where = GroupFilter(_tristate(active), _tristate(admin), bool(missing), title or None)
    offset = (page - 1) * PER_PAGE
    rows, counted = await actions.list_groups(
        session, where, limit=PER_PAGE, offset=offset, count_up_to=offset + COUNTED + 1
    )
    more = counted > offset + COUNTED
    total = offset + COUNTED if more else counted
    pages = max((total + PER_PAGE - 1) // PER_PAGE, 1)
    query = {k: v for k, v in (("active", active), ("admin", admin), ("missing", missing), ("q", title)) if v}
    response = templates.TemplateResponse(
        request,
        "groups.html",
        {
            "operator": operator,
            "csrf": request.state.csrf,
            "groups": [GroupRead.of(g) for g in rows],
            "total": f"{total}+" if more else total,
            "filters": {"active": active, "admin": admin, "missing": bool(missing), "q": title},
            "query": query,
            "page": page,
            "pages": f"{pages}+" if more else pages,
            "more": more,
            "flash": read_flash(request),
            "follow": _job(job),
        },
    )
    drop_flash(request, response, path="/groups")
    return response


@router.post("/groups/sync")
async def sync_all(
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Field = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    started = await actions.sync_all(work.session, work.after_commit, queues, operator)
    return _to_job("/groups", started, "/groups")


async def _detail(
    request: Request,
    work: UnitOfWork,
    operator: Operator,
    group_id: int,
    *,
    job: str = "",
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    group = await actions.load(work.session, group_id)
    response = templates.TemplateResponse(
        request,
        "groups_detail.html",
        {
            "operator": operator,
            "can_act": operator.role is not OperatorRole.VIEWER,
            "csrf": request.state.csrf,
            "group": GroupRead.of(group),
            "posts": await actions.recent_posts(work.session, group.id),
            "flash": read_flash(request),
            "follow": _job(job),
            "form": form or {"text": "", "buttons": [], "photo_asset_id": ""},
            "error": error,
            "max_cooldown": MAX_COOLDOWN_SECONDS,
        },
        status_code=status_code,
    )
    drop_flash(request, response, path=f"/groups/{group_id}")
    return response


@router.get("/groups/{group_id}")
async def group_page(
    group_id: RowId, request: Request, work: UnitOfWorkDep, operator: ViewerDep, job: str = ""
) -> HTMLResponse:
    return await _detail(request, work, operator, group_id, job=job)


def _back(group_id: int, message: Flash | str, *, ok: bool) -> RedirectResponse:
    return redirect_with(f"/groups/{group_id}", message, ok=ok, path=f"/groups/{group_id}")


@router.post("/groups/{group_id}/sync")
async def sync_one(
    group_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Field = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        started = await actions.sync_one(work.session, work.after_commit, queues, operator, group_id)
    except TgadminError as error:
        return _back(group_id, error.message, ok=False)
    return _to_job(f"/groups/{group_id}", started, f"/groups/{group_id}")


@router.post("/groups/{group_id}/settings")
async def group_settings(
    group_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Field = "",
    active: Field = "",
    cooldown: Field = "",
    tags: Annotated[str | None, Form()] = None,
) -> Response:
    """Activate/deactivate (`active` yes/no), set the cooldown (`cooldown` seconds) or the tags."""
    check_csrf(state.settings, request.state.session_token, csrf)
    try:
        change = GroupUpdate(
            is_active=_tristate(active),
            cooldown_seconds=actions.parse_cooldown(cooldown) if cooldown else None,
            tags=None if tags is None else actions.parse_tags(tags),
        )
        group = await actions.update(work.session, operator, group_id, change)
    except TgadminError as error:
        return _back(group_id, error.message, ok=False)
    said = (
        "%(title)s: active, cooldown %(seconds)s s"
        if group.is_active
        else "%(title)s: inactive, cooldown %(seconds)s s"
    )
    flash = Flash(said, title=group.title, seconds=group.cooldown_seconds)
    if group.tags:
        flash = Flash("%(what)s, tags %(tags)s", what=flash, tags=", ".join(group.tags))
    return _back(group_id, flash, ok=True)


def _buttons(texts: list[str], urls: list[str]) -> list[ButtonCreate]:
    found = []
    for index, (text, url) in enumerate(zip(texts, urls, strict=False), start=1):
        if not text.strip() and not url.strip():
            continue
        if not text.strip() or not url.strip():
            raise InvalidInput(f"button {index} needs both a text and an https:// address")
        found.append(ButtonCreate.model_construct(text=text, url=url))
    return found


def _message(text: str, texts: list[str], urls: list[str], asset_id: int | None) -> MessageCreate:
    if not text.strip():
        raise InvalidInput("write the message first")
    return MessageCreate.model_construct(
        text=text, buttons=_buttons(texts, urls), photo_asset_id=asset_id, disable_notification=False
    )


def _asset_id(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < int(text) < 2**63 else None


@router.post("/groups/{group_id}/preview")
async def preview(
    group_id: RowId,
    request: Request,
    session: SessionDep,
    state: StateDep,
    operator: OperatorDep,
    csrf: Field = "",
    text: Field = "",
    button_text: Fields = [],  # noqa: B006 - FastAPI copies defaults
    button_url: Fields = [],  # noqa: B006
    photo: UploadFile | None = None,
    photo_asset_id: Field = "",
) -> HTMLResponse:
    """The htmx fragment under the form: the message as Telegram will show it, or why it would not."""
    check_csrf(state.settings, request.state.session_token, csrf)
    await actions.load(session, group_id)
    has_photo = bool(photo and photo.filename) or bool(_asset_id(photo_asset_id))
    context: dict[str, Any] = {"has_photo": has_photo}
    try:
        message = _message(text, button_text, button_url, _asset_id(photo_asset_id))
        if message.photo_asset_id is not None:
            context["preview"] = await actions.preview(session, message)
        else:  # a photo chosen but not uploaded yet is checked for what matters here: the caption
            context["preview"] = actions.check_message(message, caption=has_photo)
    except TgadminError as error:
        context["error"] = error.message
    return templates.TemplateResponse(request, "groups_preview.html", context)


@router.post("/groups/{group_id}/send")
async def send(
    group_id: RowId,
    request: Request,
    work: UnitOfWorkDep,
    state: StateDep,
    queues: QueuesDep,
    operator: OperatorDep,
    csrf: Field = "",
    text: Field = "",
    button_text: Fields = [],  # noqa: B006 - FastAPI copies defaults
    button_url: Fields = [],  # noqa: B006
    photo: UploadFile | None = None,
    photo_asset_id: Field = "",
) -> Response:
    check_csrf(state.settings, request.state.session_token, csrf)
    asset_id = _asset_id(photo_asset_id)
    typed = {
        "text": text,
        "buttons": list(zip(button_text, button_url, strict=False)),
        "photo_asset_id": asset_id or "",
    }
    try:
        if photo is not None and photo.filename:
            data = await photo.read(actions.PHOTO_LIMIT_BYTES + 1)
            asset = await actions.store_photo(work.session, get_storage(state.settings), operator, data)
            asset_id = typed["photo_asset_id"] = asset.id
        message = _message(text, button_text, button_url, asset_id)
        started = await actions.send(work.session, work.after_commit, queues, operator, group_id, message)
    except TgadminError as error:
        # Nothing is queued; what was typed (and a photo already kept) comes back in the form.
        return await _detail(
            request, work, operator, group_id, form=typed, error=error.message, status_code=error.status_code
        )
    return _to_job(f"/groups/{group_id}", started, f"/groups/{group_id}")
